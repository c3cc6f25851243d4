// RequestPath: a request's path as the upstream will resolve it, checked before routing, so that a
// path cannot climb out of the part of the service the gateway routes it to.
//
//   normalise_request_path("/v1/chat/./completions?x=1")  → ok, "/v1/chat/completions?x=1"
//   normalise_request_path("/v1/../../admin")              → leaves_base (refused)
//   normalise_request_path("/v1/%2e%2E/%2E%2e/x")          → leaves_base (refused)
//   normalise_request_path("/v1/..%2F..%2Fx")              → ambiguous (refused)
//
// What it decides, and why:
//   - RFC 3986 remove_dot_segments on the path ('/' separated), where a dot segment is "." or ".."
//     spelt with raw dots or %2e in any case ("%2e%2E", ".%2e"): servers decode the escape before
//     they resolve dots, so the gateway must too.
//   - The root is the base the caller checks against: for the base-URL gateway the path after the
//     service prefix, for proxy, intercepted and transparent requests the site's "/". A ".." that
//     would pop past it is `leaves_base`, not silently clamped as RFC 3986 does for "/..": a
//     client that sends it means to leave, and an upstream (or a relay in front of it) may not
//     clamp.
//   - A path with dot segments that stays inside is forwarded normalised (`ok`, `changed`): the
//     upstream then resolves exactly what the gateway scanned and routed.
//   - Encoded '/' (%2F), encoded '\' (%5C) and a raw '\' are left as they are in a path without
//     dot segments (resource names may hold them, and the gateway does not re-encode). But some
//     servers read them as separators, so a dot segment found when they are read as separators
//     ("..%2F..", "..\x") is `ambiguous`: the gateway cannot tell which path the upstream would
//     resolve, and refuses. The same for a segment that is a dot segment up to a ';' ("..;x",
//     path parameters, which some servers strip before resolving).
//   - The query (from the first '?') is never touched.
// Refusal: the caller answers leaves_base, ambiguous and malformed with
// Refusal::Reason::forbidden_destination before any upstream connection is made.
//
// Invariants: status ok and !changed means the input stands byte for byte (a clean request passes
// byte-identical, and nothing is allocated); ok and changed means `target` starts with '/' and its
// path has no dot segment in any spelling. Pure function, no state: safe from any thread; no exceptions beyond std::bad_alloc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace promptwall::gateway {

struct NormalisedPath {
  enum class Status : uint8_t {
    ok,           // `target` is the path to route and send (normalised when `changed`)
    leaves_base,  // a ".." climbs above the root
    ambiguous,    // a dot segment next to %2F, %5C, '\' or before ';': refused, see above
    malformed,    // not origin-form (does not start with '/')
  };
  Status status = Status::ok;
  bool changed = false;  // ok: dot segments were removed
  std::string target;    // when changed: the normalised path and the query as sent; otherwise empty
};

// `target` is an origin-form request target (path, optionally "?query"), e.g. a schema path.
NormalisedPath normalise_request_path(std::string_view target);

// "ok", "leaves_base", ...: for logs (never the path itself, which may carry what was refused).
std::string_view to_string(NormalisedPath::Status status);

// A path segment percent-decoded (RFC 3986: '+' stays '+'; a '%' not followed by two hex digits
// stays as it is). Bytes, not necessarily UTF-8.
std::string decode_path_segment(std::string_view segment);

}  // namespace promptwall::gateway
