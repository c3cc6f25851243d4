#include "classifiers/legacy_decoder.h"

#include <catch2/catch.hpp>
#include <iconv.h>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include <string>
#include <thread>
#include <vector>

namespace {

using promptwall::LegacyDecoder;
using promptwall::LegacyText;

const LegacyDecoder& decoder() {
  static const LegacyDecoder d;  // immutable after construction; shared by all tests
  return d;
}

constexpr const char* kNone = "<nullopt>";

std::string decoded(std::string_view in) {
  const auto r = decoder().decode(in);
  return r ? r->text : std::string(kNone);
}

size_t utf8_len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

bool is_nfc(const std::string& s) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  const bool ok = nfc->isNormalized(icu::UnicodeString::fromUTF8(s), status);
  return U_SUCCESS(status) && ok;
}

// The header's invariants: one span per output byte, shared by the bytes of a character, never
// decreasing, covering the input without gaps but for whole lines left out (a gap runs from a
// line's start to a line break); output is NFC.
void check_map(std::string_view in, const LegacyText& out) {
  REQUIRE(out.src_begin.size() == out.text.size());
  REQUIRE(out.src_end.size() == out.text.size());
  CHECK(is_nfc(out.text));
  uint32_t prev_b = 0;
  uint32_t prev_e = 0;
  bool first = true;
  for (size_t i = 0; i < out.text.size();) {
    const size_t len = utf8_len(static_cast<unsigned char>(out.text[i]));
    REQUIRE(i + len <= out.text.size());
    const uint32_t b = out.src_begin[i];
    const uint32_t e = out.src_end[i];
    for (size_t k = i; k < i + len; ++k) {
      CHECK(out.src_begin[k] == b);
      CHECK(out.src_end[k] == e);
    }
    CHECK(b < e);
    CHECK(e <= in.size());
    if (first) {
      CHECK((b == 0 || in[b] == '\n'));
    } else {
      CHECK(b >= prev_b);
      CHECK(e >= prev_e);
      const bool line_gap = b > prev_e && in[prev_e - 1] == '\n' && in[b] == '\n';
      CHECK((b == prev_e || (b == prev_b && e == prev_e) || line_gap));
    }
    first = false;
    prev_b = b;
    prev_e = e;
    i += len;
  }
  if (!out.text.empty()) CHECK((prev_e == in.size() || in[prev_e - 1] == '\n'));
}

// The input bytes that produced the output character starting at byte `at` of the output.
std::string source_of(std::string_view in, const LegacyText& out, std::string_view ch) {
  const size_t at = out.text.find(ch);
  REQUIRE(at != std::string::npos);
  return std::string(in.substr(out.src_begin[at], out.src_end[at] - out.src_begin[at]));
}

LegacyText require_decoded(std::string_view in) {
  auto r = decoder().decode(in);
  REQUIRE(r.has_value());
  check_map(in, *r);
  return *r;
}

// Unicode -> TCVN3 bytes with glibc, then each byte as the Latin-1 code point a TCVN3 document
// shows once it is pasted as Unicode.
std::string tcvn3_pasted(const std::string& unicode) {
  iconv_t cd = iconv_open("TCVN5712-1", "UTF-8");
  REQUIRE(cd != reinterpret_cast<iconv_t>(-1));
  std::string in = unicode;
  std::string bytes(in.size() * 4 + 16, '\0');
  char* ip = in.data();
  size_t il = in.size();
  char* op = bytes.data();
  size_t ol = bytes.size();
  const size_t rc = iconv(cd, &ip, &il, &op, &ol);
  iconv(cd, nullptr, nullptr, &op, &ol);
  iconv_close(cd);
  REQUIRE(rc != static_cast<size_t>(-1));
  bytes.resize(static_cast<size_t>(op - bytes.data()));
  std::string out;
  for (unsigned char b : bytes) {
    if (b < 0x80) {
      out.push_back(static_cast<char>(b));
    } else {
      out.push_back(static_cast<char>(0xC0 | (b >> 6)));
      out.push_back(static_cast<char>(0x80 | (b & 0x3F)));
    }
  }
  return out;
}

std::string lower(const std::string& s) {
  std::string out;
  icu::UnicodeString::fromUTF8(s).toLower().toUTF8String(out);
  return out;
}

}  // namespace

TEST_CASE("VIQR examples decode", "[legacy][viqr]") {
  CHECK(decoded("TUYE^.T MA^.T") == "TUYỆT MẬT");
  CHECK(decoded("TO^'I MA^.T") == "TỐI MẬT");
  CHECK(decoded("Danh sa'ch ca'n bo^. du+. nguo^`n") == "Danh sách cán bộ dự nguồn");
  CHECK(decoded("DDe^` a'n to^? chu+'c la.i lu+.c lu+o+.ng") == "Đề án tổ chức lại lực lượng");
  CHECK(decoded("Ddi dda^u") == "Đi đâu");
  CHECK(decoded("ngu+o+`i Vie^.t") == "người Việt");
  CHECK(decoded("a^'") == "ấ");
  // A sentence-final period after a modifier-tone stays a period.
  CHECK(decoded("Ta`i lie^.u MA^.T.") == "Tài liệu MẬT.");
}

TEST_CASE("VIQR stamps round trip", "[legacy][viqr]") {
  CHECK(decoded("TUYE^.T MA^.T") == "TUYỆT MẬT");
  CHECK(decoded("TO^'I MA^.T") == "TỐI MẬT");
  CHECK(decoded("MA^.T") == "MẬT");
  CHECK(decoded("tuye^.t ma^.t") == "tuyệt mật");
  CHECK(decoded("to^'i ma^.t") == "tối mật");
  CHECK(decoded("ma^.t") == "mật");
  CHECK(decoded("DDo^. MA^.T: TUYE^.T MA^.T") == "Độ MẬT: TUYỆT MẬT");
}

TEST_CASE("TCVN3 example decodes", "[legacy][tcvn3]") {
  CHECK(decoded("TUYÖT MËT - §Ò ¸n tæ chøc l¹i lùc l\u00ADîng") ==
        "TUYệT MậT - Đề án tổ chức lại lực lượng");
  CHECK(decoded("TUYÖT MËT") == "TUYệT MậT");
}

TEST_CASE("TCVN3 stamps round trip", "[legacy][tcvn3]") {
  // As ABC fonts write them: upper-case text keeps the lower-case toned slots.
  CHECK(decoded("TUYÖT MËT") == "TUYệT MậT");
  CHECK(decoded("TèI MËT") == "TốI MậT");
  CHECK(decoded("MËT") == "MậT");
  CHECK(decoded("tuyÖt mËt") == "tuyệt mật");
  CHECK(decoded("tèi mËt") == "tối mật");
  CHECK(decoded("mËt") == "mật");
  // Encoded by glibc, decoded by us: the lower-case forms come back exactly.
  for (const std::string stamp : {"tuyệt mật", "tối mật", "mật", "đề án tổ chức lại lực lượng"}) {
    const std::string legacy = tcvn3_pasted(stamp);
    CAPTURE(stamp, legacy);
    CHECK(legacy != stamp);
    CHECK(decoded(legacy) == stamp);
  }
  // Upper-case stamps through glibc (which has some upper-case toned slots) fold back.
  for (const std::string stamp : {"TUYỆT MẬT", "TỐI MẬT", "MẬT"}) {
    const std::string legacy = tcvn3_pasted(lower(stamp));
    CHECK(lower(decoded(legacy)) == lower(stamp));
  }
}

TEST_CASE("VNI samples decode", "[legacy][vni]") {
  CHECK(decoded("TUYEÄT MAÄT") == "TUYỆT MẬT");
  CHECK(decoded("Vieät Nam") == "Việt Nam");
  CHECK(decoded("Ñeà aùn") == "Đề án");
  CHECK(decoded("toái maät") == "tối mật");
  CHECK(decoded("maät") == "mật");
  CHECK(decoded("Xin chaøo caùc baïn") == "Xin chào các bạn");
  CHECK(decoded("ñöôïc ngöôøi") == "được người");
  CHECK(decoded("Cô quan ñieàu tra") == "Cơ quan điều tra");
  CHECK(decoded("Ñeà aùn toå chöùc laïi löïc löôïng") == "Đề án tổ chức lại lực lượng");
  CHECK(decoded("hoaëc chuyeån") == "hoặc chuyển");
}

TEST_CASE("VNI stamps round trip", "[legacy][vni]") {
  CHECK(decoded("TUYEÄT MAÄT") == "TUYỆT MẬT");
  CHECK(decoded("TOÁI MAÄT") == "TỐI MẬT");
  CHECK(decoded("MAÄT") == "MẬT");
  CHECK(decoded("tuyeät maät") == "tuyệt mật");
  CHECK(decoded("toái maät") == "tối mật");
  CHECK(decoded("maät") == "mật");
}

TEST_CASE("text without legacy encoding is rejected", "[legacy][negative]") {
  CHECK(decoded("") == kNone);
  CHECK(decoded("Please summarise the attached quarterly report for the board.") == kNone);
  CHECK(decoded("Tài liệu này rất quan trọng") == kNone);
  CHECK(decoded("Are you sure? Yes.") == kNone);
  CHECK(decoded("Are you?") == kNone);
  CHECK(decoded("don't") == kNone);
  CHECK(decoded("It's fine, you're right, I'd say we'll see. O'Brien's o'clock.") == kNone);
  CHECK(decoded("I'm at the office at 9 a.m., e.g. today, i.e. now.") == kNone);
  CHECK(decoded("Open file.txt, go.mod and www.example.com/index.php?id=3") == kNone);
  CHECK(decoded("Compute a^2 + b^2, u+1, (u+v) and f(a(b)); take a(n) apple; C++") == kNone);
  CHECK(decoded("Run dd if=/dev/zero of=disk.img and see PROGRA~1") == kNone);
  CHECK(decoded("`code` and ~~strike~~") == kNone);
  // Western European words built from the same Latin-1 letters.
  CHECK(decoded("Un café naïve à l'aéroport, où est Noël? Möbel für Zürich, señor, São Paulo, "
                "garçon, Søren, ©2024 Microsoft®, «Bonjour», 25°C, £5") == kNone);
  // Unicode Vietnamese whose words also spell VNI or TCVN3 look-alikes.
  CHECK(decoded("phiền toái, hoàng gia, khoá học, toàn bộ, Tôi là ai, có") == kNone);
  CHECK(decoded("HOÀNG TOÀN KHOÁ") == kNone);
}

TEST_CASE("legacy words inside Unicode Vietnamese text", "[legacy][mixed]") {
  CHECK(decoded("Tài liệu sau đây là TUYE^.T MA^.T, xin tóm tắt.") ==
        "Tài liệu sau đây là TUYỆT MẬT, xin tóm tắt.");
  CHECK(decoded("Tài liệu: TUYEÄT MAÄT") == "Tài liệu: TUYỆT MẬT");
  CHECK(decoded("Tài liệu: TUYÖT MËT") == "Tài liệu: TUYệT MậT");
  // Weak words are not re-read once the text is known to hold Unicode Vietnamese.
  CHECK(decoded("Hoàng đọc TUYEÄT MAÄT") == "Hoàng đọc TUYỆT MẬT");
}

TEST_CASE("stamps pasted into English prompts", "[legacy][mixed]") {
  CHECK(decoded("Please summarize this TUYÖT MËT document.") ==
        "Please summarize this TUYệT MậT document.");
  CHECK(decoded("Please summarize this TUYEÄT MAÄT document.") ==
        "Please summarize this TUYỆT MẬT document.");
  CHECK(decoded("Please summarize this TUYE^.T MA^.T document.") ==
        "Please summarize this TUYỆT MẬT document.");
  CHECK(decoded("Classification: TOÁI MAÄT. Do not share.") ==
        "Classification: TỐI MẬT. Do not share.");
  CHECK(decoded("Classification: TèI MËT. Do not share.") == "Classification: TốI MậT. Do not share.");
  CHECK(decoded("COÂNG VAÊN MAÄT SOÁ 12/BQP - ÑOÄ MAÄT: TUYEÄT MAÄT") ==
        "CÔNG VĂN MẬT SỐ 12/BQP - ĐỘ MẬT: TUYỆT MẬT");
}

TEST_CASE("whole legacy sentences", "[legacy][mixed]") {
  const std::string unicode =
      "Nghiêm cấm sao chụp, phát tán dưới mọi hình thức khi chưa được phép của cơ quan chủ quản.";
  CHECK(decoded("Nghie^m ca^'m sao chu.p, pha't ta'n du+o+'i mo.i hi`nh thu+'c khi chu+a "
                "ddu+o+.c phe'p cu?a co+ quan chu? qua?n.") == unicode);
  CHECK(decoded("Nghieâm caám sao chuïp, phaùt taùn döôùi moïi hình thöùc khi chöa ñöôïc "
                "pheùp cuûa cô quan chuû quaûn.") == unicode);
  CHECK(decoded("Nghi\u00AAm c\u00CAm sao ch\u00F4p, ph\u00B8t t\u00B8n d\u00AD\u00EDi "
                "m\u00E4i h\u00D7nh th\u00F8c khi ch\u00ADa \u00AE\u00AD\u00EEc ph\u00D0p "
                "c\u00F1a c\u00AC quan ch\u00F1 qu\u00B6n.") == unicode);
  CHECK(decoded(tcvn3_pasted(unicode)) == unicode);
  // A word-final ' ? . is a (weak) tone when the sentence goes on in lower case.
  CHECK(decoded("bi' ma^.t, tre? tuo^?i, nghi~a vu., giu+~a") == "bí mật, trẻ tuổi, nghĩa vụ, giữa");
  CHECK(decoded("Is it you? maybe. I'm sure 'no' is fine") == kNone);
}

TEST_CASE("several encodings in one text", "[legacy][mixed]") {
  const std::string in = "A: TUYE^.T MA^.T / B: TUYEÄT MAÄT / C: TUYÖT MËT";
  const LegacyText out = require_decoded(in);
  CHECK(out.text == "A: TUYỆT MẬT / B: TUYỆT MẬT / C: TUYệT MậT");
}

TEST_CASE("symbols glued to a legacy word", "[legacy][mixed]") {
  CHECK(decoded("«TUYÖT MËT»") == "«TUYệT MậT»");
  CHECK(decoded("«MA^.T»") == "«MẬT»");
  CHECK(decoded("(TUYE^.T MA^.T)") == "(TUYỆT MẬT)");
}

TEST_CASE("offset map: VIQR", "[legacy][offsets]") {
  const std::string in = "ca^'n TUYE^.T MA^.T.";
  const LegacyText out = require_decoded(in);
  CHECK(out.text == "cấn TUYỆT MẬT.");
  CHECK(source_of(in, out, "ấ") == "a^'");
  CHECK(source_of(in, out, "Ệ") == "E^.");
  CHECK(source_of(in, out, "Ậ") == "A^.");
  // ấ is three output bytes, all mapping to the three input bytes a^'.
  const size_t at = out.text.find("ấ");
  for (size_t k = at; k < at + 3; ++k) {
    CHECK(out.src_begin[k] == 1);
    CHECK(out.src_end[k] == 4);
  }
  // Unchanged characters map to themselves.
  CHECK(out.src_begin[0] == 0);
  CHECK(out.src_end[0] == 1);
  CHECK(out.src_begin.back() == in.size() - 1);
  CHECK(out.src_end.back() == in.size());

  const std::string dd = "DDe^` a'n";
  const LegacyText o2 = require_decoded(dd);
  CHECK(source_of(dd, o2, "Đ") == "DD");
  CHECK(source_of(dd, o2, "ề") == "e^`");
}

TEST_CASE("offset map: TCVN3 and VNI", "[legacy][offsets]") {
  const std::string tcvn = "TUYÖT MËT - §Ò ¸n tæ chøc l¹i lùc l\u00ADîng";
  const LegacyText t = require_decoded(tcvn);
  CHECK(source_of(tcvn, t, "ệ") == "Ö");
  CHECK(source_of(tcvn, t, "ậ") == "Ë");
  CHECK(source_of(tcvn, t, "Đ") == "§");
  CHECK(source_of(tcvn, t, "ư") == "\u00AD");

  const std::string vni = "TUYEÄT MAÄT, Ñeà aùn, ñöôïc";
  const LegacyText v = require_decoded(vni);
  CHECK(v.text == "TUYỆT MẬT, Đề án, được");
  CHECK(source_of(vni, v, "Ệ") == "EÄ");
  CHECK(source_of(vni, v, "Ậ") == "AÄ");
  CHECK(source_of(vni, v, "Đ") == "Ñ");
  CHECK(source_of(vni, v, "ề") == "eà");
  CHECK(source_of(vni, v, "ợ") == "ôï");
}

TEST_CASE("offset map invariants over assorted inputs", "[legacy][offsets]") {
  for (const std::string in : {
           "TUYE^.T MA^.T",
           "Danh sa'ch ca'n bo^. du+. nguo^`n",
           "TUYÖT MËT - §Ò ¸n tæ chøc l¹i lùc l\u00ADîng",
           "Vieät Nam, Ñeà aùn, toái maät",
           "Tài liệu: TUYEÄT MAÄT 🙂 日本語 ends here",
           "«MA^.T» and «TUYÖT»",
       }) {
    CAPTURE(in);
    require_decoded(in);
  }
}

TEST_CASE("output stays NFC next to combining marks", "[legacy][nfc]") {
  // A combining mark after a candidate word would compose with the decoded letter: left alone.
  CHECK(decoded("MËT\u0301") == kNone);
  const auto r = decoder().decode("MA^.T \u0301 TUYÖT");
  REQUIRE(r.has_value());
  CHECK(is_nfc(r->text));
}

TEST_CASE("malformed UTF-8 is copied through", "[legacy][robustness]") {
  const std::string in = std::string("MA^.T \xff\xfe TUY") + "\xc3";
  const auto r = decoder().decode(in);
  REQUIRE(r.has_value());
  CHECK(r->text.substr(0, 5) == "MẬT");
  CHECK(r->src_begin.size() == r->text.size());
  CHECK(r->text.substr(r->text.size() - 7) == "\xff\xfe TUY\xc3");
}

TEST_CASE("decode is const and safe to share across threads", "[legacy][threads]") {
  const LegacyDecoder d;
  std::vector<std::thread> threads;
  std::vector<int> ok(8, 0);
  for (size_t t = 0; t < ok.size(); ++t) {
    threads.emplace_back([&d, &ok, t] {
      for (int k = 0; k < 200; ++k) {
        const auto a = d.decode("TUYE^.T MA^.T");
        const auto b = d.decode("TUYÖT MËT");
        const auto c = d.decode("TUYEÄT MAÄT");
        const auto e = d.decode("plain text");
        if (a && a->text == "TUYỆT MẬT" && b && b->text == "TUYệT MậT" && c &&
            c->text == "TUYỆT MẬT" && !e) {
          ++ok[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int v : ok) CHECK(v == 200);
}

TEST_CASE("the legacy gate finds evidence at every position of a 16-byte block and passes plain text", "[legacy]") {
  // The gate looks at 16 bytes at a time; each piece of evidence lands on every offset of a
  // block (and straddles two), after plain ASCII or Unicode Vietnamese that holds gate bytes
  // of its own (d, à/é/ô... which are C3 xx in UTF-8) without any evidence.
  const std::string plain_ascii = "add d odd Dan id ";
  const std::string plain_vn = "đà đó đi dò vé ô giá giúp ";
  for (const std::string& filler : {plain_ascii, plain_vn}) {
    for (size_t prefix = 0; prefix <= 40; ++prefix) {
      std::string lead;
      while (lead.size() < prefix) lead += filler;
      lead.resize(prefix);
      while (!lead.empty() && (static_cast<unsigned char>(lead.back()) & 0xC0) == 0x80) lead.pop_back();
      while (!lead.empty() && static_cast<unsigned char>(lead.back()) >= 0xC0) lead.pop_back();
      INFO("prefix " << lead.size() << " of \"" << filler << "\"");
      CHECK(decoded(lead + filler) == kNone);
      CHECK(decoded(lead + "\nTUYE^.T MA^.T\n") != kNone);  // VIQR
      CHECK(decoded(lead + "\nTUYÖT MËT\n") != kNone);       // TCVN3
      CHECK(decoded(lead + "\nTUYEÄT MAÄT\n") != kNone);     // VNI
      CHECK(decoded(lead + "\nddi.nh ky`\n") != kNone);      // VIQR dd
    }
  }
}

TEST_CASE("i before a Latin-1 vowel letter is no evidence (giá, giúp), and legacy words beside it still decode",
          "[legacy]") {
  // "gi" is a consonant, and VNI writes toned i as glyphs of their own, never i + mark: the
  // gate lets these pass without a word-by-word decode.
  CHECK(decoded("Giá cả tăng, giúp tôi giây lát, giữ giò") == kNone);
  CHECK(decoded("GIÁ GIÚP GIÂY") == kNone);
  CHECK(decoded("gia\u0301 gi\u00FAp") == kNone);
  // The same words next to legacy text: the text is still decoded.
  CHECK(decoded("giá\nTUYEÄT MAÄT").find("TUYỆT MẬT") != std::string::npos);
  CHECK(decoded("Tiếng Việt: giá giúp\nTUYEÄT MAÄT").find("TUYỆT MẬT") != std::string::npos);
  CHECK(decoded("giúp TUYÖT MËT").find("TUYệT MậT") != std::string::npos);
}

TEST_CASE("in Unicode text, exactly the lines with evidence of their own are decoded, wherever they sit",
          "[legacy][mixed]") {
  // The gate goes from one line with evidence to the next: a line whose evidence does not decode
  // (a German name) is skipped, lines without any are left out of the view, and evidence never
  // spans a line break (a d ending one line and a d starting the next are no dd).
  const std::string unicode = "Tài liệu gửi ông Hoàng đọc trước.\n";
  const std::string stray = "Người nhận: ông Müller, phòng số 4.\n";
  const std::string split_dd = "Báo cáo của phòng d\nd\n";
  const std::vector<std::pair<std::string, std::string>> legacies = {
      {"TUYE^.T MA^.T - ke^' hoa.ch\n", "TUYỆT MẬT - kế hoạch\n"},
      {"TUYÖT MËT - §Ò ¸n\n", "TUYệT MậT - Đề án\n"},
      {"ddi.nh ky` ba'o ca'o\n", "định kỳ báo cáo\n"}};
  for (const auto& [legacy, plain] : legacies) {
    for (size_t before = 0; before < 3; ++before) {
      std::string text;
      for (size_t k = 0; k < before; ++k) text += k % 2 ? stray : unicode;
      text += split_dd + legacy + stray + unicode + legacy + legacy;
      INFO(text);
      const LegacyText out = require_decoded(text);
      // The two legacy lines apart, each opened by the break before it, then the two that touch.
      CHECK(out.text == "\n" + plain + "\n" + plain + plain);
      // Each kept byte maps back into its own line: the first opening break to the one before
      // the first legacy line, the second to the one before the second.
      const size_t first = text.find(legacy);
      const size_t second = text.find(legacy, first + 1);
      CHECK(out.src_begin[0] == first - 1);
      CHECK(out.src_begin[1] == first);
      CHECK(out.src_begin[1 + plain.size()] == second - 1);
      CHECK(out.src_end.back() == text.size());
    }
  }
  // A legacy line first in the text needs no break before it; a last line without a break of its
  // own ends the view.
  CHECK(decoded("TUYE^.T MA^.T\n" + unicode + "MA^.T") == "TUYỆT MẬT\n\nMẬT");
  // A text whose only evidence does not decode is not a legacy text.
  CHECK(decoded(unicode + stray + split_dd) == kNone);
}
