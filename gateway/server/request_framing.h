// RequestFraming: whether a request head frames its message the one way every HTTP/1.1 reader
// would (RFC 9112), before the gateway routes, reads or forwards anything of it. A proxy that
// reads a message's length differently from the server behind it smuggles requests: a body the
// gateway never scanned reaches the upstream as a second request, or the gateway reads a second
// request the upstream never sees. So every head whose framing a reader could take two ways is
// refused (400) and its connection closed; nothing is repaired.
//
// Beast's parser reads the head first and already refuses what it cannot parse (bad chunk sizes,
// bare LF or CR line endings, NUL and other controls in names and values, a Content-Length that is
// no number, one that disagrees with an earlier one, Transfer-Encoding after Content-Length, two
// `chunked` codings). What Beast accepts and this refuses:
//   - a version other than HTTP/1.0 or HTTP/1.1 (the HTTP/2 preface `PRI * HTTP/2.0` among them);
//   - a request target holding '#' (RFC 9112 3.2: no form has a fragment; Beast takes it, and a
//     path read up to the '#' by one reader and past it by another routes two ways);
//   - Transfer-Encoding other than exactly one field `chunked` (any case, optional whitespace),
//     or any Transfer-Encoding in an HTTP/1.0 request: Beast reads a request whose last coding is
//     not chunked as having no body, so the body would be read as the next request;
//   - Transfer-Encoding together with Content-Length (in either order);
//   - more than one Content-Length field, even equal, or a value that is not 1*DIGIT (Beast takes
//     the list "5, 5"), or one that does not fit in 64 bits;
//   - an HTTP/1.1 request with no Host (CONNECT excepted: its target is the authority, and proxy
//     clients differ), more than one Host, or a Host that does not parse as an authority
//     (catalog/host_name.h: garbage, userinfo, bad port, empty);
//   - an Upgrade to h2c (cleartext HTTP/2 is not inspected, and is never forwarded);
//   - obs-fold (a header line continued on the next by leading whitespace): Beast unfolds it into
//     one value, a server behind us might not. Beast leaves no trace of it, so it is found in the
//     head's bytes, before Beast reads them (check_head_bytes), as is a bare LF or CR.
// An absolute-form target's authority wins over Host (RFC 9112 7.2): the sessions route by the
// target and send the upstream its own Host, never the client's, so a Host that differs from the
// target is not refused (it changes nothing that leaves) but it must still parse.
//
// Pure and synchronous, no Beast in this header or its source: the session hands over views of the
// parsed head. Stateless; any thread. No exceptions: a violation is a value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace promptwall::gateway::server {

struct HeadField {
  std::string_view name;   // as received (any case)
  std::string_view value;  // leading and trailing whitespace already trimmed by the parser
};

// A parsed request head, viewed: everything points into the caller's storage.
struct RequestHeadView {
  std::string_view method;
  std::string_view target;
  unsigned version = 11;  // 10 for HTTP/1.0, 11 for HTTP/1.1 (major * 10 + minor)
  std::span<const HeadField> fields;
};

enum class FramingViolation : std::uint8_t {
  none,
  unsupported_version,         // not HTTP/1.0 or HTTP/1.1 (the HTTP/2 preface)
  target_fragment,             // a '#' in the request target: no form of it carries a fragment
  transfer_encoding_not_chunked,  // a coding other than exactly `chunked`, or two TE fields
  transfer_encoding_in_http10,
  transfer_encoding_with_content_length,
  content_length_repeated,
  content_length_invalid,
  host_missing,                // HTTP/1.1 without Host
  host_repeated,
  host_invalid,
  h2c_upgrade,
  obs_fold,          // found by check_head_bytes, not check_request_framing
  bare_line_ending,  // likewise
  unparseable,       // a known method, then bytes no HTTP/1.x reader accepts (http_head_reader.h)
};

// "transfer_encoding_not_chunked", ...: the violation's name in logs.
std::string_view to_string(FramingViolation v);

// The violation of `head`'s framing, or none. The first found, in the order of the enum.
FramingViolation check_request_framing(const RequestHeadView& head);

// The length of the request head at the start of `bytes`, its final CRLF CRLF included; 0 while
// the bytes hold no complete head.
std::size_t find_head_end(std::string_view bytes);

// What only the bytes of a head show, judged on the buffered start of a request before Beast reads
// it: obs_fold (a line after the request line starting with SP or HTAB: Beast unfolds it, leaving
// no trace) or bare_line_ending (a LF not after a CR, or a CR not before a LF: a head of bare LFs
// never ends for Beast, which waits for CRLF CRLF until the header timeout). `bytes` is read up to
// its head's end when the head is complete, else all of it, so a violation is seen as soon as its
// bytes arrive; a CR at the very end may still be followed by its LF.
FramingViolation check_head_bytes(std::string_view bytes);

}  // namespace promptwall::gateway::server
