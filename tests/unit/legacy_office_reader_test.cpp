// read_legacy_office: LibreOffice's Word 97 and Excel 97 files through antiword and xls2csv
// (run as children over a memory file), a password-protected .doc, files the tools reject, and
// the limits on output and time.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <string>
#include <vector>

#include "extractors/legacy_office_reader.h"
#include "other_documents_support.h"

using namespace promptwall::extractors;
using promptwall::test::other_document;
using promptwall::test::RecordingContext;

namespace {

struct Read {
  ReadOutcome outcome;
  std::vector<TextPart> parts;
};

Read read(FileType type, const std::string& bytes, RecordingContext& rc) {
  TextCollector out(rc.limits.max_text_bytes);
  Read r;
  r.outcome = read_legacy_office(type, bytes, out, rc.ctx);
  r.parts = out.take();
  return r;
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
