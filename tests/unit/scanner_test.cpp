#include <catch2/catch.hpp>

#include "classifiers/redactor.h"
#include "classifiers/scanner.h"
#include "test_support.h"

using namespace promptwall;
using namespace promptwall::test;

namespace {

std::vector<std::string> found_texts(Scanner& s, const std::string& text) {
  std::vector<std::string> out;
  for (const auto& f : s.scan(text).findings) out.push_back(text.substr(f.span.begin, f.span.end - f.span.begin));
  return out;
}

}  // namespace

TEST_CASE("the Unicode boundary does not fire inside Vietnamese words") {
  auto r = compile_yaml(one_rule_pack("    patterns: ['(?i){b}mật{b}']\n"));
  REQUIRE(r.ruleset);
  Scanner s(r.ruleset);
  CHECK(found_texts(s, "bímật") == std::vector<std::string>{});
  CHECK(found_texts(s, "mậtơ") == std::vector<std::string>{});
  CHECK(found_texts(s, "bí mật, MẬT.") == std::vector<std::string>{"mật", "MẬT"});
  CHECK(found_texts(s, "MẬT") == std::vector<std::string>{"MẬT"});
  // Adjacent matches share the separator between them.
  CHECK(found_texts(s, "mật mật") == std::vector<std::string>{"mật", "mật"});
}

TEST_CASE("a capturing group is the finding, validators see it") {
  auto r = compile_yaml(one_rule_pack("    patterns: ['(?i)mst:? ?(\\d{10}){b}']\n    validate: tax_code\n"));
  REQUIRE(r.ruleset);
  Scanner s(r.ruleset);
  CHECK(found_texts(s, "Công ty ABC, MST: 0201456787.") == std::vector<std::string>{"0201456787"});
  CHECK(found_texts(s, "Công ty ABC, MST: 0201456788.").empty());  // bad check digit
}

TEST_CASE("context words are required, boost and penalize") {
  auto r = compile_yaml(one_rule_pack(
      "    patterns: ['{b}(\\d{9}){b}']\n    validate: cmnd\n"
      "    context: {window: 30, require: [cmnd, chứng minh], penalize: [mã đơn]}\n"));
  REQUIRE(r.ruleset);
  Scanner s(r.ruleset);
  CHECK(found_texts(s, "Số CMND 123456789 cấp năm 2010") == std::vector<std::string>{"123456789"});
  CHECK(found_texts(s, "Giấy CHỨNG MINH nhân dân số 123456789") == std::vector<std::string>{"123456789"});
  CHECK(found_texts(s, "Số hiệu 123456789 cấp năm 2010").empty());           // no keyword
  CHECK(found_texts(s, "CMND 123456789, mã đơn xyz").empty());                // penalised below 0.5
  CHECK(found_texts(s, "CMND" + std::string(40, '.') + " 123456789").empty());  // keyword out of the window
  CHECK(found_texts(s, "Số CMNDX 123456789").empty());                         // not a whole word
}

TEST_CASE("trailing context after a finding group does not hide the next match") {
  auto r = compile_yaml(one_rule_pack("    patterns: ['(?i)password=([^ ]{4,20})(?: |$)']\n"));
  REQUIRE(r.ruleset);
  Scanner s(r.ruleset);
  CHECK(found_texts(s, "password=Abc@123 password=Xyz@456") == std::vector<std::string>{"Abc@123", "Xyz@456"});
}

TEST_CASE("exclusions drop values and patterns") {
  auto r = compile_yaml(one_rule_pack(
      "    patterns: ['{b}[a-z]{1,10}@[a-z]{1,10}\\.[a-z]{2,5}{b}']\n"
      "    exclude: {patterns: ['@example\\.com$'], values: [admin@site.vn]}\n"));
  REQUIRE(r.ruleset);
  Scanner s(r.ruleset);
  CHECK(found_texts(s, "gửi tuyen@ninhbinh.vn, admin@site.vn, a@example.com") ==
        std::vector<std::string>{"tuyen@ninhbinh.vn"});
}

TEST_CASE("findings of several views over the same bytes merge into one") {
  auto r = compile_yaml(one_rule_pack("    patterns: ['^ ?((?:toi ?)?mat) ?$']\n    views: [folded, compact]\n"));
  REQUIRE(r.ruleset);
  Scanner s(r.ruleset);
  const std::string text = "x\nTỐI MẬT\ny";
  auto result = s.scan(text);
  REQUIRE(result.findings.size() == 1);
  CHECK(text.substr(result.findings[0].span.begin, result.findings[0].span.end - result.findings[0].span.begin) ==
        "TỐI MẬT");
  CHECK(result.findings[0].view == ViewKind::folded);
  // Only the compact view sees this one.
  auto spaced = s.scan("x\nT Ố I  M Ậ T\ny");
  REQUIRE(spaced.findings.size() == 1);
  CHECK(spaced.findings[0].view == ViewKind::compact);
}

TEST_CASE("many hits of one pattern are confirmed without losing any") {
  auto r = compile_yaml(one_rule_pack("    patterns: ['{b}[0-9]{3}-[0-9]{4}{b}']\n"));
  REQUIRE(r.ruleset);
  Scanner s(r.ruleset);
  std::string text;
  for (int i = 0; i < 500; ++i) text += "call 555-" + std::to_string(1000 + i) + " or ";
  CHECK(s.scan(text).findings.size() == 500);
}

TEST_CASE("invalid UTF-8 is reported and the rest still scanned") {
  auto r = compile_yaml(one_rule_pack("    patterns: ['(?i){b}secret{b}']\n"));
  REQUIRE(r.ruleset);
  Scanner s(r.ruleset);
  const std::string text = "\xC3\x28 bad then SECRET here";
  auto result = s.scan(text);
  REQUIRE(result.invalid_utf8_at);
  CHECK(*result.invalid_utf8_at == 0);
  REQUIRE(result.findings.size() == 1);
  CHECK(text.substr(result.findings[0].span.begin, 6) == "SECRET");
}

TEST_CASE("the redactor applies mask, partial and consistent labels") {
  auto r = compile_yaml(
      "pack: t\nversion: '1'\nrules:\n"
      "  - id: t.phone\n    description: d\n    category: phone\n    severity: low\n    action: redact\n"
      "    patterns: ['{b}0\\d{3} \\d{3} \\d{3}{b}']\n    redact: {style: partial, keep: 3}\n"
      "    message: {vi: 'a', en: 'b'}\n    examples: {match: ['x'], ignore: ['y']}\n"
      "  - id: t.id\n    description: d\n    category: national_id\n    severity: low\n    action: redact\n"
      "    patterns: ['{b}\\d{12}{b}']\n    redact: {style: label, label: CCCD}\n"
      "    message: {vi: 'a', en: 'b'}\n    examples: {match: ['x'], ignore: ['y']}\n"
      "  - id: t.word\n    description: d\n    category: custom_term\n    severity: low\n    action: redact\n"
      "    patterns: ['(?i){b}falcon{b}']\n"
      "    message: {vi: 'a', en: 'b'}\n    examples: {match: ['x'], ignore: ['y']}\n");
  REQUIRE(r.ruleset);
  Scanner s(r.ruleset);
  Redactor redactor(*r.ruleset);
  const std::string text = "Gọi 0327 669 018, CCCD 066087004913 và 001099012345, lại 066087004913; Falcon.";
  std::string out = redactor.redact(text, s.scan(text).findings);
  CHECK(out == "Gọi **** *** 018, CCCD [CCCD-1] và [CCCD-2], lại [CCCD-1]; ******.");
  // Labels stay consistent across segments of the same request.
  const std::string second = "nhắc lại 001099012345";
  CHECK(redactor.redact(second, s.scan(second).findings) == "nhắc lại [CCCD-2]");
}

TEST_CASE("identifiers pasted with Unicode separators or digits still validate") {
  Scanner s(builtin_ruleset());
  const std::pair<const char*, const char*> cases[] = {
      {"SĐT: 0919\u00a0246\u00a0802", "phone"},           // no-break spaces
      {"SĐT: 0912\u2013345\u2013678", "phone"},           // en dashes
      {"SĐT: \uff10\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18", "phone"},  // full-width digits
      {"SĐT: 0912\u200b345\u200b678", "phone"},           // zero-width spaces
      {"CCCD 038\u202f196\u202f005\u202f123", "national_id"},  // narrow no-break spaces
      {"Số thẻ 4532\u00a00198\u00a07654\u00a03215", "credit_card"},
  };
  for (const auto& [text, category] : cases) {
    INFO(text);
    bool found = false;
    for (const auto& f : s.scan(text).findings) found = found || f.category == category;
    CHECK(found);
  }
  CHECK(validators::with_ascii_separators("0919\u00a0246\u2013802\u200b\uff19") == "0919 246-8029");
  CHECK(validators::with_ascii_separators("DN4790123456789") == "DN4790123456789");
}

TEST_CASE("a legacy-only rule reads legacy lines, not the Unicode lines beside them") {
  // "Câu hỏi: tối mật - là gì?" is prose (vn.secret.degree-heading ignores it). A line in an old
  // font elsewhere in the prompt must not turn it into a stamp through the legacy view.
  Scanner s(builtin_ruleset());
  const std::string question = "Câu hỏi: tối mật - là gì?\n";
  CHECK(s.scan(question + "Chuyển font giúp tôi: §Ò ¸n tæ chøc l¹i lùc l­îng").findings.empty());
  // The legacy line itself is still read: its stamp is found there, and only there.
  const std::string text = question + "Chuyển font giúp tôi: TUYÖT MËT - §Ò ¸n";
  const auto findings = s.scan(text).findings;
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].span.begin == text.find("TUYÖT"));
}

TEST_CASE("rules of one category over the same bytes give one finding, the strongest") {
  auto r = compile_yaml(
      "pack: t\nversion: '1'\nrules:\n"
      "  - id: t.plain\n    description: d\n    category: phone\n    severity: low\n    action: warn\n"
      "    patterns: ['{b}0\\d{9}{b}']\n"
      "    message: {vi: 'a', en: 'b'}\n    examples: {match: ['x'], ignore: ['y']}\n"
      "  - id: t.labelled\n    description: d\n    category: phone\n    severity: low\n    action: redact\n"
      "    patterns: ['(?i)sđt:? ?(0\\d{9}){b}']\n"
      "    message: {vi: 'a', en: 'b'}\n    examples: {match: ['x'], ignore: ['y']}\n"
      "  - id: t.other\n    description: d\n    category: bank_account\n    severity: low\n    action: warn\n"
      "    patterns: ['{b}0\\d{9}{b}']\n"
      "    message: {vi: 'a', en: 'b'}\n    examples: {match: ['x'], ignore: ['y']}\n");
  REQUIRE(r.ruleset);
  Scanner s(r.ruleset);
  auto findings = s.scan("SĐT: 0912345678 và 0987654321").findings;
  // Each number: one phone finding (the labelled rule wins on the first, by its stronger
  // action) plus the other category's own finding; equal spans sort by rule id.
  REQUIRE(findings.size() == 4);
  CHECK(findings[0].rule_id == "t.labelled");
  CHECK(findings[1].rule_id == "t.other");
  CHECK(findings[2].rule_id == "t.other");
  CHECK(findings[3].rule_id == "t.plain");
  // Asked which rules matched, every rule shows.
  CHECK(s.scan_rules("SĐT: 0912345678").findings.size() == 3);
}

TEST_CASE("a reading nested inside a longer finding of another category is not a second item") {
  Scanner s(builtin_ruleset());
  const std::string text = "Thẻ Visa 4024 8427 9902 6397 hết hạn";  // the tail reads as a +84 landline
  auto findings = s.scan(text).findings;
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].category == "credit_card");
  bool phone_rule_matched = false;
  for (const auto& f : s.scan_rules(text).findings) phone_rule_matched = phone_rule_matched || f.category == "phone";
  CHECK(phone_rule_matched);  // the rule did match; the item is the card
}

TEST_CASE("context words can be looked for on one side only") {
  auto r = compile_yaml(one_rule_pack(
      "    patterns: ['{b}(\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}){b}']\n"
      "    context: {window: 30, direction: before, penalize: [firmware]}\n"));
  REQUIRE(r.ruleset);
  Scanner s(r.ruleset);
  CHECK(found_texts(s, "firmware router 4.1.0.12").empty());
  CHECK(found_texts(s, "máy chủ 10.1.2.3 cập nhật firmware") == std::vector<std::string>{"10.1.2.3"});
  CHECK_FALSE(compile_yaml(one_rule_pack("    patterns: ['abc']\n    context: {direction: sideways, boost: [x]}\n")).ruleset);
}

TEST_CASE("place weights lift or lower a finding by where it sits in its document", "[places]") {
  auto r = compile_yaml(one_rule_pack(
      "    patterns: ['{b}(?i)(mật)  số{b}']\n    confidence: 0.4\n"
      "    places: {header: 0.3, prominent: 0.5, footnote: -0.5}\n"));
  REQUIRE(r.ruleset);
  Scanner s(r.ruleset);
  const std::string text = "Báo cáo\nMẬT  SỐ 15\nMật  số 16\n";
  const auto second_line = static_cast<uint32_t>(text.find("MẬT"));
  const auto third_line = static_cast<uint32_t>(text.find("Mật"));
  const auto found = [&](const PlaceMap* places) {
    std::vector<std::pair<std::string, double>> out;
    for (const auto& f : s.scan(text, places).findings)
      out.emplace_back(text.substr(f.span.begin, f.span.end - f.span.begin), f.confidence);
    return out;
  };
  // Below 0.5 alone: a prompt, or a document's body, never reports it.
  CHECK(found(nullptr).empty());
  const PlaceMap body;
  CHECK(found(&body).empty());

  // The tags at the finding's first byte count: the header is the second line only.
  PlaceMap header_line;
  header_line.add(second_line, place_bit(PlaceTag::header));
  header_line.add(third_line, 0);
  auto got = found(&header_line);
  REQUIRE(got.size() == 1);
  CHECK(got[0].first == "MẬT");
  CHECK(got[0].second == Approx(0.7));
  // A tag that starts one byte after the finding's first byte does not place it.
  PlaceMap late;
  late.add(second_line + 1, place_bit(PlaceTag::header));
  late.add(third_line, 0);
  late.add(third_line + 1, place_bit(PlaceTag::header));
  CHECK(found(&late).empty());

  // Several tags add up, clamped to 1.
  const PlaceMap both = PlaceMap::whole(place_bit(PlaceTag::header) | place_bit(PlaceTag::prominent));
  got = found(&both);
  REQUIRE(got.size() == 2);
  CHECK(got[0].second == Approx(1.0));
  CHECK(got[1].first == "Mật");
  CHECK(got[1].second == Approx(1.0));

  // A negative weight pulls it back under; a tag the rule does not weigh changes nothing.
  const PlaceMap header_footnote = PlaceMap::whole(place_bit(PlaceTag::header) | place_bit(PlaceTag::footnote));
  CHECK(found(&header_footnote).empty());
  const PlaceMap unweighed = PlaceMap::whole(place_bit(PlaceTag::table) | place_bit(PlaceTag::comment));
  CHECK(found(&unweighed).empty());
}

TEST_CASE("a rule without place weights is judged the same with or without places", "[places]") {
  auto r = compile_yaml(one_rule_pack("    patterns: ['{b}(?i)mật{b}']\n    confidence: 0.6\n"));
  REQUIRE(r.ruleset);
  Scanner s(r.ruleset);
  const PlaceMap everywhere = PlaceMap::whole(~PlaceTags{0});
  const auto with = s.scan("MẬT số 3", &everywhere).findings;
  const auto without = s.scan("MẬT số 3").findings;
  REQUIRE(with.size() == 1);
  REQUIRE(without.size() == 1);
  CHECK(with[0].confidence == Approx(0.6));
  CHECK(without[0].confidence == Approx(0.6));
}

TEST_CASE("an anchored pattern finds exactly what the same pattern without the anchor finds") {
  // Hyperscan reads from the '@' on; the window back from each hit still holds the local part.
  const std::string email =
      "(?:^|[^A-Za-z0-9_.%+/-])([A-Za-z0-9][A-Za-z0-9._%+-]{0,63}%s@[A-Za-z0-9][A-Za-z0-9.-]{0,60}\\.[A-Za-z]{2,24})"
      "(?:[^\\w.:/@-]|$)";
  auto with = [&](const char* anchor) {
    std::string p = email;
    p.replace(p.find("%s"), 2, anchor);
    auto r = compile_yaml(one_rule_pack("    patterns: ['" + p + "']\n"));
    REQUIRE(r.ruleset);
    return r.ruleset;
  };
  Scanner anchored(with("{a}")), plain(with(""));
  const std::string long_local(63, 'x');
  for (const std::string& text : std::vector<std::string>{
           "Gửi an.nguyen@hanoi.gov.vn và lan@vnpt.vn, bcc " + long_local + "@moet.edu.vn.",
           "a@b.vn a@b.vn,c@d.com;e.f@g.h.io", "@only.vn, x@y, @@a.vn, ab@@cd.vn, mail:an@x.vn:25 https://t@github.com",
           std::string(200, 'a') + "@" + std::string(30, 'b') + ".com", "không có địa chỉ nào ở đây"}) {
    INFO(text);
    CHECK(found_texts(anchored, text) == found_texts(plain, text));
  }
  CHECK(found_texts(anchored, "Gửi an.nguyen@hanoi.gov.vn và lan@vnpt.vn") ==
        std::vector<std::string>{"an.nguyen@hanoi.gov.vn", "lan@vnpt.vn"});
}

TEST_CASE("a pattern scanned byte by byte finds what it finds in UTF-8 mode beside multi-byte characters") {
  // (?i) changes nothing for digits but keeps the pattern in Hyperscan's UTF-8 mode.
  auto compiled = [](const std::string& pattern) {
    auto r = compile_yaml(one_rule_pack("    patterns: ['" + pattern + "']\n"));
    REQUIRE(r.ruleset);
    return r.ruleset;
  };
  Scanner bytes(compiled("{b}(\\d{12}|\\d{3}[ .]\\d{3}[ .]\\d{3}){b}")), utf8(compiled("(?i){b}(\\d{12}|\\d{3}[ .]\\d{3}[ .]\\d{3}){b}"));
  for (const std::string text : {"số 079203012345–xem", "079203012345\u00a0và 079 203 012…", "«079203012345»",
                                 "079203012345đ 079203012345", "₫079203012345", "\U0001F600079203012345\U0001F600",
                                 "0792030123456 x079203012345 079203012345", "079 203 012\u2009345 079.203.012—"}) {
    INFO(text);
    CHECK(found_texts(bytes, text) == found_texts(utf8, text));
  }
  CHECK(found_texts(bytes, "số 079203012345–xem, «079 203 012»") ==
        std::vector<std::string>{"079203012345", "079 203 012"});
}

TEST_CASE("a window holding a character outside Latin text is confirmed with the Unicode boundary") {
  // The Latin confirmer's boundary takes ASCII characters only: read with it, «, a no-break space
  // or a dash before the number would hide it.
  auto r = compile_yaml(one_rule_pack("    patterns: ['{b}(0\\d{9}){b}']\n"));
  REQUIRE(r.ruleset);
  Scanner s(r.ruleset);
  CHECK(found_texts(s, "Số điện thoại: 0912345678.") == std::vector<std::string>{"0912345678"});
  CHECK(found_texts(s, "«0912345678»") == std::vector<std::string>{"0912345678"});
  CHECK(found_texts(s, "SĐT:\u00a00912345678\u00a0(anh Lộc)") == std::vector<std::string>{"0912345678"});
  CHECK(found_texts(s, "gọi—0912345678—ngay") == std::vector<std::string>{"0912345678"});
  // Letters of any script still join the number to a word.
  CHECK(found_texts(s, "số0912345678 д0912345678 0912345678ậ") == std::vector<std::string>{});
}
