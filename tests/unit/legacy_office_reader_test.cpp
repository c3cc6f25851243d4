// read_legacy_office: LibreOffice's Word 97 and Excel 97 files through antiword and xls2csv
// (run as children over a memory file), its PowerPoint 97 file read in-process, a
// password-protected .doc, files the tools reject, and the limits on output and time.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <string>
#include <vector>

#include "extractors/legacy_office_reader.h"
#include "other_documents_support.h"

using namespace promptwall::extractors;
using promptwall::test::other_document;
using promptwall::test::RecordingContext;
using promptwall::test::run_reader;
using promptwall::test::text_at;

namespace {

using Read = promptwall::test::ReaderRun;

Read read(FileType type, const std::string& bytes, RecordingContext& rc) {
  return run_reader(rc.limits.max_text_bytes,
                    [&](TextCollector& out) { return read_legacy_office(type, bytes, out, rc.ctx); });
}

bool installed(const char* tool) { return ::access((std::string("/usr/bin/") + tool).c_str(), X_OK) == 0; }

}  // namespace

TEST_CASE("legacy office: a Word 97 letter through antiword, its table as rows of cells", "[extractors][legacy_office]") {
  if (!installed("antiword")) {
    WARN("SKIPPED: antiword is not installed");
    return;
  }
  RecordingContext rc;
  const Read r = read(FileType::doc, other_document("letter.doc"), rc);
  REQUIRE(r.outcome.good());
  REQUIRE(r.parts.size() == 1);
  const TextPart& p = r.parts[0];
  CHECK(p.text ==
        "TỐI MẬT\n"
        "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI\n"
        "Số: 12/QĐ-UBND\n"
        "QUYẾT ĐỊNH\n"
        "Ông Nguyễn Văn An, CCCD 001099012345, được cấp mật khẩu truy cập.[1]\n"
        "Họ và tên\tSố CCCD\n"
        "Trần Thị Bình\t001099012346\n"
        "TèI MËT\n"  // the .VnTimeH line: TCVN3 look-alikes reach the collector unchanged
        "Trang hai: danh sách người nhận.\n"
        "-----------------------\n"
        "[1]\tTheo Quy chế bảo mật số 7.\n");
  CHECK(p.place_at(0).place == Place::body);
  CHECK(p.place_at(p.text.find("Họ và tên")).place == Place::table);
  CHECK(p.place_at(p.text.find("001099012346")).place == Place::table);
  CHECK(p.place_at(p.text.find("TèI MËT")).place == Place::body);
}

TEST_CASE("legacy office: an Excel 97 workbook through xls2csv, a part per sheet", "[extractors][legacy_office]") {
  if (!installed("xls2csv")) {
    WARN("SKIPPED: xls2csv (catdoc) is not installed");
    return;
  }
  RecordingContext rc;
  const Read r = read(FileType::xls, other_document("roster.xls"), rc);
  REQUIRE(r.outcome.good());
  REQUIRE(r.parts.size() == 2);
  CHECK(r.parts[0].place.place == Place::sheet);
  CHECK(r.parts[0].place.page == 1);
  CHECK(r.parts[0].text ==
        "Họ và tên\tSố CCCD\tGhi chú\n"
        "Nguyễn Văn An\t001099012345\tmật khẩu: Hoa$Sen2024\n"
        "Trần Thị Bình\t001099012346\tTỐI MẬT\n");
  CHECK(r.parts[1].place.page == 2);
  CHECK(r.parts[1].text == "Tháng\tSố tiền\nTháng 9\t15000000\n");
}

TEST_CASE("legacy office: a password-protected .doc is encrypted", "[extractors][legacy_office]") {
  if (!installed("antiword")) {
    WARN("SKIPPED: antiword is not installed");
    return;
  }
  RecordingContext rc;
  const Read r = read(FileType::doc, other_document("locked.doc"), rc);
  CHECK(r.outcome.cause == Unscannable::encrypted);
  CHECK(r.outcome.detail == "antiword reports a password-protected file");
}

TEST_CASE("legacy office: files the tools reject are extractor_failed", "[extractors][legacy_office]") {
  if (!installed("antiword") || !installed("xls2csv")) {
    WARN("SKIPPED: antiword or xls2csv is not installed");
    return;
  }
  RecordingContext rc;
  const std::string cut = other_document("letter.doc").substr(0, 3000);
  const Read doc = read(FileType::doc, cut, rc);
  CHECK(doc.outcome.cause == Unscannable::extractor_failed);
  CHECK(doc.outcome.detail == "antiword could not read the file (exit status 1)");
  // xls2csv exits 0 on a file it cannot read: its complaint and no text make it a failure.
  const Read xls = read(FileType::xls, cut, rc);
  CHECK(xls.outcome.cause == Unscannable::extractor_failed);
  CHECK(xls.outcome.detail == "xls2csv could not read the file (no text and an error message)");
  CHECK(read(FileType::xls, "", rc).outcome.cause == Unscannable::extractor_failed);
  CHECK(read(FileType::pdf, cut, rc).outcome.cause == Unscannable::extractor_failed);
}

TEST_CASE("legacy office: output past max_text_bytes is too_big, a slow tool is a timeout", "[extractors][legacy_office]") {
  if (!installed("antiword")) {
    WARN("SKIPPED: antiword is not installed");
    return;
  }
  RecordingContext small;
  small.limits.max_text_bytes = 10;  // the tool may print 10 + 10/4 + 4096 bytes: the letter is shorter
  TextCollector out(small.limits.max_text_bytes);
  const ReadOutcome r = read_legacy_office(FileType::doc, other_document("letter.doc"), out, small.ctx);
  CHECK(r.cause == Unscannable::too_big);
  CHECK(out.bytes() <= 10);

  RecordingContext hurried;
  hurried.limits.time_per_file = std::chrono::milliseconds(0);
  CHECK(read(FileType::doc, other_document("letter.doc"), hurried).outcome.cause == Unscannable::timeout);
}

TEST_CASE("legacy office: a PowerPoint 97 file's slides, notes and masters, read in-process", "[extractors][legacy_office]") {
  RecordingContext rc;
  const Read r = read(FileType::ppt, other_document("slides.ppt"), rc);
  REQUIRE(r.outcome.good());
  std::vector<std::pair<std::string, std::string>> slides;  // "slide 1" -> text
  for (const auto& p : r.parts)
    if (p.place.place == Place::slide || p.place.place == Place::slide_notes)
      slides.emplace_back(std::string(to_string(p.place.place)) + " " + std::to_string(p.place.page), p.text);
  const std::vector<std::pair<std::string, std::string>> expected{
      {"slide 1", "Kế hoạch bảo mật quý 3\nMật khẩu quản trị: Hoa$Sen2024\n"},
      {"slide 2", "TỐI MẬT\nSố: 12/QĐ-UBND\n"},
      {"slide_notes 1", "Ghi chú: không gửi ra ngoài\n"},
      {"slide_notes 2", "Người trình bày: Nguyễn Văn An\n"},
  };
  CHECK(slides == expected);
  // The master's placeholder prompts are read, under slide_master.
  CHECK(text_at(r.parts, Place::slide_master).find("Click to edit the title text format\n") != std::string::npos);
}

TEST_CASE("legacy office: a .ppt that is cut, lies or is no compound file never crashes", "[extractors][legacy_office]") {
  RecordingContext rc;
  const std::string ppt = other_document("slides.ppt");
  CHECK(read(FileType::ppt, "not a compound file", rc).outcome.cause == Unscannable::extractor_failed);
  CHECK(read(FileType::ppt, other_document("letter.doc"), rc).outcome.detail == "ppt: no PowerPoint Document stream");
  for (size_t cut : {size_t{600}, ppt.size() / 3, ppt.size() / 2, ppt.size() - 700}) {
    INFO("cut at " << cut);
    const Read r = read(FileType::ppt, ppt.substr(0, cut), rc);
    CHECK((r.outcome.good() || r.outcome.cause == Unscannable::extractor_failed));
  }
  // Every record length set to its maximum: each is capped by its container.
  std::string lying = ppt;
  for (size_t at = lying.find(std::string("\xA0\x0F", 2)); at != std::string::npos && at + 6 < lying.size();
       at = lying.find(std::string("\xA0\x0F", 2), at + 2))
    lying.replace(at + 2, 4, std::string("\xFF\xFF\xFF\xFF", 4));
  const Read l = read(FileType::ppt, lying, rc);
  CHECK((l.outcome.good() || l.outcome.cause == Unscannable::extractor_failed));
}
