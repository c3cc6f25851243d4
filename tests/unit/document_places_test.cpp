// Where a match sits in its document (issue 13: "stamp rules may weigh where a span sits"): the
// PlaceMap a scanned part carries, the tags made from an extracted document's places
// (gateway/adapters/document_places.h), and the gateway refusing a degree stamped beside the
// document number in a docx's page header while the same line in a body or a prompt passes
// (vn.secret.degree-in-document-header: base 0.4, header +0.3, prominent +0.3).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "classifiers/scanner.h"
#include "extractors/document_extractor.h"
#include "gateway/adapters/block_response.h"
#include "gateway/adapters/document_places.h"
#include "gateway/adapters/request_inspector.h"
#include "document_inspection_support.h"
#include "test_support.h"

namespace promptwall::gateway {
namespace {

using extractors::Place;
using extractors::SpanPlace;

constexpr PlaceTags kHeader = place_bit(PlaceTag::header);
constexpr PlaceTags kProminent = place_bit(PlaceTag::prominent);
constexpr PlaceTags kTable = place_bit(PlaceTag::table);

std::string fixture(const std::string& name) { return test::document_fixture("requests", name); }

using Setup = test::DocumentInspection;

bool has_rule(const Inspection& in, std::string_view id) {
  for (const auto& f : in.findings)
    if (f.finding.rule_id == id) return true;
  return false;
}

}  // namespace

TEST_CASE("a PlaceMap keeps one run per change of tags and answers by binary search", "[places]") {
  PlaceMap m;
  CHECK(m.tags_at(0) == 0);
  m.add(0, 0);  // body from the start: no run
  CHECK(m.empty());
  m.add(10, kHeader);
  m.add(20, kHeader);  // no change: no run
  m.add(30, kTable);
  m.add(30, kTable | kProminent);  // the same offset: replaced
  m.add(25, kHeader);              // backwards: ignored
  m.add(40, 0);
  REQUIRE(m.runs().size() == 3);
  CHECK(m.tags_at(0) == 0);
  CHECK(m.tags_at(9) == 0);
  CHECK(m.tags_at(10) == kHeader);
  CHECK(m.tags_at(29) == kHeader);
  CHECK(m.tags_at(30) == (kTable | kProminent));
  CHECK(m.tags_at(39) == (kTable | kProminent));
  CHECK(m.tags_at(40) == 0);
  CHECK(m.tags_at(4'000'000'000u) == 0);
  // Replacing the last run with the tags of the one before merges them.
  m.add(40, kTable | kProminent);
  CHECK(m.runs().size() == 2);
  CHECK(m.tags_at(100) == (kTable | kProminent));

  CHECK(PlaceMap::whole(kHeader).tags_at(0) == kHeader);
  CHECK(PlaceMap::whole(kHeader).tags_at(123456) == kHeader);
  CHECK(PlaceMap::whole(0).empty());
}

TEST_CASE("each place of an extracted document is the tag of the same name, prominent adding its own", "[places]") {
  for (uint8_t v = 0; v <= static_cast<uint8_t>(Place::attachment); ++v) {
    const auto place = static_cast<Place>(v);
    INFO(extractors::to_string(place));
    const PlaceTags tags = place_tags(SpanPlace{place});
    if (place == Place::body || place == Place::attachment) {
      CHECK(tags == 0);
    } else {
      REQUIRE(tags != 0);
      CHECK((tags & (tags - 1)) == 0);  // exactly one tag
      const auto tag = place_tag_from_string(extractors::to_string(place));
      REQUIRE(tag);
      CHECK(tags == place_bit(*tag));
    }
    SpanPlace prominent{place};
    prominent.prominent = true;
    CHECK(place_tags(prominent) == (tags | kProminent));
  }
  // Page, cell and inner file do not matter.
  CHECK(place_tags(SpanPlace{Place::sheet, 2, "B3", "lists/q3.xlsx", false}) == place_bit(PlaceTag::sheet));
}

TEST_CASE("a part's PlaceMap follows its place and anchors as place_at does", "[places]") {
  extractors::TextPart part;
  part.place = SpanPlace{Place::body, 1, "", "", true};
  part.text = "TỐI MẬT\nBáo cáo\nHọ tên\tCCCD\nAn\t001099012345\n";
  const auto at = [&](std::string_view s) { return static_cast<uint32_t>(part.text.find(s)); };
  part.anchors = {{0, SpanPlace{Place::body, 1, "", "", true}},
                  {at("Báo"), SpanPlace{Place::body, 1}},
                  {at("Họ"), SpanPlace{Place::table, 0, "", "", true}},
                  {at("\tCCCD"), SpanPlace{Place::table}}};
  const PlaceMap m = place_map(part);
  for (uint32_t i = 0; i < part.text.size(); ++i) {
    INFO(i);
    CHECK(m.tags_at(i) == place_tags(part.place_at(i)));
  }
  CHECK(m.tags_at(0) == kProminent);
  CHECK(m.tags_at(at("Báo")) == 0);
  CHECK(m.tags_at(at("Họ")) == (kTable | kProminent));
  CHECK(m.tags_at(at("001099012345")) == kTable);

  extractors::TextPart header;
  header.place = SpanPlace{Place::header, 0, "", "", true};
  header.text = "MẬT  Số: 15/BC-UBND\n";
  CHECK(place_map(header).tags_at(0) == (kHeader | kProminent));
  CHECK(place_map(header).tags_at(20) == (kHeader | kProminent));
}

TEST_CASE("a degree beside the document number in a docx's page header is refused naming the page header", "[places]") {
  Setup s;
  const Inspection in = s.upload("bao-cao-15.docx", fixture("header-stamp.docx"));
  REQUIRE(in.outcome == Inspection::Outcome::refuse);
  REQUIRE(in.refusal);
  CHECK(in.refusal->reason == Refusal::Reason::sensitive_content);
  CHECK(in.refusal->file_name == "bao-cao-15.docx");
  CHECK(in.refusal->file_place_en == "page header");
  CHECK(in.refusal->file_place_vi == "đầu trang");
  // Only the place-weighed rule reads it: the degree-column rule wants three spaces or a tab.
  bool stamp = false;
  for (const auto& lf : in.findings) {
    CHECK(lf.finding.rule_id != "vn.secret.degree-column");
    if (lf.finding.rule_id == "vn.secret.degree-in-document-header") {
      stamp = true;
      CHECK(lf.location == "file bao-cao-15.docx: page header");
      CHECK(lf.finding.confidence == Approx(1.0));  // 0.4 + header 0.3 + prominent 0.3
      CHECK(lf.finding.action == Action::block);
    }
  }
  CHECK(stamp);
  CHECK(refusal_message(*in.refusal).find("MẬT") == std::string::npos);  // never the text
}

TEST_CASE("the same line in the body of a docx or in a chat prompt is not refused", "[places]") {
  Setup s;
  const Inspection body = s.upload("bien-ban.docx", fixture("body-stamp-line.docx"));
  CHECK(body.outcome != Inspection::Outcome::refuse);
  CHECK_FALSE(has_rule(body, "vn.secret.degree-in-document-header"));
  REQUIRE(body.files.size() == 1);
  CHECK(body.files[0].unscannable == extractors::Unscannable::none);
  CHECK(has_rule(body, "vn.doc.admin-number"));  // the line was read and scanned

  const std::string chat = R"({"model":"gpt-4o","messages":[{"role":"user","content":"MẬT  Số: 15/BC-UBND\nTóm tắt giúp tôi"}]})";
  const Inspection prompt = s.inspect(chat, "application/json", "/v1/chat/completions");
  CHECK(prompt.outcome != Inspection::Outcome::refuse);
  CHECK_FALSE(has_rule(prompt, "vn.secret.degree-in-document-header"));
  CHECK(has_rule(prompt, "vn.doc.admin-number"));
}

}  // namespace promptwall::gateway
