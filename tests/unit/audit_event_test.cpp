// The audit events' JSON form and the evidence an event may hold about a match.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "audit/event.h"
#include "audit/evidence.h"
#include "../support/temp_dir.h"

using namespace promptwall::audit;
using promptwall::test::TempDir;
using namespace std::chrono_literals;

namespace {

DecisionEvent sample_event() {
  DecisionEvent e;
  e.time = Clock::time_point(1'764'144'902'123ms);
  e.event_id = "01KB0000000000000000000000";
  e.request_id = "a1b2c3d4e5f60718";
  e.client = "10.1.2.3:51234";
  e.user = "an.nguyen";
  e.unit = "van-phong";
  e.service = "openai";
  e.method = "POST";
  e.path = "/v1/chat/completions";
  e.decision = "redact";
  e.mode = "enforce";
  e.forwarded = true;
  EventFinding f;
  f.rule_id = "vn.pii.cccd";
  f.category = "national_id";
  f.severity = "high";
  f.action = "redact";
  f.count = 2;
  f.locations = {"messages[0].content"};
  f.evidence = {{"messages[0].content", "CCCD «07••••••••34»", std::string(64, 'a')}};
  e.findings.push_back(f);
  e.ruleset = "abc123";
  e.bytes_in = 812;
  e.bytes_forwarded = 809;
  e.latency_ms = 0.41234567;
  e.scan_ms = 0.1;
  return e;
}

}  // namespace

TEST_CASE("a decision event is a JSON object with type first, and reads back whole", "[audit][event]") {
  const DecisionEvent e = sample_event();
  const std::string text = to_json_object(e);
  REQUIRE(text.rfind("{\"type\":\"decision\",", 0) == 0);
  auto j = nlohmann::json::parse(text);
  CHECK(j["time"] == "2025-11-26T08:15:02.123Z");
  CHECK(j["latency_ms"] == 0.412);  // a microsecond is enough
  CHECK_FALSE(j.contains("reason"));  // only refusals have one

  DecisionEvent back = decision_from_json(j);
  CHECK(back.time == e.time);
  CHECK(back.event_id == e.event_id);
  CHECK(back.user == "an.nguyen");
  CHECK(back.unit == "van-phong");
  CHECK(back.decision == "redact");
  CHECK(back.forwarded);
  REQUIRE(back.findings.size() == 1);
  CHECK(back.findings[0].rule_id == "vn.pii.cccd");
  CHECK(back.findings[0].count == 2);
  REQUIRE(back.findings[0].evidence.size() == 1);
  CHECK(back.findings[0].evidence[0].excerpt == "CCCD «07••••••••34»");
  CHECK(back.bytes_forwarded == 809);
}

TEST_CASE("events stay writable with invalid UTF-8, and malformed ones are named", "[audit][event]") {
  DecisionEvent e = sample_event();
  e.path = "/v1/\xff\xfe";
  auto j = nlohmann::json::parse(to_json_object(e));
  CHECK(j["path"].get<std::string>().find("\xef\xbf\xbd") != std::string::npos);  // U+FFFD

  j.erase("decision");
  CHECK_THROWS_WITH(decision_from_json(j), Catch::Contains("'decision'"));
  CHECK_THROWS_WITH(decision_from_json(nlohmann::json{{"type", "triage"}}), Catch::Contains("not a decision event"));
  auto bad_time = nlohmann::json::parse(to_json_object(sample_event()));
  bad_time["time"] = "yesterday";
  CHECK_THROWS_WITH(decision_from_json(bad_time), Catch::Contains("'time'"));
}

TEST_CASE("a triage event round-trips and only takes the four states", "[audit][event]") {
  TriageEvent t;
  t.time = Clock::time_point(1'764'144'902'000ms);
  t.event_id = "01KB0000000000000000000001";
  t.target = "01KB0000000000000000000000";
  t.state = "false_positive";
  t.note = "mật ong, không phải MẬT";
  t.officer = "lan";
  t.client = "127.0.0.1:5000";
  CHECK(to_json_object(t).rfind("{\"type\":\"triage\",", 0) == 0);
  auto j = nlohmann::json::parse(to_json_object(t));
  TriageEvent back = triage_from_json(j);
  CHECK(back.target == t.target);
  CHECK(back.state == "false_positive");
  CHECK(back.note == t.note);
  j["state"] = "ignored";
  CHECK_THROWS_WITH(triage_from_json(j), Catch::Contains("not one of"));
  CHECK(is_triage_state("closed"));
  CHECK_FALSE(is_triage_state("open"));
}

TEST_CASE("times print as RFC 3339 UTC with milliseconds and parse back", "[audit][event]") {
  const Clock::time_point t(1'764'144'902'007ms);
  CHECK(format_time(t) == "2025-11-26T08:15:02.007Z");
  CHECK(parse_time("2025-11-26T08:15:02.007Z") == t);
  CHECK(parse_time("2025-11-26T08:15:02Z") == Clock::time_point(1'764'144'902s));
  CHECK(parse_time("2025-11-26T08:15:02.5Z") == Clock::time_point(1'764'144'902'500ms));
  CHECK_FALSE(parse_time("2025-11-26 08:15:02Z"));
  CHECK_FALSE(parse_time("2025-13-26T08:15:02Z"));
  CHECK_FALSE(parse_time("2025-11-26T08:15:02+07:00"));
  CHECK_FALSE(parse_time(""));
}

TEST_CASE("event ids are 26 Crockford characters that sort by time", "[audit][event]") {
  const uint8_t zeros[10] = {};
  const uint8_t ones[10] = {255, 255, 255, 255, 255, 255, 255, 255, 255, 255};
  const std::string a = new_event_id(Clock::time_point(1'000ms), ones);
  const std::string b = new_event_id(Clock::time_point(1'001ms), zeros);
  CHECK(a.size() == 26);
  CHECK(a < b);
  CHECK(new_event_id(Clock::time_point(0ms), zeros) == std::string(26, '0'));
  CHECK(a.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ") == std::string::npos);
  const uint8_t other[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  CHECK(new_event_id(Clock::time_point(1'000ms), other) != new_event_id(Clock::time_point(1'000ms), zeros));
}

TEST_CASE("a masked excerpt keeps context and only the ends of a long match", "[audit][evidence]") {
  const std::string text = "Số CCCD của ông A là 079201001234, liên hệ 0912345678.";
  const size_t begin = text.find("079201001234"), end = begin + 12;
  const std::string excerpt = masked_excerpt(text, begin, end, 8);
  CHECK(excerpt == "…ng A là «07••••••••34», liên h…");  // 8 characters either side
  CHECK(excerpt.find("079201001234") == std::string::npos);
  CHECK(excerpt.find("9201") == std::string::npos);

  // Digits in the context (a phone number the rules did not flag) are masked too.
  const size_t phone = text.find("0912");
  CHECK(masked_excerpt(text, begin, end, 40).find("0912345678") == std::string::npos);
  (void)phone;

  // A short match shows none of its letters; separators stay so the shape is visible.
  const std::string stamp = "Tài liệu MẬT nội bộ";
  const size_t s = stamp.find("MẬT");
  CHECK(masked_excerpt(stamp, s, s + std::string("MẬT").size(), 4) == "…iệu «•••» nội…");
  // Whole text, no ellipsis; control characters become spaces.
  CHECK(masked_excerpt("a\nTOI MAT\tb", 2, 9, 5) == "a «••• •••» b");
}

TEST_CASE("another finding in a match's context is masked, never shown in clear", "[audit][evidence]") {
  // The slide e2e.no_raw_secrets caught: the stamp was the context of the document number's excerpt.
  const std::string text = "TỐI MẬT\nSố: 12/QĐ-UBND\nNgười trình bày: Nguyễn Văn An";
  const size_t number = text.find("12/QĐ-UBND"), number_end = number + std::string("12/QĐ-UBND").size();
  const size_t stamp_end = std::string("TỐI MẬT").size();
  CHECK(masked_excerpt(text, number, number_end, 16).find("TỐI MẬT") != std::string::npos);  // without the spans
  const std::string excerpt = masked_excerpt(text, number, number_end, 16, {{0, stamp_end}});
  CHECK(excerpt == "••• ••• Số: «12/••-••ND» Người trình bày…");
  CHECK(excerpt.find("MẬT") == std::string::npos);
  // Through the EvidenceMaker, as the gateway makes an event's evidence.
  const EvidenceMaker maker(std::string(32, 'k'));
  CHECK(maker.make(text, number, number_end, "slide 2", 16, {{0, stamp_end}}).excerpt == excerpt);
  // A span that only begins inside the context masks what is inside it, nothing more.
  CHECK(masked_excerpt("ab MẬT cd", 0, 2, 8, {{3, 3 + std::string("MẬT").size()}}) == "«••» ••• cd");
}

TEST_CASE("a span cutting a UTF-8 character is widened, never split", "[audit][evidence]") {
  const std::string text = "xMẬTy";
  // Begin inside "Ậ" (3 bytes starting at 2): the excerpt still holds whole characters.
  const std::string excerpt = masked_excerpt(text, 3, 4, 2);
  CHECK(excerpt == "xM«•»Ty");
}

TEST_CASE("evidence hashes are keyed: same text same hash, another key another hash", "[audit][evidence]") {
  EvidenceMaker a(std::string(32, 'k')), b(std::string(32, 'q'));
  const std::string text = "CCCD 079201001234 và 079201001234";
  auto first = a.make(text, 5, 17, "messages[0].content");
  auto second = a.make(text, 22, 34, "messages[0].content");
  CHECK(first.hmac == second.hmac);
  CHECK(first.hmac.size() == 64);
  CHECK(first.where == "messages[0].content");
  CHECK(b.make(text, 5, 17, "x").hmac != first.hmac);
  CHECK(a.hmac_hex("079201001235") != first.hmac);
  CHECK_THROWS(EvidenceMaker("short"));
}

TEST_CASE("the evidence key is made once (0600) and read back after", "[audit][evidence]") {
  TempDir dir;
  const auto file = dir.path() / "keys" / "evidence.key";
  const std::string h1 = EvidenceMaker::load_or_create(file).hmac_hex("x");
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(EvidenceMaker::load_or_create(file).hmac_hex("x") == h1);
  std::ofstream(dir.path() / "bad.key") << "not hex at all\n";
  std::filesystem::permissions(dir.path() / "bad.key", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);  // a key's mode: read, then refused
  CHECK_THROWS_WITH(EvidenceMaker::load_or_create(dir.path() / "bad.key"), Catch::Contains("hex"));
}

TEST_CASE("a justification round-trips, a record from before it reads back without one", "[audit][event][coaching]") {
  DecisionEvent e = sample_event();
  e.decision = "justify";
  e.justification = {"0123456789abcdef01234567", "Khách hàng «09••••••78» đồng ý", "an.nguyen", "header", ""};
  const auto j = nlohmann::json::parse(to_json_object(e));
  CHECK(j["justification"]["token"] == "0123456789abcdef01234567");
  CHECK(j["justification"]["via"] == "header");
  CHECK_FALSE(j["justification"].contains("refused"));  // only what is set
  const DecisionEvent back = decision_from_json(j);
  CHECK(back.justification.reason == "Khách hàng «09••••••78» đồng ý");
  CHECK(back.justification.by == "an.nguyen");
  // Schema 1 records written before issue 16 have no "justification": read as none, and an event
  // without one writes none.
  const DecisionEvent plain = sample_event();
  const auto old = nlohmann::json::parse(to_json_object(plain));
  CHECK_FALSE(old.contains("justification"));
  CHECK(decision_from_json(old).justification.empty());
}
