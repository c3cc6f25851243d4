// libFuzzer target for server/http_head_reader: read_http_head(), which decides from a redirected
// connection's first bytes whether it is an HTTP/1.x request and which Host it names (the
// transparent listener intercepts or splices on that answer, and asks again each time more bytes
// arrive). Beast parses; the method check before it and the reading of its outcome are ours.
// Input: the first byte picks the header limit ((byte + 1) * 16: 16..4096 bytes, so heads meet it);
// the rest is the connection's first bytes. Beyond "no crash, no sanitizer report", it checks:
//   - the same bytes give the same answer (a second read);
//   - a host is only given with a head, in host_name.h's normal form, never with host_invalid;
//   - too_large only when the bytes reach the limit or Beast's header limit stopped it;
//   - a head is judged whole or not at all: when the whole input is a clean head, every prefix of it
//     read on its own (each cut just after a '\n' or ' ', the first byte, half, all but the last
//     byte) is need_more or, when it is a head already, the same head; never not_http or
//     too_large, which would splice or close a connection the next read would have recognised;
//   - a prefix read as not_http stays not_http with more bytes (the listener acts on it at once);
//   - a prefix refused (a head with a framing violation) stays refused: a head with some
//     violation, or too large (which violation shows first depends on how much has arrived).
// Inputs are bounded at 8 KiB, twice the largest limit.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "gateway/catalog/host_name.h"
#include "gateway/server/http_head_reader.h"

namespace {

using promptwall::gateway::server::HttpHeadRead;
using promptwall::gateway::server::read_http_head;
using Status = HttpHeadRead::Status;
using promptwall::gateway::server::FramingViolation;

void require(bool ok) {
  if (!ok) std::abort();
}

bool same(const HttpHeadRead& a, const HttpHeadRead& b) {
  return a.status == b.status && a.host == b.host && a.host_invalid == b.host_invalid;
}

void check_alone(const HttpHeadRead& read) {
  if (!read.host.empty()) {
    require(read.status == Status::head && !read.host_invalid);
    const auto again = promptwall::gateway::parse_host(read.host);
    require(again && again->text == read.host);
  }
  if (read.host_invalid) require(read.status == Status::head && read.host.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 8192) return 0;
  const size_t limit = (static_cast<size_t>(data[0]) + 1) * 16;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  const HttpHeadRead whole = read_http_head(bytes, limit);
  check_alone(whole);
  require(same(whole, read_http_head(bytes, limit)));
  if (whole.status == Status::need_more) require(bytes.size() < limit);

  std::vector<size_t> cuts = {1, bytes.size() / 2, bytes.size() > 0 ? bytes.size() - 1 : 0};
  for (size_t i = 0; i < bytes.size() && cuts.size() < 128; ++i)
    if (bytes[i] == '\n' || bytes[i] == ' ') cuts.push_back(i + 1);
  for (const size_t cut : cuts) {
    if (cut > bytes.size()) continue;
    const HttpHeadRead prefix = read_http_head(bytes.substr(0, cut), limit);
    check_alone(prefix);
    if (whole.status == Status::head && whole.framing == FramingViolation::none) {
      require(prefix.status == Status::need_more || prefix.status == Status::head);
      // A refusal stays a refusal (which violation shows first depends on what has arrived); a
      // clean head is the same head.
      if (prefix.status == Status::head && prefix.framing != FramingViolation::none)
        require(whole.framing != FramingViolation::none);
      else if (prefix.status == Status::head)
        require(same(prefix, whole));
    }
    // A refused whole (a violation) may have refused a prefix as too large first: both refusals.
    if (whole.status == Status::head && whole.framing != FramingViolation::none)
      require(prefix.status != Status::not_http);
    if (prefix.status == Status::head && prefix.framing != FramingViolation::none)
      require((whole.status == Status::head && whole.framing != FramingViolation::none) ||
              whole.status == Status::too_large);
    if (prefix.status == Status::not_http) require(whole.status == Status::not_http);
  }
  return 0;
}
