// A stamp typed in a legacy Vietnamese font reaches the scanner's legacy view through a document:
// LibreOffice's docx (tests/data/documents/make_office_places.py) holds "TèI MËT" in a ".VnTime"
// run, the TCVN3 bytes of "TỐI MẬT" as Latin-1 shows them, and no Unicode stamp. The reader
// passes the look-alikes through unchanged; the gateway's RequestInspector, reading the file with
// an in-process DocumentExtractor, must find vn.secret.degree-stamp in the legacy view and refuse.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "classifiers/scanner.h"
#include "extractors/document_extractor.h"
#include "gateway/adapters/request_inspector.h"
#include "test_support.h"

namespace promptwall::gateway {
namespace {

std::string places_fixture(const std::string& name) {
  std::ifstream in(std::string(PROMPTWALL_SOURCE_DIR) + "/tests/data/documents/office/places/" + name,
                   std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("a TCVN3 stamp in a .VnTime run of a docx is refused through the legacy view",
          "[extractors][places][inspector]") {
  const std::string docx = places_fixture("legacy_font.docx");

  // What the reader hands the scanner: the look-alikes as the font showed them, no Unicode stamp.
  const extractors::DocumentExtractor extractor;
  const extractors::ExtractedDocument doc = extractor.extract(docx, "cong-van.docx");
  REQUIRE(doc.complete());
  REQUIRE(doc.parts.size() == 1);
  CHECK(doc.parts[0].text == "Kính gửi: Phòng Tổ chức\nTèI MËT\nBáo cáo tháng 9.\n");

  Service service;
  service.name = "openai";
  service.schema = Schema::openai;
  RequestInspector inspector{InspectorLimits{}, 4};
  DocumentReader reader = [&](std::string_view bytes, std::string_view name) { return extractor.extract(bytes, name); };
  const PolicyLayer global{Mode::enforce, {}, {}, {}};
  const std::vector<const PolicyLayer*> layers{&global};
  Scanner scanner(test::builtin_ruleset());
  const std::string body = "--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n"
                           "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cong-van.docx\"\r\n"
                           "Content-Type: application/octet-stream\r\n\r\n" + docx + "\r\n--XyZ--\r\n";
  const InspectionRequest request{&service, "/v1/files", "multipart/form-data; boundary=XyZ", "", body};
  const Inspection in = inspector.inspect(request, scanner, layers, "req-legacy", &reader);

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
