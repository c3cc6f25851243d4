// read_pdf: LibreOffice's PDF of a two-page Vietnamese letter (pages, lines, the prominent top,
// document info), the same PDF encrypted by qpdf (a user password; an owner password only), with
// a file attached, a picture-only page, and PDFs that do not load.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "extractors/pdf_reader.h"
#include "other_documents_support.h"

using namespace promptwall::extractors;
using promptwall::test::other_document;
using promptwall::test::RecordingContext;
using promptwall::test::run_reader;
using promptwall::test::text_at;

namespace {

using Read = promptwall::test::ReaderRun;

Read read(const std::string& bytes, RecordingContext& rc, uint64_t max_text = 16 << 20) {
  return run_reader(max_text, [&](TextCollector& out) { return read_pdf(bytes, out, rc.ctx); });
}

std::vector<std::string> lines(std::string_view text) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = text.find('\n', at);
    out.emplace_back(text.substr(at, end - at));
    if (end == std::string_view::npos) break;
    at = end + 1;
  }
  return out;
}

const std::string kPage1 =
    "Văn bản nội bộ UBND\n"  // the page header, printed on the page
    "TỐI MẬT\n"
    "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI\n"
    "Số: 12/QĐ-UBND\n"
    "QUYẾT ĐỊNH\n"
    "Ông Nguyễn Văn An, CCCD 001099012345, được cấp mật khẩu truy cập.1\n";
const std::string kPage2 = "Văn bản nội bộ UBND\nTrang hai: danh sách người nhận.\nLưu hành hạn chế\n";

}  // namespace

TEST_CASE("pdf: a letter's pages, line by line, anchored at each page", "[extractors][pdf]") {
  RecordingContext rc;
  const Read r = read(other_document("letter.pdf"), rc);
  REQUIRE(r.outcome.good());
  REQUIRE(r.parts.size() == 2);
  const TextPart& body = r.parts[0];
  CHECK(body.place.place == Place::body);
  REQUIRE(body.text.substr(0, kPage1.size()) == kPage1);

  // The table's row keeps its columns apart by spaces (the structure pass reads space-aligned tables).
  const auto all = lines(body.text);
  REQUIRE(all.size() == 14);
  CHECK(all[6].rfind("Họ và tên  ", 0) == 0);
  CHECK(all[6].substr(all[6].size() - std::string("  Số CCCD").size()) == "  Số CCCD");
  CHECK(all[7].rfind("Trần Thị Bình  ", 0) == 0);
  CHECK(all[7].substr(all[7].size() - 14) == "  001099012346");
  CHECK(all[8] == "TèI MËT");  // TCVN3 look-alikes pass through as the font showed them
  CHECK(all[9] == "1   Theo Quy chế bảo mật số 7.");
  CHECK(all[10] == "Lưu hành hạn chế");

  // Page 2 starts where its anchor is.
  const size_t page2 = body.text.find(kPage2);
  REQUIRE(page2 != std::string::npos);
  CHECK(page2 + kPage2.size() == body.text.size());
  CHECK(body.place_at(0).page == 1);
  CHECK(body.place_at(page2 - 1).page == 1);
  CHECK(body.place_at(page2).page == 2);
  CHECK(body.place_at(body.text.size() - 1).page == 2);

  // The first kPdfProminentLines lines of page 1 are prominent, the rest are not.
  size_t eighth_end = 0;
  for (size_t i = 0; i < kPdfProminentLines; ++i) eighth_end = body.text.find('\n', eighth_end) + 1;
  CHECK(body.place_at(body.text.find("TỐI MẬT")).prominent);
  CHECK(body.place_at(eighth_end - 2).prominent);
  CHECK_FALSE(body.place_at(eighth_end).prominent);
  CHECK(body.place_at(eighth_end).page == 1);
  CHECK_FALSE(body.place_at(page2).prominent);
  CHECK(rc.inner.empty());
}

TEST_CASE("pdf: document info as properties", "[extractors][pdf]") {
  RecordingContext rc;
  const Read r = read(other_document("letter.pdf"), rc);
  REQUIRE(r.outcome.good());
  CHECK(text_at(r.parts, Place::properties) ==
        "Quyết định cấp mật khẩu\nBảo mật hệ thống\nPhòng Hành chính\nmật khẩu, TỐI MẬT\nWriter\n");
}

TEST_CASE("pdf: a user password stops it, an owner password alone does not", "[extractors][pdf]") {
  RecordingContext rc;
  const Read locked = read(other_document("locked.pdf"), rc);
  CHECK(locked.outcome.cause == Unscannable::encrypted);
  CHECK(locked.parts.empty());

  const Read restricted = read(other_document("restricted.pdf"), rc);
  REQUIRE(restricted.outcome.good());
  REQUIRE_FALSE(restricted.parts.empty());
  CHECK(restricted.parts[0].text.substr(0, kPage1.size()) == kPage1);
}

TEST_CASE("pdf: an attached file goes to read_inner under its name", "[extractors][pdf]") {
  RecordingContext rc;
  const Read r = read(other_document("attached.pdf"), rc);
  REQUIRE(r.outcome.good());
  REQUIRE(rc.inner.size() == 1);
  CHECK(rc.inner[0].name == "ghichu.txt");
  CHECK(rc.inner[0].bytes == "Ghi chú đính kèm: mật khẩu kho lưu trữ là Sen@2024\n");
  CHECK(r.parts[0].text.substr(0, kPage1.size()) == kPage1);

  // The attachment's own cause is the PDF's.
  RecordingContext failing;
  failing.answer = ReadOutcome::stop(Unscannable::encrypted, "inner");
  CHECK(read(other_document("attached.pdf"), failing).outcome.cause == Unscannable::encrypted);
}

TEST_CASE("pdf: pages without a text layer are image_only", "[extractors][pdf]") {
  RecordingContext rc;
  const Read r = read(other_document("scan.pdf"), rc);
  CHECK(r.outcome.cause == Unscannable::image_only);
  CHECK(r.outcome.detail == "1 PDF page(s) with no text layer");
}

TEST_CASE("pdf: what does not load is truncated, never a crash", "[extractors][pdf]") {
  RecordingContext rc;
  CHECK(read("%PDF-1.7\n", rc).outcome.cause == Unscannable::truncated);
  CHECK(read("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n%%EOF", rc).outcome.cause ==
        Unscannable::truncated);
  CHECK(read("", rc).outcome.cause == Unscannable::truncated);
  // The letter cut anywhere: poppler repairs what it can, the missing %%EOF says it was cut.
  const std::string pdf = other_document("letter.pdf");
  for (size_t cut : {size_t{16}, pdf.size() / 4, pdf.size() / 2, pdf.size() - 200}) {
    INFO("cut at " << cut);
    CHECK(read(pdf.substr(0, cut), rc).outcome.cause == Unscannable::truncated);
  }
  // Junk after %%EOF is allowed.
  CHECK(read(pdf + std::string("\n\0\0 trailing junk", 17), rc).outcome.good());
}

TEST_CASE("pdf: text over max_text_bytes is too_big", "[extractors][pdf]") {
  RecordingContext rc;
  const Read r = read(other_document("letter.pdf"), rc, 40);
  CHECK(r.outcome.cause == Unscannable::too_big);
  REQUIRE(r.parts.size() == 1);
  CHECK(r.parts[0].text.size() <= 40);
  CHECK(kPage1.rfind(r.parts[0].text, 0) == 0);
}
