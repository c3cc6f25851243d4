// HttpHeadReader: whether the first bytes of a redirected connection are an HTTP/1.x request head,
// and the host its Host header names. Beast parses (a request parser over a copy of the bytes,
// header only); the bytes themselves are left where they are, for whoever serves the connection.
// No Beast in this header, so the unit tests and other files need not compile it.
//
// Invariants: pure and stateless; the same bytes always give the same answer; a head is judged
// only when complete, or when it cannot fit in `header_limit` bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "gateway/server/request_framing.h"

namespace promptwall::gateway::server {

struct HttpHeadRead {
  enum class Status {
    need_more,  // could still become a complete head
    head,       // a complete request head; `host` is its Host header's host (may be empty)
    too_large,  // looks like HTTP but the head does not fit in the limit
    not_http,   // not an HTTP/1.x request (no known method and a space at its start)
  };
  Status status = Status::need_more;
  // The Host header's host in normal form (gateway/catalog/host_name.h: lower case, A-labels, no
  // port, brackets or trailing dot); empty when the head has no Host, or an empty one.
  std::string host;
  // A Host was sent but does not parse (garbage, userinfo, a bad port): `host` is empty, and the
  // connection must not be spliced as if it named no host, since the site might read the header
  // differently than we do.
  bool host_invalid = false;
  // A head (complete, or whose bytes so far show a bare line ending, obs-fold, or anything Beast
  // cannot parse after a known method: `unparseable`) whose framing a reader could take two ways
  // (request_framing.h: two Hosts, a Transfer-Encoding other than chunked, obs-fold, ...): never
  // spliced, since the site behind might read it otherwise than we did; the request loop refuses it.
  FramingViolation framing = FramingViolation::none;
};

HttpHeadRead read_http_head(std::string_view bytes, size_t header_limit);

}  // namespace promptwall::gateway::server
