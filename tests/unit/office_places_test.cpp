// Every place Office documents hide text in, read from documents the real tools wrote
// (tests/data/documents/make_office_places.py: LibreOffice over UNO, pandoc, openpyxl): the exact
// text of each place, its Place, its page or slide, prominence where it applies. Where a test says
// the file holds something twice (Word's text box) or in pieces (a rich-text cell), it first proves
// the fixture really does, so the test fails if a regenerated fixture stops exercising the case.
#include <catch2/catch.hpp>

#include "extractors/odf_reader.h"
#include "extractors/ooxml_reader.h"
#include "office_test_support.h"

using namespace promptwall::extractors;
using namespace promptwall::extractors::testing;

namespace {

OfficeRead read(const std::string& name, FileType type) {
  return read_office(office_fixture("office/places/" + name), type,
                     type == FileType::odt || type == FileType::ods || type == FileType::odp ? ZipReader(read_odf)
                                                                                               : ZipReader(read_ooxml));
}

// One entry of a fixture, as the tool wrote it (to prove what the fixture holds).
std::string entry(const std::string& name, const std::string& part) {
  const std::string bytes = office_fixture("office/places/" + name);
  ExtractionLimits limits;
  ReadBudget budget;
  ZipArchive zip(bytes, limits, budget);
  REQUIRE(zip.opened().good());
  const auto index = zip.find(part);
  REQUIRE(index);
  std::string out;
  REQUIRE(zip.read(*index, out).good());
  return out;
}

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

SpanPlace at(Place place, uint32_t page = 0, bool prominent = false, std::string cell = "") {
  return SpanPlace{place, page, std::move(cell), "", prominent};
}

}  // namespace

// ---- docx (LibreOffice's Word 2007 filter) --------------------------------------------------

TEST_CASE("places docx: the body, a field code apart from its result, the text box once, a tracked deletion",
          "[extractors][places]") {
  // The fixture holds the frame's text twice: the wps shape in mc:Choice and the VML copy in mc:Fallback.
  const std::string xml = entry("letter.docx", "word/document.xml");
  REQUIRE(count(xml, "Khung: CCCD 001099012346") == 2);
  REQUIRE(count(xml, "<mc:Fallback>") == 1);
  REQUIRE(xml.find("<w:instrText") != std::string::npos);
  REQUIRE(xml.find("<w:delText>") != std::string::npos);
  REQUIRE(xml.find("<w:ins ") != std::string::npos);

  const OfficeRead r = read("letter.docx", FileType::docx);
  REQUIRE(r.outcome.good());
  const TextPart* body = r.part("word/document.xml");
  REQUIRE(body != nullptr);
  CHECK(body->text ==
        "TỐI MẬT\n"
        "Số: 15/QĐ-UBND\n"
        "Kính gửi: Phòng Tổ chức\n"
        "Ông An có CCCD 001099012345 và hồ sơ.\n"
        "Người nhập:  FILLIN \"Nhập số TỐI MẬT\" Trần Thị Bình\n"
        "Đoạn có khung.\n"
        "Khung: CCCD 001099012346\n"
        "Bản nháp: Số: 16/QĐ-UBND\n"
        "Đã bổ sung: mật khẩu mới. Hết.\n");
  const auto place = [&](const std::string& s) { return body->place_at(body->text.find(s)); };
  CHECK(place("TỐI MẬT") == at(Place::body, 0, true));
  CHECK(place("Kính gửi") == at(Place::body, 0, true));
  CHECK(place("Ông An") == at(Place::body));
  // The instruction is a field code, the space after it too; the result is body text.
  CHECK(place("FILLIN") == at(Place::field_code));
  CHECK(body->place_at(body->text.find("Trần Thị Bình") - 1) == at(Place::field_code));
  CHECK(place("Trần Thị Bình") == at(Place::body));
  // The text box: read exactly once (the mc:Fallback copy is not), on a line of its own.
  REQUIRE(r.places_of("Khung: CCCD 001099012346").size() == 1);
  CHECK(place("Khung:") == at(Place::text_box));
  CHECK(place("Đoạn có khung") == at(Place::body));
  // w:delText is deleted text still in the file; w:ins text is the document's current text.
  CHECK(place("Bản nháp") == at(Place::tracked_deletion));
  CHECK(place("Đã bổ sung") == at(Place::body));
  CHECK(place("Hết.") == at(Place::body));
}

TEST_CASE("places docx: first, odd and even headers and footers, a footnote, an endnote, custom properties",
          "[extractors][places]") {
  const OfficeRead r = read("letter.docx", FileType::docx);
  REQUIRE(r.outcome.good());
  // LibreOffice names the parts in the order it writes the references: even, default (odd), first.
  const std::pair<const char*, const char*> headers[] = {{"word/header1.xml", "Trang chẵn: mật khẩu\n"},
                                                         {"word/header2.xml", "Trang lẻ: Số: 15/QĐ-UBND\n"},
                                                         {"word/header3.xml", "Trang đầu: TỐI MẬT\n"}};
  for (const auto& [source, text] : headers) {
    const TextPart* p = r.part(source);
    REQUIRE(p != nullptr);
    CHECK(p->text == text);
    CHECK(p->place_at(0) == at(Place::header, 0, true));
  }
  CHECK(r.text_at(Place::footer) == "Chân trang chẵn\nChân trang lẻ\nChân trang đầu\n");
  CHECK(r.places_of("Chân trang đầu")[0] == at(Place::footer));

  // Word's footnote paragraph begins with the reference mark and a tab: the mark is no text.
  const TextPart* footnotes = r.part("word/footnotes.xml");
  REQUIRE(footnotes != nullptr);
  CHECK(footnotes->text == "\tChú thích: mật khẩu không ghi ở đây.\n");
  CHECK(footnotes->place_at(1) == at(Place::footnote));
  const TextPart* endnotes = r.part("word/endnotes.xml");
  REQUIRE(endnotes != nullptr);
  CHECK(endnotes->text == "\tGhi chú cuối: CCCD 001099012347\n");
  CHECK(endnotes->place_at(1) == at(Place::footnote));

  const TextPart* custom = r.part("docProps/custom.xml");
  REQUIRE(custom != nullptr);
  CHECK(custom->place == at(Place::properties));
  CHECK(custom->text == "Số hiệu: Số: 15/QĐ-UBND\nĐộ mật: TỐI MẬT\n");
  const TextPart* core = r.part("docProps/core.xml");
  REQUIRE(core != nullptr);
  CHECK(core->text == "Quyết định về hồ sơ\n");
}

TEST_CASE("places docx: a review comment (pandoc) under comment, not in the body", "[extractors][places]") {
  REQUIRE(entry("comments.docx", "word/comments.xml").find("<w:comment ") != std::string::npos);
  const OfficeRead r = read("comments.docx", FileType::docx);
  REQUIRE(r.outcome.good());
  const TextPart* body = r.part("word/document.xml");
  REQUIRE(body != nullptr);
  CHECK(body->text == "TỐI MẬT\nSố: 15/QĐ-UBND về hồ sơ gốc đã nhận, không kèm mật khẩu.\n");
  const TextPart* comments = r.part("word/comments.xml");
  REQUIRE(comments != nullptr);
  CHECK(comments->text == "Bình luận: kiểm tra CCCD 001099012345\n");
  REQUIRE(r.places_of("001099012345").size() == 1);
  CHECK(r.places_of("001099012345")[0] == at(Place::comment));
}

// ---- odt (the same documents in LibreOffice's own format) -------------------------------------

TEST_CASE("places odt: the body, a frame's text box, notes, a tracked deletion, page styles' headers, properties",
          "[extractors][places]") {
  const std::string content = entry("letter.odt", "content.xml");
  REQUIRE(content.find("<text:tracked-changes") != std::string::npos);
  REQUIRE(content.find("<draw:text-box") != std::string::npos);
  const OfficeRead r = read("letter.odt", FileType::odt);
  REQUIRE(r.outcome.good());
  REQUIRE(!r.parts.empty());
  const TextPart& body = r.parts[0];
  CHECK(body.source == "content.xml");
  // The frame anchored to "Đoạn có khung." is written before that paragraph's own text.
  CHECK(body.text ==
        "TỐI MẬT\n"
        "Số: 15/QĐ-UBND\n"
        "Kính gửi: Phòng Tổ chức\n"
        "Ông An có CCCD 001099012345 và hồ sơ.\n"
        "Người nhập: Trần Thị Bình\n"
        "Khung: CCCD 001099012346\n"
        "Đoạn có khung.\n"
        "Đã bổ sung: mật khẩu mới. Hết.\n");
  const auto place = [&](const std::string& s) { return body.place_at(body.text.find(s)); };
  CHECK(place("TỐI MẬT") == at(Place::body, 0, true));
  CHECK(place("Kính gửi") == at(Place::body, 0, true));
  CHECK(place("Ông An") == at(Place::body));
  REQUIRE(r.places_of("Khung: CCCD 001099012346").size() == 1);
  CHECK(place("Khung:") == at(Place::text_box));
  CHECK(place("Đoạn có khung") == at(Place::body));

  CHECK(r.text_at(Place::footnote) == "Chú thích: mật khẩu không ghi ở đây.\nGhi chú cuối: CCCD 001099012347\n");
  CHECK(r.places_of("Ghi chú cuối")[0] == at(Place::footnote));
  CHECK(r.text_at(Place::tracked_deletion) == "Bản nháp: Số: 16/QĐ-UBND\n");
  REQUIRE(r.places_of("Số: 16/QĐ-UBND").size() == 1);
  CHECK(r.places_of("Số: 16/QĐ-UBND")[0] == at(Place::tracked_deletion));

  // One master page: its odd header, the left (even) one and the first-page one, each once.
  CHECK(r.text_at(Place::header) == "Trang lẻ: Số: 15/QĐ-UBND\nTrang chẵn: mật khẩu\nTrang đầu: TỐI MẬT\n");
  CHECK(r.places_of("Trang đầu: TỐI MẬT")[0] == at(Place::header, 0, true));
  CHECK(r.text_at(Place::footer) == "Chân trang lẻ\nChân trang chẵn\nChân trang đầu\n");
  CHECK(r.places_of("Chân trang chẵn")[0] == at(Place::footer));
  const TextPart* meta = r.part("meta.xml");
  REQUIRE(meta != nullptr);
  CHECK(meta->text == "Quyết định về hồ sơ\nSố hiệu: Số: 15/QĐ-UBND\nĐộ mật: TỐI MẬT\n");
}

TEST_CASE("places odt: an annotation (LibreOffice's conversion of pandoc's docx) under comment",
          "[extractors][places]") {
  REQUIRE(entry("comments.odt", "content.xml").find("<office:annotation") != std::string::npos);
  const OfficeRead r = read("comments.odt", FileType::odt);
  REQUIRE(r.outcome.good());
  REQUIRE(!r.parts.empty());
  CHECK(r.parts[0].text == "TỐI MẬT\nSố: 15/QĐ-UBND về hồ sơ gốc đã nhận, không kèm mật khẩu.\n");
  // The annotation's author and date are not read; its paragraph is.
  CHECK(r.text_at(Place::comment) == "Bình luận: kiểm tra CCCD 001099012345\n");
  REQUIRE(r.places_of("001099012345").size() == 1);
  CHECK(r.places_of("001099012345")[0] == at(Place::comment));
  CHECK(r.places_of("Nguyễn Văn An").empty());
}

// ---- pptx and odp ------------------------------------------------------------------------------

TEST_CASE("places pptx: slides in order, their footer, comment and notes, a table, masters without prompts",
          "[extractors][places]") {
  const OfficeRead r = read("deck.pptx", FileType::pptx);
  REQUIRE(r.outcome.good());
  std::vector<std::string> slide_sources;
  for (const auto& p : r.parts) {
    if (p.place.place == Place::slide) slide_sources.push_back(p.source);
  }
  CHECK(slide_sources ==
        std::vector<std::string>{"ppt/slides/slide1.xml", "ppt/slides/slide2.xml", "ppt/slides/slide3.xml"});

  const TextPart* s1 = r.part("ppt/slides/slide1.xml");
  REQUIRE(s1 != nullptr);
  CHECK(s1->text == "TỐI MẬT\nSố: 15/QĐ-UBND\nLưu hành nội bộ\n");
  CHECK(s1->place_at(0) == at(Place::slide, 1, true));
  CHECK(s1->place_at(s1->text.find("Số:")) == at(Place::slide, 1, true));
  // The slide's footer placeholder (Header & Footer) is the slide's footer.
  CHECK(s1->place_at(s1->text.find("Lưu hành")) == at(Place::footer, 1));

  const TextPart* s2 = r.part("ppt/slides/slide2.xml");
  REQUIRE(s2 != nullptr);
  CHECK(s2->text == "Kế hoạch quý 3\nKhông ghi mật khẩu lên trang chiếu\n");
  CHECK(s2->place_at(0) == at(Place::slide, 2));  // only slide 1's first lines are prominent

  const TextPart* s3 = r.part("ppt/slides/slide3.xml");
  REQUIRE(s3 != nullptr);
  CHECK(s3->text == "Họ tên\tSố CCCD\nNguyễn Văn An\t001099012349\n");
  CHECK(s3->place_at(s3->text.find("001099012349")) == at(Place::slide, 3));

  const TextPart* n1 = r.part("ppt/notesSlides/notesSlide1.xml");
  REQUIRE(n1 != nullptr);
  CHECK(n1->text == "Ghi chú trình bày: CCCD 001099012345\n");  // no slide image, no slide number
  CHECK(n1->place_at(0) == at(Place::slide_notes, 1));
  const TextPart* n2 = r.part("ppt/notesSlides/notesSlide2.xml");
  REQUIRE(n2 != nullptr);
  CHECK(n2->text == "Ghi chú hai: mật khẩu đổi hằng tháng\n");
  CHECK(n2->place_at(0) == at(Place::slide_notes, 2));

  const TextPart* c1 = r.part("ppt/comments/comment1.xml");
  REQUIRE(c1 != nullptr);
  CHECK(c1->text == "Bình luận: bỏ số CCCD 001099012348\n");
  CHECK(c1->place_at(0) == at(Place::comment, 1));

  // Masters and layouts: the master's own text box is read; the title, outline, date and number
  // placeholders' prompts are not. A footer placeholder is read on purpose (a stamp may be typed
  // there), so LibreOffice's prompts in it, "<footer>" and "Footer", come through: nothing in the
  // file tells them from typed text.
  REQUIRE(entry("deck.pptx", "ppt/slideMasters/slideMaster1.xml").find("Click to edit the title") != std::string::npos);
  CHECK(r.places_of("Mẫu chung: TỐI MẬT").size() == 1);
  CHECK(r.places_of("Mẫu chung: TỐI MẬT")[0] == at(Place::slide_master));
  const std::string masters = r.text_at(Place::slide_master);
  CHECK(masters.find("Click to edit") == std::string::npos);
  CHECK(masters.find("Outline Level") == std::string::npos);
  CHECK(masters.find("<date/time>") == std::string::npos);
  CHECK(masters.find("<number>") == std::string::npos);
  CHECK(masters.find("<#>") == std::string::npos);
  const TextPart* master = r.part("ppt/slideMasters/slideMaster1.xml");
  REQUIRE(master != nullptr);
  CHECK(master->text == "<footer>\nMẫu chung: TỐI MẬT\n");
}

TEST_CASE("places odp: slides, notes, the page comment, the declared footer, a table, the master's text",
          "[extractors][places]") {
  const std::string content = entry("deck.odp", "content.xml");
  REQUIRE(content.find("<officeooo:annotation") != std::string::npos);
  REQUIRE(content.find("<presentation:footer-decl") != std::string::npos);
  const OfficeRead r = read("deck.odp", FileType::odp);
  REQUIRE(r.outcome.good());
  std::vector<std::pair<Place, uint32_t>> order;
  for (const auto& p : r.parts) order.emplace_back(p.place.place, p.place.page);
  CHECK(order == std::vector<std::pair<Place, uint32_t>>{{Place::slide, 1},
                                                          {Place::slide_notes, 1},
                                                          {Place::slide, 2},
                                                          {Place::slide_notes, 2},
                                                          {Place::slide, 3},
                                                          {Place::footer, 0},
                                                          {Place::comment, 1},
                                                          {Place::slide_master, 0}});
  REQUIRE(order.size() == 8);
  CHECK(r.parts[0].text == "TỐI MẬT\nSố: 15/QĐ-UBND\n");
  CHECK(r.parts[0].place_at(0) == at(Place::slide, 1, true));
  CHECK(r.parts[1].text == "Ghi chú trình bày: CCCD 001099012345\n");
  CHECK(r.parts[1].place_at(0) == at(Place::slide_notes, 1));
  CHECK(r.parts[2].text == "Kế hoạch quý 3\nKhông ghi mật khẩu lên trang chiếu\n");
  CHECK(r.parts[2].place_at(0) == at(Place::slide, 2));
  CHECK(r.parts[3].text == "Ghi chú hai: mật khẩu đổi hằng tháng\n");
  CHECK(r.parts[4].text == "Họ tên\tSố CCCD\nNguyễn Văn An\t001099012349\n");
  CHECK(r.parts[4].place_at(r.parts[4].text.find("001099012349")) == at(Place::slide, 3));  // as in pptx
  // The footer is declared once for the pages that use it (slide 1 here).
  CHECK(r.parts[5].text == "Lưu hành nội bộ\n");
  CHECK(r.parts[5].place_at(0) == at(Place::footer));
  // The comment on slide 1, in LibreOffice's officeooo namespace: not slide text, no author.
  CHECK(r.parts[6].text == "Bình luận: bỏ số CCCD 001099012348\n");
  CHECK(r.parts[6].place_at(0) == at(Place::comment, 1));
  CHECK(r.places_of("Nguyễn Văn An").size() == 1);  // the table cell only, not the comment's author
  // The master: its own text box; the page-number field's "<number>" is not text.
  CHECK(r.parts[7].text == "Mẫu chung: TỐI MẬT\n");
  CHECK(r.parts[7].place_at(0) == at(Place::slide_master));
}

// ---- xlsx --------------------------------------------------------------------------------------

TEST_CASE("places xlsx: inline strings (openpyxl) anchored to their cells", "[extractors][places]") {
  REQUIRE(count(entry("inline.xlsx", "xl/worksheets/sheet1.xml"), "t=\"inlineStr\"") == 7);
  const OfficeRead r = read("inline.xlsx", FileType::xlsx);
  REQUIRE(r.outcome.good());
  const TextPart* sheet = r.part("xl/worksheets/sheet1.xml");
  REQUIRE(sheet != nullptr);
  CHECK(sheet->text == "TỐI MẬT\nHọ tên\tSố CCCD\tGhi chú\nNguyễn Văn An\t001099012345\tmật khẩu cấp lại\n");
  CHECK(sheet->place_at(0) == at(Place::sheet, 1, true, "A1"));
  CHECK(sheet->place_at(sheet->text.find("Họ tên")) == at(Place::sheet, 1, false, "A2"));
  CHECK(sheet->place_at(sheet->text.find("001099012345")) == at(Place::sheet, 1, false, "B3"));
  CHECK(r.text_at(Place::sheet_name) == "Hồ sơ\n");
}

TEST_CASE("places xlsx: a stamp stored as rich text in two runs reads as one cell, a cell comment",
          "[extractors][places]") {
  const std::string shared = entry("rich.xlsx", "xl/sharedStrings.xml");
  REQUIRE(shared.find("TỐI </t></r><r>") != std::string::npos);  // "TỐI " and "MẬT" are two runs
  const OfficeRead r = read("rich.xlsx", FileType::xlsx);
  REQUIRE(r.outcome.good());
  const TextPart* sheet = r.part("xl/worksheets/sheet1.xml");
  REQUIRE(sheet != nullptr);
  CHECK(sheet->place == at(Place::sheet, 1));
  CHECK(sheet->text == "TỐI MẬT\nSố: 15/QĐ-UBND\tmật khẩu\n");
  CHECK(sheet->place_at(0) == at(Place::sheet, 1, true, "A1"));
  CHECK(sheet->place_at(std::string("TỐI ").size()) == at(Place::sheet, 1, true, "A1"));
  CHECK(sheet->place_at(sheet->text.find("Số:")) == at(Place::sheet, 1, false, "A2"));
  CHECK(r.text_at(Place::comment) == "Ghi chú ô: CCCD 001099012345\n");
  CHECK(r.places_of("001099012345")[0] == at(Place::comment, 1, false, "B2"));
  CHECK(r.text_at(Place::sheet_name) == "Công văn\n");
  // LibreOffice's default page footer "Page &P": the word is typed, the page number is a code.
  CHECK(r.text_at(Place::footer) == "Page\n");
}
