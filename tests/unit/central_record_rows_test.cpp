// central/record_rows: what a trail line becomes in the central store, and that nothing a tampered
// line holds can make a row the server would refuse.
#include <catch2/catch.hpp>

#include <string>

#include "audit/event.h"
#include "audit/trail_format.h"
#include "central/record_rows.h"

using namespace promptwall;
using namespace promptwall::central;
using namespace std::chrono_literals;

namespace {

std::string line_of(uint64_t seq, const std::string& object) {
  return audit::compose_record(seq, audit::kGenesisHash, object);
}

audit::DecisionEvent decision() {
  audit::DecisionEvent e;
  e.time = audit::Clock::time_point(1'764'144'902'123ms);
  e.event_id = "01KB0000000000000000000000";
  e.request_id = "r-1";
  e.client = "10.1.2.3:5000";
  e.user = "lan.nguyen";
  e.unit = "so-tu-phap";
  e.groups = {"can-bo"};
  e.service = "openai";
  e.method = "POST";
  e.path = "/v1/chat/completions";
  e.decision = "block";
  e.mode = "enforce";
  e.reason = "sensitive_content";
  for (auto [rule, category, severity] : {std::tuple{"vn.cccd", "national_id", "high"},
                                          std::tuple{"vn.phone", "phone", "low"},
                                          std::tuple{"vn.cccd", "national_id", "critical"}}) {
    audit::EventFinding f;
    f.rule_id = rule;
    f.category = category;
    f.severity = severity;
    f.action = "block";
    f.count = 1;
    e.findings.push_back(f);
  }
  e.ruleset = "abc";
  e.bytes_in = 100;
  e.latency_ms = 1.5;
  return e;
}

}  // namespace

TEST_CASE("a decision record makes its pw_records row and one pw_events row", "[central][rows]") {
  const std::string line = line_of(7, audit::to_json_object(decision()));
  const RecordRows rows = rows_of(7, line);
  CHECK(rows.problem.empty());
  CHECK(rows.record.seq == 7);
  CHECK(rows.record.type == "decision");
  CHECK(rows.record.line == line);
  REQUIRE(rows.record.time);
  CHECK(*rows.record.time == "2025-11-26T08:15:02.123Z");
  REQUIRE(rows.event);
  const EventRow& e = *rows.event;
  CHECK(e.event_id == "01KB0000000000000000000000");
  CHECK(e.user_name == "lan.nguyen");
  CHECK(e.unit == "so-tu-phap");
  CHECK(e.groups == std::vector<std::string>{"can-bo"});
  CHECK(e.max_severity == 4);  // the highest finding's, critical
  CHECK(e.violation);
  CHECK_FALSE(e.justified);
  CHECK(e.rules == std::vector<std::string>{"vn.cccd", "vn.phone"});
  CHECK(e.categories == std::vector<std::string>{"national_id", "phone"});
  CHECK(e.bytes_in == 100);
  CHECK(rows.traffic.empty());
  CHECK_FALSE(rows.triage);
}

TEST_CASE("an allowed, justified decision is no violation but justified, rules_bundle is read", "[central][rows]") {
  auto e = decision();
  e.decision = "allow";
  e.findings.clear();
  e.justification.via = "header";
  e.justification.token = "abc";
  std::string object = audit::to_json_object(e);
  object.insert(object.size() - 1, ",\"rules_bundle\":\"2026.12.1\"");
  const RecordRows rows = rows_of(1, line_of(1, object));
  REQUIRE(rows.event);
  CHECK_FALSE(rows.event->violation);
  CHECK(rows.event->justified);
  CHECK(rows.event->max_severity == 0);
  CHECK(rows.event->rules.empty());
  CHECK(rows.event->rules_bundle == "2026.12.1");
}

TEST_CASE("a triage record makes a pw_triage row", "[central][rows]") {
  audit::TriageEvent t;
  t.time = audit::Clock::time_point(1'764'144'902'000ms);
  t.event_id = "01KB0000000000000000000001";
  t.target = "01KB0000000000000000000000";
  t.state = "confirmed";
  t.note = "Đã nhắc nhở";
  t.officer = "officer.tran";
  t.client = "10.0.9.2:1";
  const RecordRows rows = rows_of(3, line_of(3, audit::to_json_object(t)));
  REQUIRE(rows.triage);
  CHECK(rows.triage->target == t.target);
  CHECK(rows.triage->event_id == t.event_id);
  CHECK(rows.triage->time == "2025-11-26T08:15:02.000Z");
  CHECK(rows.triage->state == "confirmed");
  CHECK(rows.triage->note == "Đã nhắc nhở");
  CHECK_FALSE(rows.event);
}

TEST_CASE("a traffic record makes one pw_traffic row per key, summing a key named twice", "[central][rows]") {
  const auto hour = audit::Clock::time_point(1'764'144'000'000ms);  // 2025-11-26T08:00:00Z
  audit::TrafficEvent t;
  t.time = t.to = hour + 90min;
  t.from = hour;
  t.counts = {{hour, "so-tu-phap", "openai", 12, 3}, {hour + 1h, "", "gemini", 1, 0}};
  std::string object = audit::to_json_object(t);
  CHECK(object.find("\"hour\":\"2025-11-26T08:00:00Z\"") != std::string::npos);
  RecordRows rows = rows_of(9, line_of(9, object));
  REQUIRE(rows.traffic.size() == 2);
  CHECK(rows.traffic[0].hour == "2025-11-26T08:00:00.000Z");
  CHECK(rows.traffic[0].unit == "so-tu-phap");
  CHECK(rows.traffic[0].requests == 12);
  CHECK(rows.traffic[0].with_findings == 3);
  CHECK(rows.traffic[1].unit == "");

  // The same key twice (only an edited line has that): one row, the sum, not a key violation.
  t.counts = {{hour, "u", "openai", 2, 1}, {hour, "u", "openai", 5, 0}};
  rows = rows_of(10, line_of(10, audit::to_json_object(t)));
  REQUIRE(rows.traffic.size() == 1);
  CHECK(rows.traffic[0].requests == 7);
  CHECK(rows.traffic[0].with_findings == 1);
}

TEST_CASE("a traffic record with a bad count makes no traffic row and says why", "[central][rows]") {
  const std::string head = "{\"type\":\"traffic\",\"time\":\"2026-12-07T08:00:00.000Z\",\"from\":\"2026-12-07T07:59:00.000Z\","
                           "\"to\":\"2026-12-07T08:00:00.000Z\",\"counts\":[";
  for (const std::string count : {"{\"hour\":\"2026-12-07T08:00:00Z\",\"requests\":-1,\"with_findings\":0}",
                                  "{\"hour\":\"2026-12-07T08:30:00Z\",\"requests\":1,\"with_findings\":0}",
                                  "{\"hour\":\"2026-12-07T08:00:00Z\",\"requests\":1,\"with_findings\":2}",
                                  "{\"hour\":\"2026-12-07T08:00:00Z\",\"requests\":1e300,\"with_findings\":0}",
                                  "{\"hour\":\"0000-01-01T00:00:00Z\",\"requests\":1,\"with_findings\":0}"}) {
    const RecordRows rows = rows_of(1, line_of(1, head + count + "]}"));
    CHECK(rows.traffic.empty());
    CHECK_FALSE(rows.problem.empty());
    CHECK(rows.record.type == "traffic");  // the line itself is still shipped
  }
}

TEST_CASE("an unreadable line is shipped as it is, with the reason and no event row", "[central][rows]") {
  RecordRows rows = rows_of(4, "{\"v\":1,\"seq\":4,\"prev\":\"x\",\"type\":\"decision\",\"time\":");
  CHECK(rows.problem == "not valid JSON");
  CHECK(rows.record.type.empty());
  CHECK_FALSE(rows.record.time);
  CHECK_FALSE(rows.event);

  rows = rows_of(5, line_of(5, "{\"type\":\"decision\",\"time\":\"2026-12-07T08:00:00.000Z\"}"));
  CHECK_FALSE(rows.event);
  CHECK(rows.problem.find("event_id") != std::string::npos);

  // A decision dated year 0 (no time the gateway's clock holds, nor the server would take): no
  // event row, said so.
  auto e = decision();
  std::string object = audit::to_json_object(e);
  object.replace(object.find("2025-11-26"), 10, "0000-11-26");
  rows = rows_of(6, line_of(6, object));
  CHECK_FALSE(rows.event);
  CHECK_FALSE(rows.record.time);
  CHECK(rows.problem == "event field 'time' is not an RFC 3339 UTC time");
}

TEST_CASE("text PostgreSQL would refuse is made storable: invalid UTF-8 and NUL become U+FFFD", "[central][rows]") {
  CHECK(storable_text("Bộ Tư pháp") == "Bộ Tư pháp");
  CHECK(storable_text(std::string("a\0b", 3)) == "a\xEF\xBF\xBD" "b");
  CHECK(storable_text("\xC3(") == "\xEF\xBF\xBD(");
  CHECK(storable_text("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  CHECK(storable_text("\xF0\x9F\x98") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // cut short
  CHECK(storable_text("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong

  auto e = decision();
  e.user = "an";
  std::string object = audit::to_json_object(e);
  object.replace(object.find("\"an\""), 4, "\"a\\u0000n\"");  // a JSON NUL in the user's name
  const RecordRows parsed = rows_of(2, line_of(2, object));
  REQUIRE(parsed.event);
  CHECK(parsed.event->user_name == "a\xEF\xBF\xBDn");
  const RecordRows rows = rows_of(2, line_of(2, object) + "\xFF");
  CHECK(rows.record.line.find('\0') == std::string::npos);
  CHECK(rows.record.line.ends_with("\xEF\xBF\xBD"));
}

TEST_CASE("checkpoints and unknown types make only their pw_records row", "[central][rows]") {
  const RecordRows rows = rows_of(
      8, line_of(8, "{\"type\":\"checkpoint\",\"time\":\"2026-12-07T08:00:00.000Z\",\"key_id\":\"x\",\"records\":7,\"sig\":\"y\"}"));
  CHECK(rows.record.type == "checkpoint");
  CHECK(rows.problem.empty());
  CHECK_FALSE(rows.event);
  CHECK(rows.traffic.empty());
  CHECK(severity_rank("high") == 3);
  CHECK(severity_rank("HIGH") == 0);
}
