#include "central/record_rows.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include <nlohmann/json.hpp>

#include "audit/event.h"

namespace promptwall::central {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at s[i] (1..4), or 0 when it is not one (overlong forms,
// surrogates and code points past U+10FFFF are not).
size_t utf8_length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return c == 0 ? 0 : 1;
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

// The time as PostgreSQL's timestamptz takes it, or "" outside 1970..9999 (format_time writes a
// year of other than four digits there, which the server refuses; no trail is that old).
std::string storable_time(audit::Clock::time_point t) {
  using namespace std::chrono;
  constexpr int64_t kLast = 253402300799;  // 9999-12-31T23:59:59Z
  const int64_t s = duration_cast<seconds>(t.time_since_epoch()).count();
  return s < 0 || s > kLast ? std::string() : audit::format_time(t);
}
std::string required_time(audit::Clock::time_point t) {
  std::string s = storable_time(t);
  if (s.empty()) throw std::runtime_error("time out of range");
  return s;
}

std::string canonical_time(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return {};
  auto t = audit::parse_time(it->get_ref<const std::string&>());
  return t ? storable_time(*t) : std::string();
}

int64_t clamp_count(uint64_t v) { return static_cast<int64_t>(std::min<uint64_t>(v, uint64_t{1} << 62)); }
double finite(double v) { return std::isfinite(v) ? v : 0.0; }

void add_distinct(std::vector<std::string>& to, const std::string& value) {
  std::string v = storable_text(value);
  if (std::find(to.begin(), to.end(), v) == to.end()) to.push_back(std::move(v));
}

EventRow event_row(const audit::DecisionEvent& e) {
  EventRow r;
  r.event_id = storable_text(e.event_id);
  r.time = required_time(e.time);
  r.request_id = storable_text(e.request_id);
  r.client = storable_text(e.client);
  r.user_name = storable_text(e.user);
  r.unit = storable_text(e.unit);
  for (const auto& g : e.groups) r.groups.push_back(storable_text(g));
  r.service = storable_text(e.service);
  r.method = storable_text(e.method);
  r.path = storable_text(e.path);
  r.decision = storable_text(e.decision);
  r.mode = storable_text(e.mode);
  r.reason = storable_text(e.reason);
  r.forwarded = e.forwarded;
  for (const auto& f : e.findings) {
    r.max_severity = std::max(r.max_severity, severity_rank(f.severity));
    add_distinct(r.rules, f.rule_id);
    add_distinct(r.categories, f.category);
  }
  r.violation = e.decision != "allow";
  r.justified = !e.justification.via.empty();  // as audit/audit_index.cpp counts it
  r.ruleset = storable_text(e.ruleset);
  r.bytes_in = clamp_count(e.bytes_in);
  r.bytes_forwarded = clamp_count(e.bytes_forwarded);
  r.latency_ms = finite(e.latency_ms);
  r.scan_ms = finite(e.scan_ms);
  return r;
}

}  // namespace

std::string storable_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_length(text, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

int severity_rank(std::string_view severity) {
  static constexpr std::string_view kSeverities[] = {"low", "medium", "high", "critical"};
  for (int i = 0; i < 4; ++i)
    if (kSeverities[i] == severity) return i + 1;
  return 0;
}

RecordRows rows_of(uint64_t seq, std::string_view line) {
  RecordRows out;
  out.record.seq = seq;
  out.record.line = storable_text(line);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception&) {
    out.problem = "not valid JSON";
    return out;
  }
  if (!j.is_object()) {
    out.problem = "not a JSON object";
    return out;
  }
  if (auto it = j.find("type"); it != j.end() && it->is_string()) out.record.type = storable_text(it->get<std::string>());
  if (std::string t = canonical_time(j, "time"); !t.empty()) out.record.time = std::move(t);
  const std::string& type = out.record.type;
  try {
    if (type == "decision") {
      auto e = audit::decision_from_json(j);
      EventRow row = event_row(e);
      // Read from the JSON, so this does not wait on DecisionEvent knowing the member.
      if (auto it = j.find("rules_bundle"); it != j.end() && it->is_string())
        row.rules_bundle = storable_text(it->get<std::string>());
      if (row.event_id.empty()) throw std::runtime_error("event has an empty 'event_id'");
      out.event = std::move(row);
    } else if (type == "triage") {
      auto t = audit::triage_from_json(j);
      out.triage = TriageRow{.event_id = storable_text(t.event_id),
                             .target = storable_text(t.target),
                             .time = required_time(t.time),
                             .state = storable_text(t.state),
                             .note = storable_text(t.note),
                             .officer = storable_text(t.officer),
                             .client = storable_text(t.client)};
    } else if (type == "traffic") {
      auto t = audit::traffic_from_json(j);
      // The key of pw_traffic is (gateway, seq, hour, unit, service): a record naming one key twice
      // is summed, as a reader adding up rows would.
      std::map<std::tuple<std::string, std::string, std::string>, std::pair<int64_t, int64_t>> sums;
      for (const auto& c : t.counts) {
        auto& [requests, with_findings] =
            sums[{required_time(c.hour), storable_text(c.unit), storable_text(c.service)}];
        requests = clamp_count(static_cast<uint64_t>(requests) + c.requests);
        with_findings = clamp_count(static_cast<uint64_t>(with_findings) + c.with_findings);
      }
      for (auto& [key, counts] : sums)
        out.traffic.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), counts.first, counts.second});
    }
  } catch (const std::exception& e) {
    out.event.reset();
    out.triage.reset();
    out.traffic.clear();
    out.problem = storable_text(e.what());
  }
  return out;
}

}  // namespace promptwall::central
