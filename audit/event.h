// The audit trail's events: what the gateway decided about one request (DecisionEvent) and what an
// officer decided about an event (TriageEvent), and their JSON form (docs/audit-format.md, schema 1).
//
// Invariants: an event NEVER holds matched text. A finding carries a masked excerpt (digits and
// letters of the match replaced, a few characters of context around it, themselves masked when
// they are digits) and a keyed HMAC-SHA-256 of the matched text, so an officer can tell two events
// about the same number apart from events about different numbers without seeing either.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace promptwall::audit {

// The schema version every record written now carries as "v".
inline constexpr int kSchemaVersion = 1;

using Clock = std::chrono::system_clock;

// One occurrence of a rule's match, as the trail may show it.
struct MatchEvidence {
  std::string where;    // location in the request, e.g. "messages[2].content"
  std::string excerpt;  // masked, e.g. "số CCCD 07••••••••34 của"
  std::string hmac;     // hex HMAC-SHA-256 of the matched bytes under the trail's evidence key
};

struct EventFinding {
  std::string rule_id, category, severity, action;  // action: the effective one (after policy)
  uint32_t count = 0;                               // every match, even past the evidence cap
  std::vector<std::string> locations;               // distinct, first-seen order
  std::vector<MatchEvidence> evidence;              // at most kMaxEvidencePerRule
};
inline constexpr size_t kMaxEvidencePerRule = 8;

// A file the request carried (issue 13): what it was and whether it was read, never its text.
struct EventFile {
  std::string name;        // the client's file name, or "[*]" when the name held a finding
  std::string location;    // where in the request ("file (part)", "messages[0].content[1].file.file_data")
  std::string type;        // as read from its bytes: "docx", "pdf", "unknown"
  uint64_t size = 0;
  std::string sha256;      // hex, of the file's bytes (officers match it against the original)
  std::string unscannable; // "" when read completely, else the cause ("encrypted", "zip_bomb", ...)
  std::string policy;      // for an unscannable file: block | warn | allow
  uint32_t findings = 0;
};

// The coaching step (issue 16): a justification a person gave to send a coached request, or the
// coaching answer that asked for it. Written only when something is set; older records have none.
struct EventJustification {
  std::string token;     // the token's id (never the token): a coaching answer's issued one, or the
                         // one a justified request presented; the same id links the two events
  std::string reason;    // the person's reason, scanned and masked like evidence, at most
                         // coaching.max_reason_bytes; "" for a coaching answer or a bare warn
  std::string by;        // who gave it: the user, else the client address
  std::string via;       // header | form; "" for a coaching answer
  std::string refused;   // a coaching answer after a justification that did not count: why
                         // (expired, replayed, other_request, other_requester, altered, ...)
  bool empty() const { return token.empty() && reason.empty() && by.empty() && via.empty() && refused.empty(); }
};

struct DecisionEvent {
  Clock::time_point time;
  std::string event_id;    // unique, time-ordered (see new_event_id)
  std::string request_id;  // as in X-Promptwall-Request-Id
  std::string client;      // "ip:port"
  std::string user, unit;  // when known (empty otherwise)
  std::vector<std::string> groups;  // the user's groups whose policy applied (when known), sorted
  std::string service, method, path;  // path without its query string
  std::string decision;    // allow|warn|redact|justify|block|refused
  std::string mode;        // enforce|monitor
  std::string reason;      // refusals: the Refusal::Reason name (sensitive_content, body_too_large, ...)
  bool forwarded = false;  // whether (a version of) the request went upstream
  EventJustification justification;  // written only when not empty()
  std::vector<EventFinding> findings;
  std::vector<EventFile> files;  // written only when not empty
  std::string ruleset;     // the RuleSet version that decided
  std::string rules_bundle;  // the signed rule bundle it came from (its version); "" for pack files
  uint64_t bytes_in = 0;         // request body as received
  uint64_t bytes_forwarded = 0;  // request body as sent upstream (0 when not forwarded)
  // How many pseudonyms ([CCCD-1]) the forwarded body carried, to be restored in the reply; never
  // which, nor their values (gateway/pseudonyms/). Written only when not 0.
  uint32_t pseudonyms = 0;
  double latency_ms = 0;         // from the request's first byte to the decision
  double scan_ms = 0;
};

// An officer's triage of an event: recorded in the trail like any other event.
struct TriageEvent {
  Clock::time_point time;
  std::string event_id;    // this record's own id
  std::string target;      // the event_id of the DecisionEvent triaged
  std::string state;       // new|confirmed|false_positive|closed
  std::string note;        // the officer's note (free text, bounded by the review page)
  std::string officer;     // the account that made the change
  std::string client;      // where the officer connected from
};

// The per-hour traffic counts (issue 17): every request the gateway decided, clean ones and
// refusals included, counted per (UTC hour, unit, service), so a rate of requests with findings
// can be computed without an event per clean request. Never content, never a user.
struct TrafficCount {
  Clock::time_point hour;  // the UTC hour's start
  std::string unit;        // "" when unknown
  std::string service;
  uint64_t requests = 0;
  uint64_t with_findings = 0;  // of `requests`, those with at least one finding
};
struct TrafficEvent {
  Clock::time_point time;            // when written
  Clock::time_point from, to;        // the interval the counts were gathered over
  std::vector<TrafficCount> counts;  // one per (hour, unit, service), sorted by that key
};

inline constexpr std::string_view kTriageStates[] = {"new", "confirmed", "false_positive", "closed"};
bool is_triage_state(std::string_view state);

// A JSON object, "{...}", with "type" first: what AuditWriter::append takes. Invalid UTF-8 in any
// field is replaced, so an event is always writable.
std::string to_json_object(const DecisionEvent& e);
std::string to_json_object(const TriageEvent& e);
std::string to_json_object(const TrafficEvent& e);  // hours as "2026-12-07T08:00:00Z"

// Back from a parsed record (the chain fields "v", "seq", "prev" are ignored). Throws
// std::runtime_error naming the field when the record is not an event of that type.
DecisionEvent decision_from_json(const nlohmann::json& j);
TriageEvent triage_from_json(const nlohmann::json& j);
// Also throws for a count whose hour is not a whole UTC hour or whose with_findings exceeds requests.
TrafficEvent traffic_from_json(const nlohmann::json& j);

// RFC 3339 UTC with milliseconds, "2026-11-26T08:15:02.123Z"; and back (nullopt when malformed, or
// for a year outside 1970..2200, which the clock could not hold or no record carries).
std::string format_time(Clock::time_point t);
std::optional<Clock::time_point> parse_time(std::string_view text);

// "01JD3K...": 48 bits of milliseconds then 80 random bits, Crockford base32 (a ULID), so ids sort
// by time. `random` must be 10 bytes of randomness.
std::string new_event_id(Clock::time_point t, const uint8_t (&random)[10]);

}  // namespace promptwall::audit
