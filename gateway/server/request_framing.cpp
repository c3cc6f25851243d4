#include "gateway/server/request_framing.h"

#include <limits>

#include "gateway/catalog/host_name.h"

namespace promptwall::gateway::server {

namespace {

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// 1*DIGIT that fits in 64 bits: no sign, no spaces inside, no list, no hex.
bool valid_content_length(std::string_view value) {
  value = trim(value);
  if (value.empty()) return false;
  std::uint64_t n = 0;
  for (const char c : value) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (n > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return false;
    n = n * 10 + digit;
  }
  return true;
}

// Whether a comma-separated token list (Upgrade: "h2c, websocket") names `token`, protocol
// versions ("h2c/1") included.
bool lists_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    item = item.substr(0, item.find('/'));
    if (iequals(trim(item), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::string_view to_string(FramingViolation v) {
  switch (v) {
    case FramingViolation::none: return "none";
    case FramingViolation::unsupported_version: return "unsupported_version";
    case FramingViolation::target_fragment: return "target_fragment";
    case FramingViolation::transfer_encoding_not_chunked: return "transfer_encoding_not_chunked";
    case FramingViolation::transfer_encoding_in_http10: return "transfer_encoding_in_http10";
    case FramingViolation::transfer_encoding_with_content_length: return "transfer_encoding_with_content_length";
    case FramingViolation::content_length_repeated: return "content_length_repeated";
    case FramingViolation::content_length_invalid: return "content_length_invalid";
    case FramingViolation::host_missing: return "host_missing";
    case FramingViolation::host_repeated: return "host_repeated";
    case FramingViolation::host_invalid: return "host_invalid";
    case FramingViolation::h2c_upgrade: return "h2c_upgrade";
    case FramingViolation::obs_fold: return "obs_fold";
    case FramingViolation::bare_line_ending: return "bare_line_ending";
    case FramingViolation::unparseable: return "unparseable";
  }
  return "unknown";
}

FramingViolation check_request_framing(const RequestHeadView& head) {
  if (head.version != 10 && head.version != 11) return FramingViolation::unsupported_version;
  if (head.target.find('#') != std::string_view::npos) return FramingViolation::target_fragment;

  std::size_t transfer_encodings = 0, content_lengths = 0, hosts = 0;
  bool chunked_only = true, lengths_valid = true, hosts_valid = true, h2c = false;
  for (const HeadField& field : head.fields) {
    if (iequals(field.name, "transfer-encoding")) {
      ++transfer_encodings;
      chunked_only = chunked_only && iequals(trim(field.value), "chunked");
    } else if (iequals(field.name, "content-length")) {
      ++content_lengths;
      lengths_valid = lengths_valid && valid_content_length(field.value);
    } else if (iequals(field.name, "host")) {
      ++hosts;
      // The port's default does not matter: only whether it parses.
      hosts_valid = hosts_valid && parse_authority(trim(field.value), 80).has_value();
    } else if (iequals(field.name, "upgrade")) {
      h2c = h2c || lists_token(field.value, "h2c");
    }
  }

  if (transfer_encodings > 1 || (transfer_encodings == 1 && !chunked_only))
    return FramingViolation::transfer_encoding_not_chunked;
  if (transfer_encodings > 0 && head.version == 10) return FramingViolation::transfer_encoding_in_http10;
  if (transfer_encodings > 0 && content_lengths > 0) return FramingViolation::transfer_encoding_with_content_length;
  if (content_lengths > 1) return FramingViolation::content_length_repeated;
  if (!lengths_valid) return FramingViolation::content_length_invalid;
  if (hosts == 0 && head.version == 11 && !iequals(head.method, "CONNECT")) return FramingViolation::host_missing;
  if (hosts > 1) return FramingViolation::host_repeated;
  if (!hosts_valid) return FramingViolation::host_invalid;
  if (h2c) return FramingViolation::h2c_upgrade;
  return FramingViolation::none;
}

std::size_t find_head_end(std::string_view bytes) {
  const std::size_t at = bytes.find("\r\n\r\n");
  return at == std::string_view::npos ? 0 : at + 4;
}

FramingViolation check_head_bytes(std::string_view bytes) {
  if (const std::size_t end = find_head_end(bytes)) bytes = bytes.substr(0, end);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\n') return FramingViolation::bare_line_ending;  // a CRLF's LF is skipped below
    if (bytes[i] != '\r') continue;
    if (i + 1 == bytes.size()) break;  // its LF may be on its way
    if (bytes[i + 1] != '\n') return FramingViolation::bare_line_ending;
    ++i;
    // The line after a CRLF starting with whitespace continues a field line (or, right after the
    // request line, is as ambiguous: refused alike).
    if (i + 1 < bytes.size() && (bytes[i + 1] == ' ' || bytes[i + 1] == '\t')) return FramingViolation::obs_fold;
  }
  return FramingViolation::none;
}

}  // namespace promptwall::gateway::server
