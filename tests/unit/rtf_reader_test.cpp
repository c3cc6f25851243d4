// read_rtf: LibreOffice's RTF of the Vietnamese letter (body, table, header, footer, footnote,
// \info), and the RTF 1.9.1 specification's own constructs, written as the spec spells them, for
// each rule: code pages, \uN with \ucN, destinations read and skipped, bounds.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "extractors/rtf_reader.h"
#include "other_documents_support.h"

using namespace promptwall::extractors;
using promptwall::test::other_document;
using promptwall::test::RecordingContext;
using promptwall::test::run_reader;
using promptwall::test::text_at;

namespace {

using Read = promptwall::test::ReaderRun;

Read read(std::string_view bytes, uint64_t max_text = 1 << 20) {
  RecordingContext rc;
  return run_reader(max_text, [&](TextCollector& out) { return read_rtf(bytes, out, rc.ctx); });
}

std::string body(std::string_view rtf) {
  const Read r = read(rtf);
  REQUIRE(r.outcome.good());
  std::string all;
  for (const auto& p : r.parts)
    if (p.place.place == Place::body) all += p.text;
  return all;
}

}  // namespace

TEST_CASE("rtf: LibreOffice's letter, every place", "[extractors][rtf]") {
  const Read r = read(other_document("letter.rtf"));
  REQUIRE(r.outcome.good());
  REQUIRE(r.parts.size() == 5);
  const TextPart& b = r.parts[0];
  CHECK(b.place.place == Place::body);
  CHECK(b.text ==
        "TỐI MẬT\n"
        "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI\n"
        "Số: 12/QĐ-UBND\n"
        "QUYẾT ĐỊNH\n"
        "Ông Nguyễn Văn An, CCCD 001099012345, được cấp mật khẩu truy cập.\n"
        "Họ và tên\tSố CCCD\n"
        "Trần Thị Bình\t001099012346\n"
        "TèI MËT\n"  // TCVN3 look-alikes in the .VnTimeH font, unchanged
        "Trang hai: danh sách người nhận.\n");
  CHECK(b.place_at(b.text.find("Họ và tên")).place == Place::table);
  CHECK(b.place_at(b.text.find("001099012346")).place == Place::table);
  CHECK(b.place_at(b.text.find("TèI")).place == Place::body);
  CHECK(b.place_at(0).place == Place::body);
  // The header and footer LibreOffice writes twice (page style and section) are read once.
  CHECK(text_at(r.parts, Place::header) == "Văn bản nội bộ UBND\n");
  CHECK(text_at(r.parts, Place::footer) == "Lưu hành hạn chế\n");
  CHECK(text_at(r.parts, Place::footnote) == "Theo Quy chế bảo mật số 7.\n");
  // \info: of \upr's ANSI and Unicode titles, the Unicode one.
  CHECK(text_at(r.parts, Place::properties) ==
        "Quyết định cấp mật khẩu\nBảo mật hệ thống\nmật khẩu, TỐI MẬT\nPhòng Hành chính\n");
}

TEST_CASE("rtf: hex escapes in the document's and the font's code page", "[extractors][rtf]") {
  // windows-1258: "Mật" is M, â (E2), combining dot below (F2), t.
  CHECK(body("{\\rtf1\\ansi\\ansicpg1258 M\\'e2\\'f2t kh\\'e2\\'d2u\\par}") == "M\xC3\xA2\xCC\xA3t kh\xC3\xA2\xCC\x89u\n");
  CHECK(body("{\\rtf1\\ansi\\ansicpg1252 caf\\'e9\\par}") == "café\n");
  // A font with \fcharset163 (Vietnamese) in a 1252 document; \f0 (ANSI) is 1252 again.
  CHECK(body("{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0 Arial;}{\\f1\\fcharset163 Times New Roman;}}"
             "{\\f1 \\'d0\\'e3}{\\f0 \\'d0}\\par}") == "Đă\xC3\x90\n");
  // Shift-JIS: one character in two \'hh.
  CHECK(body("{\\rtf1\\ansi\\ansicpg932 \\'93\\'fa\\'96\\'7b\\par}") == "日本\n");
}

TEST_CASE("rtf: Unicode escapes, their uc fallbacks, surrogate pairs, named characters", "[extractors][rtf]") {
  CHECK(body("{\\rtf1 T\\u7888?I M\\u7852?T\\par}") == "TỐI MẬT\n");
  CHECK(body("{\\rtf1\\uc2 S\\u7889\\'3f\\'3f: 12\\par}") == "Số: 12\n");
  CHECK(body("{\\rtf1\\uc0 \\u-10179\\u-8704 !\\par}") == "\xF0\x9F\x98\x80!\n");  // U+1F600 as a pair
  CHECK(body("{\\rtf1 a\\emdash b\\~c\\lquote d\\rquote\\tab e\\line f\\{g\\}\\\\\\par}") ==
        "a\u2014b\u00A0c\u2018d\u2019\te\nf{g}\\\n");
}

TEST_CASE("rtf: annotations, text boxes, field codes and results", "[extractors][rtf]") {
  const Read r = read(
      "{\\rtf1 Xem {\\*\\atnid TTB}{\\*\\atnauthor Tr\\u7847?n}\\chatn{\\*\\annotation{\\*\\atnref 1}\\pard "
      "Ki\\u7875?m tra s\\u7889? CCCD} l\\u7841?i.\\par"
      "{\\shp{\\*\\shpinst{\\sp{\\sn shapeType}{\\sv 202}}{\\shptxt T\\u7888?I M\\u7852?T\\par}}}"
      "{\\field{\\*\\fldinst HYPERLINK \"https://x.example/cccd\"}{\\fldrslt li\\u234?n k\\u7871?t}}\\par}");
  REQUIRE(r.outcome.good());
  CHECK(text_at(r.parts, Place::body) == "Xem  lại.\nliên kết\n");  // the spaces on both sides of the comment
  CHECK(text_at(r.parts, Place::comment) == "Kiểm tra số CCCD\n");
  CHECK(text_at(r.parts, Place::text_box) == "TỐI MẬT\n");
  CHECK(text_at(r.parts, Place::field_code) == "HYPERLINK \"https://x.example/cccd\"\n");
}

TEST_CASE("rtf: what is not text is skipped", "[extractors][rtf]") {
  CHECK(body("{\\rtf1{\\fonttbl{\\f0 Arial;}}{\\colortbl;\\red0\\green0\\blue0;}{\\stylesheet{\\s0 Normal;}}"
             "{\\*\\generator LibreOffice}{\\*\\themedata 504b0304}{\\*\\unknowndest secret}"
             "{\\pict\\pngblip 89504e47}{\\*\\bkmkstart mk}m\\'e2t kh\\'e2u\\par}") == "mât khâu\n");
  // \binN: N raw bytes, braces included, are data.
  CHECK(body("{\\rtf1 a{\\pict\\bin5 }{x}\\}b\\par}") == "ab\n");
  // A control word past 32 letters is cut there; a parameter past 10 digits is capped.
  // (\uN's one fallback character after it is skipped: here the "y".)
  CHECK(body("{\\rtf1 " + std::string("\\") + std::string(100, 'q') + " x\\u99999999999999 yz\\par}") == "x\xEF\xBF\xBFz\n");
}

TEST_CASE("rtf: deep nesting, a cut file and the text limit", "[extractors][rtf]") {
  std::string deep = "{\\rtf1 ";
  for (size_t i = 0; i < kRtfMaxDepth + 10; ++i) deep += "{";
  deep += "TỐI MẬT";
  const Read d = read(deep);
  CHECK(d.outcome.cause == Unscannable::truncated);
  CHECK(d.outcome.detail == "RTF groups nested deeper than 256");

  const Read cut = read("{\\rtf1 T\\u7888?I M\\u7852?T\\par S\\u7889? CCCD 001099012345");
  CHECK(cut.outcome.cause == Unscannable::truncated);
  CHECK(text_at(cut.parts, Place::body) == "TỐI MẬT\nSố CCCD 001099012345\n");

  // A million nested-and-closed groups is linear, not recursive.
  std::string wide = "{\\rtf1 ";
  for (int i = 0; i < 1000000; ++i) wide += "{}";
  CHECK(body(wide + "x\\par}") == "x\n");

  const Read big = read("{\\rtf1 " + std::string(200, 'a') + "\\par}", 50);
  CHECK(big.outcome.cause == Unscannable::too_big);
}
