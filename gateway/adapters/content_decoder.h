// Content-Encoding decoding of request bodies, bounded so a small compressed body cannot expand
// into an unbounded allocation (a "zip bomb").
//
// Invariants:
//   - `DecodedBody::body` never holds more than `max_decoded_bytes` bytes, and no buffer grows
//     past that size while decoding: decoding stops at the first output byte over the limit.
//   - status ok means every coding of the chain was undone completely: a truncated stream, or
//     bytes after the end of a stream, is corrupt, never a silently shortened body.
//   - A gzip body may hold several members (RFC 1952 §2.2; what `cat a.gz b.gz` makes); their
//     outputs are concatenated, as gunzip does. Anything after the last member that is not
//     another member is corrupt.
//   - `error` is for logs and never contains body bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace promptwall::gateway {

struct DecodedBody {
  enum class Status : uint8_t { ok, unsupported, corrupt, too_large };
  Status status = Status::ok;
  std::string body;    // decoded bytes when ok
  std::string error;   // English, for logs: "gzip: invalid stored block lengths", "decoded body over 33554432 bytes"
};

// Decodes a Content-Encoding header value: "", "identity", "gzip", "x-gzip", "deflate" (zlib-wrapped,
// and also accept raw deflate as browsers/servers send both), "br", or a comma-separated chain
// ("gzip, br" = gzip applied first, so decode br then gzip). Case-insensitive, whitespace tolerant.
// Stops as soon as the output would exceed max_decoded_bytes (never allocates past it: zip bombs).
// The limit applies to every step of a chain and to an identity body as well.
DecodedBody decode_content(std::string_view content_encoding, std::string_view body, size_t max_decoded_bytes);

}  // namespace promptwall::gateway
