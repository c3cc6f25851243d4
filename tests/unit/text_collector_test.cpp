// TextCollector: parts, paragraphs, cells, anchors, inner paths, UTF-8 repair and the text limit.
#include <catch2/catch.hpp>

#include "extractors/text_collector.h"

using namespace promptwall::extractors;

TEST_CASE("collector joins runs into paragraphs and cells into tab-separated rows", "[extractors][collector]") {
  TextCollector c(1 << 20);
  c.begin_part({Place::body}, "word/document.xml");
  c.text("TỐI ");
  c.text("MẬT");
  c.end_paragraph();
  c.end_paragraph();  // an empty paragraph adds no second line break
  c.anchor({Place::table, 0, "", "", true});
  c.text("Họ tên");
  c.end_cell();
  c.text("CCCD");
  c.end_paragraph();
  auto parts = c.take();
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].text == "TỐI MẬT\nHọ tên\tCCCD\n");
  REQUIRE(parts[0].anchors.size() == 2);
  CHECK(parts[0].anchors[0].offset == 0);
  CHECK(parts[0].anchors[0].place.place == Place::body);
  CHECK(parts[0].place_at(3).place == Place::body);
  CHECK(parts[0].place_at(std::string("TỐI MẬT\n").size()).place == Place::table);
  CHECK(parts[0].place_at(std::string("TỐI MẬT\n").size()).prominent);
}

TEST_CASE("collector drops empty parts and prefixes inner files' places", "[extractors][collector]") {
  TextCollector c(1 << 20);
  c.begin_part({Place::header}, "word/header1.xml");  // nothing written: dropped
  c.begin_part({Place::body}, "");
  c.text("outer");
  CHECK(c.enter_inner("lists") == 1);
  CHECK(c.enter_inner("q3.xlsx") == 2);
  c.begin_part({Place::sheet, 2, "B3"}, "xl/worksheets/sheet2.xml");
  c.text("001099012345");
  c.leave_inner();
  c.leave_inner();
  c.begin_part({Place::footer}, "");
  c.text("x");
  auto parts = c.take();
  REQUIRE(parts.size() == 3);
  CHECK(parts[0].place.place == Place::body);
  CHECK(parts[1].place.inner == "lists/q3.xlsx");
  CHECK(describe_en(parts[1].place) == "lists/q3.xlsx, sheet 2, cell B3");
  CHECK(describe_vi(parts[1].place) == "lists/q3.xlsx, trang tính 2, ô B3");
  CHECK(parts[2].place.inner.empty());
}

TEST_CASE("collector repairs invalid UTF-8 and stops at the text limit on a character boundary", "[extractors][collector]") {
  TextCollector c(64);
  c.text(std::string_view("a\xC3(b\xED\xA0\x80", 7));  // a truncated sequence and a surrogate
  auto parts = c.take();
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].text == "a\xEF\xBF\xBD(b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK_FALSE(c.full());

  TextCollector small(8);
  small.text("MẬT MẬT MẬT");  // 'Ậ' is 3 bytes: the cut must not split it
  CHECK(small.full());
  small.text("more");
  auto cut = small.take();
  REQUIRE(cut.size() == 1);
  CHECK(cut[0].text == "MẬT M");
  CHECK(small.bytes() <= 8);
}

TEST_CASE("places are described in Vietnamese and English without document text", "[extractors][collector]") {
  CHECK(describe_en(SpanPlace{Place::header}) == "page header");
  CHECK(describe_vi(SpanPlace{Place::header}) == "đầu trang");
  CHECK(describe_en(SpanPlace{Place::body, 3}) == "page 3");
  CHECK(describe_vi(SpanPlace{Place::body, 3}) == "trang 3");
  CHECK(describe_en(SpanPlace{Place::slide_notes, 2}) == "slide 2 notes");
  CHECK(describe_vi(SpanPlace{Place::slide_notes, 2}) == "ghi chú trang chiếu 2");
  CHECK(to_string(Unscannable::zip_bomb) == "zip_bomb");
  CHECK(unscannable_from_string("image_only") == Unscannable::image_only);
  CHECK_FALSE(unscannable_from_string("none").has_value());
  CHECK(to_string(FileType::docx) == "docx");
}

TEST_CASE("an inner file's name with raw 8-bit bytes is repaired like text", "[extractors][collector]") {
  // A mail attachment named "ho\x85-so.txt" (no charset): the place must stay UTF-8, or the
  // sandbox's strict wire format refuses the worker's answer (found by fuzzing document_extractor).
  TextCollector c(1 << 10);
  c.enter_inner(std::string_view("ho\x85-so.txt", 10));
  c.text("x");
  auto parts = c.take();
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].place.inner == "ho\xEF\xBF\xBD-so.txt");
}
