// libFuzzer target for catalog/host_name: the one reading of a host that decides whether traffic
// is an AI service's, fed bytes as a client would send them in a CONNECT target, a Host header or
// a TLS SNI. Beyond "no crash, no sanitizer report", it checks the parser's stated invariants:
//   - a parsed host is non-empty, printable lower-case ASCII with no trailing dot, and parsing its
//     normal form again gives the same text and kind (so the catalog, the CA and the logs, which
//     all hold the normal form, agree with the first reading);
//   - an authority's port is 1..65535, and the same authority with its host in normal form parses
//     to the same host and port;
//   - nothing containing '@' is ever accepted (userinfo is refused, not stripped).
// Inputs are bounded at 1 KiB: a Host header longer than that is refused by the header limit first.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/catalog/host_name.h"

namespace {

using promptwall::gateway::HostName;

void require(bool ok) {
  if (!ok) std::abort();
}

void check_normal_form(const HostName& host) {
  const std::string& t = host.text;
  require(!t.empty() && t.back() != '.');
  for (char c : t) {
    const auto b = static_cast<unsigned char>(c);
    require(b > ' ' && b < 0x7f && !(c >= 'A' && c <= 'Z') && c != '@');
  }
  const auto again = promptwall::gateway::parse_host(t);
  require(again && again->text == t && again->kind == host.kind);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1024) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool has_at = text.find('@') != std::string_view::npos;

  if (const auto host = promptwall::gateway::parse_host(text)) {
    require(!has_at);
    check_normal_form(*host);
  }
  for (uint16_t default_port : {uint16_t{0}, uint16_t{443}}) {
    const auto authority = promptwall::gateway::parse_authority(text, default_port);
    if (!authority) continue;
    require(!has_at && authority->port >= 1);
    check_normal_form(authority->host);
    const std::string host = authority->host.kind == HostName::Kind::ipv6 ? "[" + authority->host.text + "]"
                                                                          : authority->host.text;
    const auto again = promptwall::gateway::parse_authority(host + ":" + std::to_string(authority->port), 0);
    require(again && again->host.text == authority->host.text && again->port == authority->port);
  }
  return 0;
}
