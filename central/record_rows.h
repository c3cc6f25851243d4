// What one trail record becomes in the central store (central/schema.sql): always a pw_records row
// (the line verbatim), plus a pw_events row for a decision, a pw_triage row for a triage and
// pw_traffic rows for a traffic record. Pure: no I/O, no database, any thread.
//
// The line comes from a file someone with disk access may have edited, so nothing in it is
// trusted: every value that reaches a row is one PostgreSQL will take (text is valid UTF-8 without
// NUL, times are canonical RFC 3339 UTC, numbers fit their columns, a traffic record's duplicate
// keys are summed), because a row the server refuses would stop the gateway's shipping for good.
// A record whose event cannot be read still gets its pw_records row (so `audit verify --central`
// sees what the trail holds) and `problem` says why it made no other row.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace promptwall::central {

struct RecordRow {
  uint64_t seq = 0;
  std::string type;                 // the record's "type", "" when it has none
  std::optional<std::string> time;  // canonical RFC 3339 UTC ("...T08:15:02.123Z"); none when absent or malformed
  std::string line;                 // the line; changed only where it is not valid UTF-8 or holds NUL
};

struct EventRow {
  std::string event_id, time, request_id, client, user_name, unit;
  std::vector<std::string> groups;
  std::string service, method, path, decision, mode, reason;
  bool forwarded = false;
  int max_severity = 0;  // 0 none, 1 low .. 4 critical
  bool violation = false;
  bool justified = false;
  std::vector<std::string> rules, categories;  // distinct, in the event's order
  std::string ruleset, rules_bundle;
  int64_t bytes_in = 0, bytes_forwarded = 0;
  double latency_ms = 0, scan_ms = 0;
};

struct TriageRow {
  std::string event_id, target, time, state, note, officer, client;
};

struct TrafficRow {
  std::string hour;  // "2026-12-07T08:00:00.000Z"
  std::string unit, service;
  int64_t requests = 0, with_findings = 0;
};

struct RecordRows {
  RecordRow record;
  std::optional<EventRow> event;
  std::optional<TriageRow> triage;
  std::vector<TrafficRow> traffic;  // one per (hour, unit, service)
  std::string problem;              // why a decision/triage/traffic record made no row of its own
};

// `seq` is the record's seq as the TrailReader read it from the line's head.
RecordRows rows_of(uint64_t seq, std::string_view line);

// `text` as PostgreSQL's text type takes it: invalid UTF-8 and NUL each become U+FFFD.
std::string storable_text(std::string_view text);

// The severity's rank as pw_events.max_severity counts it (low 1 .. critical 4, else 0).
int severity_rank(std::string_view severity);

}  // namespace promptwall::central
