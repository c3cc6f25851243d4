// What a person sends to justify a request, read from outside input: the header's reason, the
// justification form's body, and the key that names a requester and the digest that names a
// request (what a token is bound to).
//
// The request digest: SHA-256 over, length-prefixed, the method, the service's name, the path the
// service's schema sees (with its query), the Content-Encoding, the body as received, and the text
// of every request-head piece that holds a finding (adapters/head_segments.h). The same request
// resent by the same client (an SDK's retry of the same call) hashes the same; any edit of the body,
// path or query, or of a header that held a finding, does not. Headers without findings are not in
// it: SDKs vary some of them between calls (retry counts, timeouts), and whatever they carry was
// scanned clean; the justification headers themselves are the gateway's own and never read.
//
// Pure functions; safe from any thread. Malformed input is a nullopt, never an exception.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "gateway/identity/identity.h"

namespace promptwall::gateway::coaching {

// The headers an API client justifies with (docs/architecture.md, "not read"): never scanned,
// never forwarded.
inline constexpr std::string_view kTokenHeader = "x-promptwall-justification-token";
inline constexpr std::string_view kReasonHeader = "x-promptwall-justification";
// The path the gateway answers itself on every inspected host: the form (GET ?t=token) and its POST.
inline constexpr std::string_view kJustifyPath = "/.promptwall/justify";
// A form body larger than this is refused unread.
inline constexpr size_t kMaxFormBytes = 16 * 1024;

// "user:<name>" when the requester is known by name, else "address:<ip>" (the client address
// without its port: a browser opens new connections for the retry).
std::string requester_key(const Identity& identity, std::string_view client_ip);
// How the trail names who justified: the user, else the client address.
std::string requester_name(const Identity& identity, std::string_view client_ip);

struct RequestDigestInput {
  std::string_view method, service, path, content_encoding, body;
  std::span<const std::string> head_pieces_with_findings = {};
};
// 64 hex digits.
std::string request_digest(const RequestDigestInput& in);

// The X-Promptwall-Justification value: percent-decoded (%XX; '+' stays '+'), trimmed; nullopt
// when the result is not valid UTF-8 or holds control characters other than tab.
std::optional<std::string> decode_reason_header(std::string_view value);

// At most `max_bytes`, cut on a UTF-8 boundary.
std::string bound_reason(std::string_view reason, size_t max_bytes);
// Code points in `text` (valid UTF-8 assumed).
size_t count_chars(std::string_view text);

// The justification form's POST body (application/x-www-form-urlencoded): t (token), s (the form
// secret), reason. Strict: those names only, each at most once, t and s present, at most
// kMaxFormBytes; the reason decoded as the header's is (valid UTF-8, no control characters but
// tab and line breaks, which become spaces).
struct JustificationForm {
  std::string token, secret, reason;
};
std::optional<JustificationForm> parse_justification_form(std::string_view body);

}  // namespace promptwall::gateway::coaching
