#include "audit/siem_format.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <stdexcept>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/event.h"

namespace promptwall::audit {

namespace {

// The SD-ID: our name at the example Private Enterprise Number of RFC 5612 (promptwall has none
// of its own); receivers key on the whole string, so it must never change.
constexpr std::string_view kSdId = "promptwall@32473";
constexpr std::string_view kVendor = "promptwall";
constexpr std::string_view kProduct = "promptwall";

// Excerpts are masked already; they are cut short anyway so a message stays one screen line.
constexpr size_t kMaxExcerpts = 4;
constexpr size_t kMaxExcerptBytes = 64;
constexpr size_t kMaxExcerptsBytes = 255;
constexpr size_t kMaxNoteBytes = 256;
constexpr size_t kMaxErrorBytes = 512;

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 33 && c <= 126; });
}

// An RFC 5424 header field: printable US-ASCII, 1..max characters; empty → NILVALUE "-".
std::string header_field(std::string_view value, size_t max, std::string_view option) {
  if (value.empty()) return "-";
  if (value.size() > max || !printable_ascii(value))
    throw std::invalid_argument(std::string(option) + " must be 1 to " + std::to_string(max) +
                                " printable US-ASCII characters (RFC 5424)");
  return std::string(value);
}

// The CEF message of one record, before escaping.
struct CefEvent {
  std::string signature;
  std::string name;
  int severity = 0;  // 0..10
  std::vector<std::pair<std::string, std::string>> extension;
  int syslog_severity = kSeverityNotice;
  std::vector<std::pair<std::string, std::string>> sd;  // SD-PARAMs beyond seq

  // Empty values are left out: CEF has no null, and an empty key tells the SIEM nothing.
  void add(std::string key, std::string value) {
    if (!value.empty()) extension.emplace_back(std::move(key), std::move(value));
  }
  void add_labelled(std::string key, std::string label, std::string value) {
    if (value.empty()) return;
    extension.emplace_back(key + "Label", std::move(label));
    extension.emplace_back(std::move(key), std::move(value));
  }
};

int64_t epoch_ms(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Clock::time_point record_time(const nlohmann::json& record) {
  auto it = record.find("time");
  if (it == record.end() || !it->is_string()) throw std::runtime_error("record has no 'time'");
  auto t = parse_time(it->get<std::string>());
  if (!t) throw std::runtime_error("record's 'time' is not an RFC 3339 UTC time");
  return *t;
}

std::string text_member(const nlohmann::json& record, const char* name) {
  auto it = record.find(name);
  if (it == record.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();  // a number or a boolean: its JSON text
}

// "10.1.2.3:5123" → "10.1.2.3"; "[::1]:5123" → "::1"; anything else as it is.
std::string client_address(std::string_view client) {
  if (client.starts_with('[')) {
    auto close = client.find(']');
    return std::string(close == std::string_view::npos ? client.substr(1) : client.substr(1, close - 1));
  }
  auto colon = client.find(':');
  if (colon != std::string_view::npos && client.find(':', colon + 1) == std::string_view::npos)
    return std::string(client.substr(0, colon));
  return std::string(client);
}

// "body_too_large" → "body too large".
std::string words(std::string_view token) {
  std::string out(token);
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

void add_distinct(std::vector<std::string>& list, const std::string& item) {
  if (!item.empty() && std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

int cef_severity_of(std::string_view finding_severity) {
  if (finding_severity == "critical") return 10;
  if (finding_severity == "high") return 8;
  if (finding_severity == "medium") return 5;
  if (finding_severity == "low") return 3;
  return 0;
}

CefEvent decision_cef(const nlohmann::json& record) {
  const DecisionEvent e = decision_from_json(record);
  CefEvent cef;
  std::vector<std::string> rules, categories, excerpts;
  bool critical = false;
  int finding_severity = 0;
  for (const auto& f : e.findings) {
    add_distinct(rules, f.rule_id);
    add_distinct(categories, f.category);
    critical = critical || f.severity == "critical";
    finding_severity = std::max(finding_severity, cef_severity_of(f.severity));
    if (!f.evidence.empty() && excerpts.size() < kMaxExcerpts)
      excerpts.push_back(truncate_utf8(f.evidence.front().excerpt, kMaxExcerptBytes));
  }

  const std::string& d = e.decision;
  int base = 0;
  if (d == "block") {
    cef.name = "Request blocked";
    cef.syslog_severity = critical ? kSeverityError : kSeverityWarning;
    base = 6;
  } else if (d == "refused") {
    cef.name = e.reason.empty() ? "Request refused" : "Request refused: " + words(e.reason);
    cef.syslog_severity = critical ? kSeverityError : kSeverityWarning;
    base = 5;
  } else if (d == "redact") {
    cef.name = "Request forwarded redacted";
    cef.syslog_severity = kSeverityNotice;
    base = 3;
  } else if (d == "warn" || d == "justify") {
    // The coaching step (issue 16): held for an acknowledgment or a justification, or forwarded
    // once given. Held ones are notices; a justified one is a warning for the SOC to look at.
    const bool held = !e.forwarded;
    if (d == "warn")
      cef.name = held ? "Request held: warning shown" : e.justification.token.empty()
                                                          ? "Request forwarded with a warning"
                                                          : "Request forwarded after a warning was acknowledged";
    else
      cef.name = held ? "Request held for a justification" : "Request forwarded with a justification";
    cef.syslog_severity = d == "justify" && !held ? kSeverityWarning : kSeverityNotice;
    base = d == "justify" ? 4 : 3;
  } else if (d == "allow") {
    cef.name = e.findings.empty() ? "Request allowed" : "Request allowed with findings";
    cef.syslog_severity = kSeverityInfo;
  } else {
    cef.name = "Request decided: " + words(d);
    cef.syslog_severity = kSeverityNotice;
  }
  if (e.mode == "monitor" && !e.findings.empty()) cef.name += " (monitor mode)";
  cef.severity = std::max(base, finding_severity);
  cef.signature = rules.empty() ? "decision" : rules.front();

  cef.add("rt", std::to_string(epoch_ms(e.time)));
  cef.add("src", client_address(e.client));
  cef.add("suser", e.user);
  cef.add_labelled("cs1", "unit", e.unit);
  cef.add_labelled("cs2", "rules", join(rules, ","));
  cef.add_labelled("cs3", "categories", join(categories, ","));
  cef.add("act", e.decision);
  cef.add("reason", e.reason);
  cef.add("requestMethod", e.method);
  cef.add("request", e.service.empty() ? e.path : e.service + " " + e.path);
  cef.add("destinationServiceName", e.service);
  cef.add("outcome", e.forwarded ? "forwarded" : "not_forwarded");
  cef.add("in", std::to_string(e.bytes_in));
  if (e.forwarded) cef.add("out", std::to_string(e.bytes_forwarded));
  cef.add("externalId", e.event_id);
  cef.add_labelled("cs4", "ruleset", e.ruleset);
  cef.add_labelled("cs5", "excerpts", truncate_utf8(join(excerpts, "; "), kMaxExcerptsBytes));
  cef.add_labelled("cs6", "mode", e.mode);
  // A justification (masked in the trail already, shortened here like the excerpts) and who gave
  // it; the token's id and why one presented did not count go into the SD.
  cef.add_labelled("flexString1", "justification", truncate_utf8(e.justification.reason, kMaxExcerptsBytes));
  cef.add_labelled("flexString2", "justified_by", e.justification.by);
  cef.sd = {{"event_id", e.event_id}, {"request_id", e.request_id}};
  if (!e.justification.token.empty()) cef.sd.emplace_back("justification_token", e.justification.token);
  if (!e.justification.refused.empty()) cef.sd.emplace_back("justification_refused", e.justification.refused);
  // The signed rule bundle that decided (issue 17): in the SD, as the CEF custom strings are taken.
  if (!e.rules_bundle.empty()) cef.sd.emplace_back("rules_bundle", e.rules_bundle);
  return cef;
}

CefEvent triage_cef(const nlohmann::json& record) {
  const TriageEvent e = triage_from_json(record);
  CefEvent cef;
  cef.signature = "triage";
  cef.name = "Event triaged: " + words(e.state);
  cef.severity = 3;
  cef.syslog_severity = kSeverityNotice;
  cef.add("rt", std::to_string(epoch_ms(e.time)));
  cef.add("src", client_address(e.client));
  cef.add("suser", e.officer);
  cef.add("act", e.state);
  cef.add("externalId", e.event_id);
  cef.add_labelled("cs6", "target_event", e.target);
  cef.add("msg", truncate_utf8(e.note, kMaxNoteBytes));
  cef.sd = {{"event_id", e.event_id}, {"target", e.target}};
  return cef;
}

CefEvent outage_cef(const nlohmann::json& record) {
  CefEvent cef;
  cef.signature = "outage";
  cef.name = "Audit trail was unavailable; AI traffic was refused";
  cef.severity = 8;
  cef.syslog_severity = kSeverityError;
  cef.add("rt", std::to_string(epoch_ms(record_time(record))));
  if (auto since = parse_time(text_member(record, "since"))) cef.add("start", std::to_string(epoch_ms(*since)));
  cef.add("end", std::to_string(epoch_ms(record_time(record))));
  cef.add("reason", truncate_utf8(text_member(record, "error"), kMaxErrorBytes));
  cef.add_labelled("cn2", "refused_events", text_member(record, "refused"));
  return cef;
}

CefEvent repair_cef(const nlohmann::json& record) {
  CefEvent cef;
  cef.signature = "repair";
  cef.name = "Audit trail repaired: an incomplete last record was removed";
  cef.severity = 7;
  cef.syslog_severity = kSeverityError;
  cef.add("rt", std::to_string(epoch_ms(record_time(record))));
  cef.add("filePath", text_member(record, "file"));
  cef.add_labelled("cn2", "bytes_removed", text_member(record, "bytes_removed"));
  cef.add_labelled("cn3", "offset", text_member(record, "offset"));
  cef.add("reason", truncate_utf8(text_member(record, "reason"), kMaxErrorBytes));
  return cef;
}

}  // namespace

bool is_shipped_record_type(std::string_view type) {
  return type == "decision" || type == "triage" || type == "outage" || type == "repair";
}

SiemFormatter::SiemFormatter(SiemFormatOptions options) : options_(std::move(options)) {
  options_.hostname = header_field(options_.hostname, 255, "siem.hostname");
  options_.app_name = header_field(options_.app_name, 48, "app name");
  options_.procid = header_field(options_.procid, 128, "procid");
  if (options_.facility < 0 || options_.facility > 23) throw std::invalid_argument("facility must be 0..23");
}

std::optional<std::string> SiemFormatter::format(const nlohmann::json& record, uint64_t seq) const {
  if (!record.is_object()) throw std::runtime_error("a record is a JSON object");
  const std::string type = text_member(record, "type");
  if (!is_shipped_record_type(type)) return std::nullopt;

  CefEvent cef = type == "decision" ? decision_cef(record)
                 : type == "triage" ? triage_cef(record)
                 : type == "outage" ? outage_cef(record)
                                    : repair_cef(record);
  cef.add_labelled("cn1", "seq", std::to_string(seq));

  std::string out;
  out.reserve(512);
  out += '<';
  out += std::to_string(options_.facility * 8 + cef.syslog_severity);
  out += ">1 ";
  out += format_time(record_time(record));
  out += ' ';
  out += options_.hostname;
  out += ' ';
  out += options_.app_name;
  out += ' ';
  out += options_.procid;
  out += ' ';
  out += type;  // MSGID: one of the four shipped types, printable and short

  out += " [";
  out += kSdId;
  out += " seq=\"" + std::to_string(seq) + '"';
  for (const auto& [name, value] : cef.sd)
    if (!value.empty()) out += ' ' + name + "=\"" + escape_sd_param_value(value) + '"';
  out += "] ";

  out += "CEF:0|";
  out += escape_cef_header(kVendor);
  out += '|';
  out += escape_cef_header(kProduct);
  out += '|';
  out += escape_cef_header(options_.product_version);
  out += '|';
  out += escape_cef_header(cef.signature);
  out += '|';
  out += escape_cef_header(cef.name);
  out += '|';
  out += std::to_string(cef.severity);
  out += '|';
  bool first = true;
  for (const auto& [key, value] : cef.extension) {
    if (!first) out += ' ';
    first = false;
    out += key;
    out += '=';
    out += escape_cef_extension(value);
  }
  return out;
}

std::string frame_octet_counted(std::string_view message) {
  std::string out = std::to_string(message.size());
  out += ' ';
  out += message;
  return out;
}

std::string escape_sd_param_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '"' || c == '\\' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

std::string escape_cef_header(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\r' || c == '\n') {
      out += ' ';  // a header is one line; CEF defines no escape for a break in it
      continue;
    }
    if (c == '|' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string escape_cef_extension(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '=': out += "\\="; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  return out;
}

std::string truncate_utf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  constexpr std::string_view kEllipsis = "\u2026";
  if (max_bytes < kEllipsis.size()) return "";
  size_t cut = max_bytes - kEllipsis.size();
  // Back up over continuation bytes (10xxxxxx) so the cut lands before a character's first byte.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  std::string out(text.substr(0, cut));
  out += kEllipsis;
  return out;
}

const std::string* CefMessage::find(std::string_view key) const {
  for (const auto& [k, v] : extension)
    if (k == key) return &v;
  return nullptr;
}

std::optional<CefMessage> parse_cef(std::string_view line) {
  constexpr std::string_view kPrefix = "CEF:0|";
  if (!line.starts_with(kPrefix)) return std::nullopt;
  size_t pos = kPrefix.size();
  // Six more header fields, each ended by an unescaped '|'.
  std::string fields[6];
  for (auto& field : fields) {
    for (;;) {
      if (pos >= line.size()) return std::nullopt;
      char c = line[pos++];
      if (c == '|') break;
      if (c == '\\' && pos < line.size()) c = line[pos++];
      field += c;
    }
  }
  CefMessage m{fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], {}};
  // The extension: "key=value" pairs; a value runs to the space before the next "key=", where a
  // key is letters and digits and the '=' is unescaped.
  std::string_view ext = line.substr(pos);
  auto key_at = [&](size_t at) -> size_t {  // length of a "key=" starting at `at`, or 0
    size_t i = at;
    while (i < ext.size() && std::isalnum(static_cast<unsigned char>(ext[i]))) ++i;
    return i > at && i < ext.size() && ext[i] == '=' ? i - at : 0;
  };
  size_t i = 0;
  while (i < ext.size()) {
    size_t key_len = key_at(i);
    if (key_len == 0) return std::nullopt;
    std::string key(ext.substr(i, key_len));
    i += key_len + 1;
    std::string value;
    while (i < ext.size()) {
      char c = ext[i];
      if (c == ' ' && key_at(i + 1) > 0) {
        ++i;
        break;
      }
      if (c == '\\' && i + 1 < ext.size()) {
        char next = ext[i + 1];
        value += next == 'n' ? '\n' : next == 'r' ? '\r' : next;
        i += 2;
        continue;
      }
      value += c;
      ++i;
    }
    m.extension.emplace_back(std::move(key), std::move(value));
  }
  return m;
}

}  // namespace promptwall::audit
