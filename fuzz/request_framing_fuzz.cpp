// libFuzzer target for server/request_framing: the RFC 9112 framing rules every request head
// meets before the gateway reads its body. Input: the bytes of a request head as a client sent
// them. The target splits them the simple way (request line, then "name: value" lines up to the
// first empty line) and hands the views to check_request_framing(), and the raw bytes to
// check_head_bytes() and find_head_end(). Beyond "no crash, no sanitizer report", it checks the
// header's contract against independent readings of the same fields:
//   - find_head_end is 0 exactly when the bytes hold no CRLF CRLF, else just past the first one;
//   - check_head_bytes names bare_line_ending exactly when, within the head (or all the bytes
//     when incomplete), some LF has no CR before it or some CR (not the last byte) no LF after it;
//     else obs_fold exactly when a line after a CRLF starts with SP or HTAB; else none;
//   - check_request_framing is never obs_fold or bare_line_ending; it is none only when the
//     version is 10 or 11, the target has no '#', there is at most one Transfer-Encoding (exactly
//     "chunked" after trimming, any case) and then no Content-Length and not HTTP/1.0, at most one
//     Content-Length of digits only, exactly one Host for HTTP/1.1 (CONNECT excepted) and at most
//     one otherwise, and no Upgrade token h2c;
//   - it is pure: the same views give the same answer; the field order does not change whether a
//     head is accepted.
// Inputs are bounded at 16 KiB, the gateway's default head limit.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/server/request_framing.h"

namespace {

using promptwall::gateway::server::FramingViolation;
using promptwall::gateway::server::HeadField;
using promptwall::gateway::server::RequestHeadView;

void require(bool ok) {
  if (!ok) std::abort();
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void check_bytes(std::string_view bytes) {
  const size_t end = promptwall::gateway::server::find_head_end(bytes);
  const size_t crlf2 = bytes.find("\r\n\r\n");
  require(end == (crlf2 == std::string_view::npos ? 0 : crlf2 + 4));

  const std::string_view head = end ? bytes.substr(0, end) : bytes;
  bool bare = false, fold = false;
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) bare = true;
    if (head[i] == '\r' && i + 1 < head.size() && head[i + 1] != '\n') bare = true;
    if (i >= 1 && head[i - 1] == '\n' && i >= 2 && head[i - 2] == '\r' && (head[i] == ' ' || head[i] == '\t')) fold = true;
  }
  const FramingViolation v = promptwall::gateway::server::check_head_bytes(bytes);
  if (bare) require(v == FramingViolation::bare_line_ending || v == FramingViolation::obs_fold);
  if (!bare && fold) require(v == FramingViolation::obs_fold);
  if (!bare && !fold) require(v == FramingViolation::none);
  // The first of the two in byte order is named: either way, a head with neither passes.
  require((v == FramingViolation::none) == (!bare && !fold));
}

void check_head(std::string_view bytes) {
  // Request line: METHOD SP TARGET SP HTTP/x.y (the version digits read leniently, as numbers).
  const size_t line_end = bytes.find("\r\n");
  if (line_end == std::string_view::npos) return;
  const std::string_view line = bytes.substr(0, line_end);
  const size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return;
  RequestHeadView head;
  head.method = line.substr(0, sp1);
  head.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  head.version = version.size() == 8 && version.starts_with("HTTP/") && version[6] == '.'
                     ? static_cast<unsigned>((version[5] - '0') * 10 + (version[7] - '0'))
                     : 0;
  std::vector<HeadField> fields;
  for (size_t at = line_end + 2; at < bytes.size();) {
    const size_t next = bytes.find("\r\n", at);
    const std::string_view field = bytes.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at);
    if (field.empty()) break;
    const size_t colon = field.find(':');
    if (colon != std::string_view::npos) fields.push_back({field.substr(0, colon), trim(field.substr(colon + 1))});
    if (next == std::string_view::npos) break;
    at = next + 2;
  }
  head.fields = fields;
  const FramingViolation v = promptwall::gateway::server::check_request_framing(head);
  require(v != FramingViolation::obs_fold && v != FramingViolation::bare_line_ending);
  require(promptwall::gateway::server::check_request_framing(head) == v);
  require(!promptwall::gateway::server::to_string(v).empty());

  // The reference reading.
  size_t te = 0, cl = 0, hosts = 0;
  bool te_chunked = true, cl_digits = true, h2c = false;
  for (const auto& f : fields) {
    if (iequals(f.name, "transfer-encoding")) {
      ++te;
      te_chunked = te_chunked && iequals(trim(f.value), "chunked");
    } else if (iequals(f.name, "content-length")) {
      ++cl;
      const std::string_view d = trim(f.value);
      cl_digits = cl_digits && !d.empty() && std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
    } else if (iequals(f.name, "host")) {
      ++hosts;
    } else if (iequals(f.name, "upgrade")) {
      std::string_view list = f.value;
      for (;;) {
        const size_t comma = list.find(',');
        std::string_view item = trim(list.substr(0, comma));
        item = trim(item.substr(0, item.find('/')));
        h2c = h2c || iequals(item, "h2c");
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
      }
    }
  }
  const bool framing_ok = (head.version == 10 || head.version == 11) && head.target.find('#') == std::string_view::npos &&
                          te <= 1 && (te == 0 || (te_chunked && cl == 0 && head.version == 11)) && cl <= 1 &&
                          (head.version == 10 || hosts == 1 || (hosts == 0 && iequals(head.method, "CONNECT"))) &&
                          hosts <= 1 && !h2c;
  // A length may still overflow 64 bits, and a Host may not parse: those are refused
  // beyond the reference, never the other way round.
  if (!framing_ok || !cl_digits) require(v != FramingViolation::none);

  // Reversing the fields never turns a refused head into an accepted one (or back), except
  // through which violation is named first.
  std::vector<HeadField> reversed(fields.rbegin(), fields.rend());
  RequestHeadView other = head;
  other.fields = reversed;
  require((promptwall::gateway::server::check_request_framing(other) == FramingViolation::none) == (v == FramingViolation::none));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_bytes(input);
  check_head(input);
  return 0;
}
