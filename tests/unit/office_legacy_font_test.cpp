// A stamp typed in a legacy Vietnamese font reaches the scanner's legacy view through a document:
// LibreOffice's docx (tests/data/documents/make_office_places.py) holds "TèI MËT" in a ".VnTime"
// run, the TCVN3 bytes of "TỐI MẬT" as Latin-1 shows them, and no Unicode stamp. The reader
// passes the look-alikes through unchanged; the gateway's RequestInspector, reading the file with
// an in-process DocumentExtractor, must find vn.secret.degree-stamp in the legacy view and refuse.
#include <catch2/catch.hpp>

#include <string>

#include "extractors/document_extractor.h"
#include "document_inspection_support.h"

namespace promptwall::gateway {

TEST_CASE("a TCVN3 stamp in a .VnTime run of a docx is refused through the legacy view",
          "[extractors][places][inspector]") {
  const std::string docx = test::document_fixture("office/places", "legacy_font.docx");

  // What the reader hands the scanner: the look-alikes as the font showed them, no Unicode stamp.
  const extractors::DocumentExtractor extractor;
  const extractors::ExtractedDocument doc = extractor.extract(docx, "cong-van.docx");
  REQUIRE(doc.complete());
  REQUIRE(doc.parts.size() == 1);
  CHECK(doc.parts[0].text == "Kính gửi: Phòng Tổ chức\nTèI MËT\nBáo cáo tháng 9.\n");

  test::DocumentInspection inspection;
  const Inspection in = inspection.upload("cong-van.docx", docx);

  REQUIRE(in.outcome == Inspection::Outcome::refuse);
  REQUIRE(in.refusal);
  CHECK(in.refusal->reason == Refusal::Reason::sensitive_content);
  CHECK(in.refusal->file_name == "cong-van.docx");
  REQUIRE(in.files.size() == 1);
  CHECK(in.files[0].type == "docx");
  bool stamp_in_legacy_view = false;
  for (const auto& lf : in.findings) {
    if (lf.finding.rule_id != "vn.secret.degree-stamp") continue;
    CHECK(lf.finding.view == ViewKind::legacy);
    CHECK(lf.location == "file cong-van.docx: " + extractors::describe_en(extractors::SpanPlace{extractors::Place::body}));
    stamp_in_legacy_view = stamp_in_legacy_view || lf.finding.view == ViewKind::legacy;
  }
  CHECK(stamp_in_legacy_view);
}

}  // namespace promptwall::gateway
