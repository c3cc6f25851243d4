// SiemFormatter: one trail record → one syslog message for the organisation's SIEM.
//
// The message is RFC 5424 with CEF as its MSG:
//
//   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [promptwall@32473 seq=".." event_id=".." request_id=".."] CEF:0|...
//
//   PRI       facility * 8 + severity; facility local4 (20) unless configured. Severity from the
//             event: block/refused → warning (4), or err (3) when a finding is critical;
//             redact, warn, triage → notice (5); allow → info (6); outage, repair → err (3).
//   TIMESTAMP the record's own "time" (RFC 3339, UTC, milliseconds), not the time of sending: a
//             message shipped after an outage still says when the event happened.
//   MSGID     the record type ("decision", "triage", "outage", "repair").
//   SD        one element; every PARAM-VALUE escaped per RFC 5424 §6.3.3 (\" \\ \]). seq is the
//             trail's seq, so a receiver can detect gaps and duplicates.
//   MSG       CEF:0|promptwall|promptwall|<version>|<signature>|<name>|<0-10>|<extension>, header
//             fields escaped (\| \\, line breaks → space), extension values escaped (\= \\ \n \r).
//             No BOM: RFC 5424 makes the BOM optional (MSG-ANY); CEF parsers look for "CEF:" at the
//             start of MSG and a BOM hides it. The MSG is valid UTF-8 all the same (the trail's
//             strings are; truncation never cuts a character).
//
// Invariants: format() never emits matched text (the trail holds none; cs5 carries the masked
// excerpts, shortened); a message's header fields are printable US-ASCII of RFC 5424's lengths
// (checked at construction); checkpoints are never formatted (they are the trail's own business).
//
// Pure: no I/O, no clock, no global state. Thread-compatible (const methods only after construction).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace promptwall::audit {

struct SiemFormatOptions {
  std::string hostname;               // 1..255 printable US-ASCII; empty = "-" (RFC 5424 NILVALUE)
  std::string app_name = "promptwall";  // 1..48 printable US-ASCII
  std::string procid;                 // 1..128 printable US-ASCII; empty = "-"
  int facility = 20;                  // 0..23; 20 = local4
  std::string product_version = "0.1.0";  // CEF Device Version
};

// The record types that go to the SIEM: decision, triage, outage, repair (not checkpoints).
bool is_shipped_record_type(std::string_view type);

class SiemFormatter {
 public:
  // Throws std::invalid_argument naming the option when a field breaks RFC 5424.
  explicit SiemFormatter(SiemFormatOptions options);

  // The syslog message (without framing) for `record`, a parsed trail record whose seq is `seq`;
  // nullopt when its type is not shipped. Throws std::runtime_error when a shipped record is
  // malformed (no time, a decision without its decision, ...).
  std::optional<std::string> format(const nlohmann::json& record, uint64_t seq) const;

  const SiemFormatOptions& options() const { return options_; }

 private:
  SiemFormatOptions options_;
};

// TCP framing, RFC 6587 §3.4.1 octet counting: "<byte length of message> <message>".
std::string frame_octet_counted(std::string_view message);

// The escapings, exposed for tests.
std::string escape_sd_param_value(std::string_view value);  // RFC 5424 §6.3.3: " \ ]
std::string escape_cef_header(std::string_view value);      // | \ ; CR/LF → space
std::string escape_cef_extension(std::string_view value);   // = \ ; LF → \n, CR → \r

// A CEF line read back (for tests and tools reading what was shipped): the six header fields after
// "CEF:0|" unescaped, and the extension's key=value pairs in order, unescaped. nullopt when `line`
// is not "CEF:0|" followed by six '|'-ended fields and a well-formed extension.
struct CefMessage {
  std::string vendor, product, version, signature, name, severity;
  std::vector<std::pair<std::string, std::string>> extension;
  const std::string* find(std::string_view key) const;  // the first value of `key`, or null
};
std::optional<CefMessage> parse_cef(std::string_view line);

// At most `max_bytes` bytes of `text`, cut at a UTF-8 character boundary, with "…" appended when
// cut (the ellipsis counts toward max_bytes).
std::string truncate_utf8(std::string_view text, size_t max_bytes);

// Syslog severities (RFC 5424 table 2) used here.
inline constexpr int kSeverityError = 3;
inline constexpr int kSeverityWarning = 4;
inline constexpr int kSeverityNotice = 5;
inline constexpr int kSeverityInfo = 6;

}  // namespace promptwall::audit
