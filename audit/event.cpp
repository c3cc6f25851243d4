#include "audit/event.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace promptwall::audit {

namespace {

using ordered_json = nlohmann::ordered_json;

// Three decimals are a microsecond: finer digits are noise and make lines longer.
double rounded(double ms) { return std::round(ms * 1000.0) / 1000.0; }

std::string dump(const ordered_json& j) {
  // An event must always be writable: a stray invalid byte (a client name, a path) is replaced.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

template <class T>
T field(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) throw std::runtime_error(std::string("event has no '") + name + "'");
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(std::string("event field '") + name + "' has the wrong type");
  }
}

template <class T>
T optional_field(const nlohmann::json& j, const char* name, T fallback) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(std::string("event field '") + name + "' has the wrong type");
  }
}

Clock::time_point time_field(const nlohmann::json& j) {
  auto t = parse_time(field<std::string>(j, "time"));
  if (!t) throw std::runtime_error("event field 'time' is not an RFC 3339 UTC time");
  return *t;
}

void expect_type(const nlohmann::json& j, std::string_view type) {
  if (!j.is_object()) throw std::runtime_error("an event is a JSON object");
  if (optional_field<std::string>(j, "type", "") != type)
    throw std::runtime_error("not a " + std::string(type) + " event");
}

}  // namespace

bool is_triage_state(std::string_view state) {
  return std::find(std::begin(kTriageStates), std::end(kTriageStates), state) != std::end(kTriageStates);
}

std::string to_json_object(const DecisionEvent& e) {
  ordered_json j;
  j["type"] = "decision";
  j["time"] = format_time(e.time);
  j["event_id"] = e.event_id;
  j["request_id"] = e.request_id;
  j["client"] = e.client;
  j["user"] = e.user;
  j["unit"] = e.unit;
  if (!e.groups.empty()) j["groups"] = e.groups;
  j["service"] = e.service;
  j["method"] = e.method;
  j["path"] = e.path;
  j["decision"] = e.decision;
  j["mode"] = e.mode;
  if (!e.reason.empty()) j["reason"] = e.reason;
  j["forwarded"] = e.forwarded;
  if (!e.justification.empty()) {
    ordered_json justification;
    justification["token"] = e.justification.token;
    if (!e.justification.reason.empty()) justification["reason"] = e.justification.reason;
    if (!e.justification.by.empty()) justification["by"] = e.justification.by;
    if (!e.justification.via.empty()) justification["via"] = e.justification.via;
    if (!e.justification.refused.empty()) justification["refused"] = e.justification.refused;
    j["justification"] = std::move(justification);
  }
  ordered_json findings = ordered_json::array();
  for (const auto& f : e.findings) {
    ordered_json evidence = ordered_json::array();
    for (const auto& m : f.evidence) evidence.push_back({{"where", m.where}, {"excerpt", m.excerpt}, {"hmac", m.hmac}});
    findings.push_back({{"rule", f.rule_id},
                        {"category", f.category},
                        {"severity", f.severity},
                        {"action", f.action},
                        {"count", f.count},
                        {"locations", f.locations},
                        {"evidence", std::move(evidence)}});
  }
  j["findings"] = std::move(findings);
  if (!e.files.empty()) {
    ordered_json files = ordered_json::array();
    for (const auto& f : e.files) {
      ordered_json file{{"name", f.name}, {"location", f.location}, {"type", f.type}, {"size", f.size}, {"sha256", f.sha256}};
      if (!f.unscannable.empty()) {
        file["unscannable"] = f.unscannable;
        file["policy"] = f.policy;
      }
      file["findings"] = f.findings;
      files.push_back(std::move(file));
    }
    j["files"] = std::move(files);
  }
  j["ruleset"] = e.ruleset;
  if (!e.rules_bundle.empty()) j["rules_bundle"] = e.rules_bundle;
  j["bytes_in"] = e.bytes_in;
  j["bytes_forwarded"] = e.bytes_forwarded;
  if (e.pseudonyms) j["pseudonyms"] = e.pseudonyms;
  j["latency_ms"] = rounded(e.latency_ms);
  j["scan_ms"] = rounded(e.scan_ms);
  return dump(j);
}

std::string to_json_object(const TriageEvent& e) {
  ordered_json j;
  j["type"] = "triage";
  j["time"] = format_time(e.time);
  j["event_id"] = e.event_id;
  j["target"] = e.target;
  j["state"] = e.state;
  j["note"] = e.note;
  j["officer"] = e.officer;
  j["client"] = e.client;
  return dump(j);
}

std::string to_json_object(const TrafficEvent& e) {
  ordered_json j;
  j["type"] = "traffic";
  j["time"] = format_time(e.time);
  j["from"] = format_time(e.from);
  j["to"] = format_time(e.to);
  ordered_json counts = ordered_json::array();
  for (const auto& c : e.counts) {
    ordered_json row;
    std::string hour = format_time(c.hour);  // "...T08:00:00.000Z": an hour needs no milliseconds
    row["hour"] = hour.substr(0, 19) + "Z";
    row["unit"] = c.unit;
    row["service"] = c.service;
    row["requests"] = c.requests;
    row["with_findings"] = c.with_findings;
    counts.push_back(std::move(row));
  }
  j["counts"] = std::move(counts);
  return dump(j);
}

DecisionEvent decision_from_json(const nlohmann::json& j) {
  expect_type(j, "decision");
  DecisionEvent e;
  e.time = time_field(j);
  e.event_id = field<std::string>(j, "event_id");
  e.request_id = optional_field<std::string>(j, "request_id", "");
  e.client = optional_field<std::string>(j, "client", "");
  e.user = optional_field<std::string>(j, "user", "");
  e.unit = optional_field<std::string>(j, "unit", "");
  e.groups = optional_field<std::vector<std::string>>(j, "groups", {});
  e.service = optional_field<std::string>(j, "service", "");
  e.method = optional_field<std::string>(j, "method", "");
  e.path = optional_field<std::string>(j, "path", "");
  e.decision = field<std::string>(j, "decision");
  e.mode = optional_field<std::string>(j, "mode", "");
  e.reason = optional_field<std::string>(j, "reason", "");
  e.forwarded = optional_field<bool>(j, "forwarded", false);
  if (auto it = j.find("justification"); it != j.end()) {
    if (!it->is_object()) throw std::runtime_error("event field 'justification' is not an object");
    e.justification.token = optional_field<std::string>(*it, "token", "");
    e.justification.reason = optional_field<std::string>(*it, "reason", "");
    e.justification.by = optional_field<std::string>(*it, "by", "");
    e.justification.via = optional_field<std::string>(*it, "via", "");
    e.justification.refused = optional_field<std::string>(*it, "refused", "");
  }
  if (auto it = j.find("findings"); it != j.end()) {
    if (!it->is_array()) throw std::runtime_error("event field 'findings' is not a list");
    for (const auto& f : *it) {
      EventFinding out;
      out.rule_id = field<std::string>(f, "rule");
      out.category = optional_field<std::string>(f, "category", "");
      out.severity = optional_field<std::string>(f, "severity", "");
      out.action = optional_field<std::string>(f, "action", "");
      out.count = optional_field<uint32_t>(f, "count", 0);
      out.locations = optional_field<std::vector<std::string>>(f, "locations", {});
      if (auto ev = f.find("evidence"); ev != f.end() && ev->is_array()) {
        for (const auto& m : *ev)
          out.evidence.push_back({optional_field<std::string>(m, "where", ""), optional_field<std::string>(m, "excerpt", ""),
                                  optional_field<std::string>(m, "hmac", "")});
      }
      e.findings.push_back(std::move(out));
    }
  }
  if (auto it = j.find("files"); it != j.end()) {
    if (!it->is_array()) throw std::runtime_error("event field 'files' is not a list");
    for (const auto& f : *it) {
      EventFile out;
      out.name = optional_field<std::string>(f, "name", "");
      out.location = optional_field<std::string>(f, "location", "");
      out.type = optional_field<std::string>(f, "type", "");
      out.size = optional_field<uint64_t>(f, "size", 0);
      out.sha256 = optional_field<std::string>(f, "sha256", "");
      out.unscannable = optional_field<std::string>(f, "unscannable", "");
      out.policy = optional_field<std::string>(f, "policy", "");
      out.findings = optional_field<uint32_t>(f, "findings", 0);
      e.files.push_back(std::move(out));
    }
  }
  e.ruleset = optional_field<std::string>(j, "ruleset", "");
  e.rules_bundle = optional_field<std::string>(j, "rules_bundle", "");
  e.bytes_in = optional_field<uint64_t>(j, "bytes_in", 0);
  e.bytes_forwarded = optional_field<uint64_t>(j, "bytes_forwarded", 0);
  e.pseudonyms = optional_field<uint32_t>(j, "pseudonyms", 0);
  e.latency_ms = optional_field<double>(j, "latency_ms", 0);
  e.scan_ms = optional_field<double>(j, "scan_ms", 0);
  return e;
}

TriageEvent triage_from_json(const nlohmann::json& j) {
  expect_type(j, "triage");
  TriageEvent e;
  e.time = time_field(j);
  e.event_id = field<std::string>(j, "event_id");
  e.target = field<std::string>(j, "target");
  e.state = field<std::string>(j, "state");
  if (!is_triage_state(e.state)) throw std::runtime_error("triage state '" + e.state + "' is not one of new, confirmed, false_positive, closed");
  e.note = optional_field<std::string>(j, "note", "");
  e.officer = optional_field<std::string>(j, "officer", "");
  e.client = optional_field<std::string>(j, "client", "");
  return e;
}

TrafficEvent traffic_from_json(const nlohmann::json& j) {
  expect_type(j, "traffic");
  TrafficEvent e;
  e.time = time_field(j);
  auto instant = [&](const nlohmann::json& from, const char* name) {
    auto t = parse_time(field<std::string>(from, name));
    if (!t) throw std::runtime_error(std::string("traffic field '") + name + "' is not an RFC 3339 UTC time");
    return *t;
  };
  e.from = instant(j, "from");
  e.to = instant(j, "to");
  const auto it = j.find("counts");
  if (it == j.end() || !it->is_array()) throw std::runtime_error("traffic event has no 'counts' array");
  // Counts go to 64-bit signed columns (the central store): larger is not a count.
  constexpr uint64_t kMaxCount = uint64_t{1} << 62;
  auto count = [&](const nlohmann::json& row, const char* name) {
    const auto c = row.find(name);
    if (c == row.end() || !c->is_number_unsigned() || c->get<uint64_t>() > kMaxCount)
      throw std::runtime_error(std::string("traffic count '") + name + "' is not a non-negative integer");
    return c->get<uint64_t>();
  };
  for (const auto& row : *it) {
    if (!row.is_object()) throw std::runtime_error("a traffic count is a JSON object");
    TrafficCount c;
    c.hour = instant(row, "hour");
    if (c.hour.time_since_epoch() % std::chrono::hours(1) != Clock::duration::zero())
      throw std::runtime_error("traffic count 'hour' is not the start of an hour");
    c.unit = optional_field<std::string>(row, "unit", "");
    c.service = optional_field<std::string>(row, "service", "");
    c.requests = count(row, "requests");
    c.with_findings = count(row, "with_findings");
    if (c.with_findings > c.requests) throw std::runtime_error("traffic count has more requests with findings than requests");
    e.counts.push_back(std::move(c));
  }
  return e;
}

std::string format_time(Clock::time_point t) {
  using namespace std::chrono;
  const auto ms_since_epoch = duration_cast<milliseconds>(t.time_since_epoch()).count();
  // Floor division, so instants before 1970 keep a millisecond part in [0, 999].
  std::time_t seconds = static_cast<std::time_t>(ms_since_epoch / 1000);
  long long ms = ms_since_epoch % 1000;
  if (ms < 0) {
    ms += 1000;
    --seconds;
  }
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03lldZ", ms);
  return buf;
}

std::optional<Clock::time_point> parse_time(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fff...]Z, the form format_time writes (and any fraction length).
  if (text.size() < 20 || text.back() != 'Z') return std::nullopt;
  auto digits = [&](size_t pos, size_t n) -> std::optional<int> {
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (i >= text.size() || text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2), hour = digits(11, 2), minute = digits(14, 2),
       second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':')
    return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60)
    return std::nullopt;
  // Clock counts nanoseconds in 64 bits (1678..2262): a year outside that would overflow the
  // conversion below (undefined behaviour), and no record is written before 1970 or after 2200.
  if (*year < 1970 || *year > 2200) return std::nullopt;
  long long ms = 0;
  size_t pos = 19;
  if (text[pos] == '.') {
    long long scale = 100;
    ++pos;
    if (pos >= text.size() - 1) return std::nullopt;
    for (; pos < text.size() - 1; ++pos) {
      if (text[pos] < '0' || text[pos] > '9') return std::nullopt;
      ms += (text[pos] - '0') * scale;
      scale /= 10;
    }
  }
  if (pos != text.size() - 1) return std::nullopt;
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  const std::time_t seconds = timegm(&tm);
  return Clock::time_point(std::chrono::seconds(seconds)) + std::chrono::milliseconds(ms);
}

std::string new_event_id(Clock::time_point t, const uint8_t (&random)[10]) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";  // Crockford
  const uint64_t ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
  // 128 bits: 48 of time, 80 of randomness; 26 characters of 5 bits (the first carries 3).
  uint8_t bytes[16];
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(ms >> (8 * (5 - i)));
  std::copy(std::begin(random), std::end(random), bytes + 6);
  std::string out(26, '0');
  for (int c = 25, bit = 0; c >= 0; --c, bit += 5) {
    unsigned value = 0;
    for (int b = 0; b < 5; ++b) {
      const int k = bit + b;  // bit k counted from the least significant end
      if (k >= 128) break;
      if (bytes[15 - k / 8] >> (k % 8) & 1) value |= 1u << b;
    }
    out[static_cast<size_t>(c)] = kAlphabet[value];
  }
  return out;
}

}  // namespace promptwall::audit
