// HeadTextExtractor: the text a request's head sends (query, path, headers, trailers), laid out
// for one scan, so that nothing leaves in the request line or the header fields unseen.
//
//   "/v1/models/x:generate?q=Độ+mật&key=…"  +  headers
//     ─► HeadText.text = "v1\nmodels\nx:generate\nq\nĐộ mật\nx-title\n…\n", one piece per line
//
// What is read, and how:
//   - the path: every segment between '/', percent-decoded ('+' stays '+'): location "path[i]",
//     i counting every segment after the first '/' (empty ones included, so i is where it is);
//   - the query: every parameter's name and value, form-decoded ('+' is a space), in order:
//     location "query:<name>" for both;
//   - every header field (trailer fields too: Beast merges them into the fields once the body is
//     read, so a head read after the body sees them), its name in lower case and its value:
//     location "header:<name>" for both, except the fields below. The name of a field the
//     gateway knows (is_known_header_name: Content-Type, User-Agent, the SDKs' X-Stainless-*,
//     ...) is a fixed string with no room for user text, so only its value is read. Content-Type
//     is read without its multipart `boundary=` value (framing, random by design: undici's is 12
//     digits that read as a CCCD about a quarter of the time).
// Not read, by name (ASCII case-insensitive; documented in docs/architecture.md):
//   - transport (is_transport_header): Host, Connection, Keep-Alive, Proxy-Connection, TE, Trailer,
//     Transfer-Encoding, Upgrade, Content-Length, Expect, Content-Encoding. The gateway drops or
//     replaces each of them before the request goes upstream (hop-by-hop fields, Host, Expect,
//     Content-Length recomputed from the body), or parses the value and refuses what it does not
//     know (Content-Encoding: the decoder takes only its codings). Everything else, Accept-Encoding
//     and Content-Type included, is forwarded as the client wrote it, so it is read.
//   - the client's own credentials for the service (is_credential_header, is_credential_parameter):
//     Authorization, Proxy-Authorization, X-Api-Key, X-Goog-Api-Key, Api-Key, Cookie, and the query
//     parameters `key` (Gemini) and `api-key` (exact names). They are transport, not content: never
//     put in the text, so never flagged, never in evidence or logs.
//   - the gateway's own (is_gateway_header): X-Promptwall-Justification-Token and
//     X-Promptwall-Justification, what an API client justifies a coached request with
//     (gateway/coaching/). The server reads them and drops them before the upstream; the reason is
//     scanned on its own and recorded masked, never as request content.
//   The server leaves out its own identity headers (dropped before the upstream) before calling.
//
// Why one text: a typical SDK request has ~10 headers and the scan's cost is per call plus per
// byte, so one scan of the joined pieces, without the fixed names, is the cheapest way to see all
// of it (measured: ~2-5 µs for an SDK head beside ~50 µs for a 4 KB chat body). Each piece is
// on its own line ('\n' after it), so line-anchored rules (markings stand alone in a field) read a
// header value or a query value as the field it is.
//
// Invariants: pieces are in text order, never overlap, and each is followed by one '\n' in `text`;
// a credential's value is never in `text`. The head cannot be rewritten safely, so the inspector
// turns a redact on a head piece into a block (request_inspector.h).
// Threads: extract() is const and keeps no state; safe from any thread. No exceptions beyond
// std::bad_alloc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace promptwall::gateway {

// One header (or trailer) field as received; views into the caller's request.
struct HeaderField {
  std::string_view name;
  std::string_view value;
};

struct HeadText {
  enum class Kind : uint8_t { path_segment, query_name, query_value, header_name, header_value };
  struct Piece {
    Kind kind = Kind::path_segment;
    uint32_t begin = 0, end = 0;        // the piece's bytes in `text`
    uint32_t label_begin = 0, label_end = 0;  // query and header pieces: their name's bytes in `labels`
    uint32_t index = 0;                 // path_segment: its position after the first '/'
  };
  std::string text;           // every piece, each followed by '\n'
  std::vector<Piece> pieces;  // in text order
  std::string labels;         // the query and header names pieces are located by (not scanned)

  // "path[2]", "query:q", "header:x-title": for people, audit events and refusals' logs. A name
  // that looks like data (non-ASCII or punctuation beyond "-_.[]", more than 3 digits, longer than
  // 40 bytes) is withheld as "query:[*]": it is itself scanned, and may be what was found.
  std::string location(const Piece& piece) const;
  std::string_view piece_text(const Piece& piece) const {
    return std::string_view(text).substr(piece.begin, piece.end - piece.begin);
  }
  // The piece a finding starting at `offset` of `text` belongs to: the one holding it, or the
  // next one when it starts on a separator. Null when `offset` is past the last piece.
  const Piece* piece_at(size_t offset) const;
};

// `path` (as recorded: a request path without its query) with every segment whose decoded text
// is one of `found` replaced by "[*]", so that a path segment holding a finding reaches neither
// the audit trail nor the log as sent.
std::string withhold_path_segments(std::string_view path, std::span<const std::string_view> found);

class HeadTextExtractor {
 public:
  // `target`: the path and query the upstream will read (after the service prefix, normalised by
  // normalise_request_path()). `headers`: every field that will be forwarded, trailers included.
  HeadText extract(std::string_view target, std::span<const HeaderField> headers) const;

  static bool is_transport_header(std::string_view name);
  static bool is_known_header_name(std::string_view name);
  static bool is_credential_header(std::string_view name);
  static bool is_gateway_header(std::string_view name);
  static bool is_credential_parameter(std::string_view decoded_name);
};

}  // namespace promptwall::gateway
