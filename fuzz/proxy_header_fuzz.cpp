// libFuzzer target for gateway/identity/proxy_header: the PROXY protocol header a load balancer
// puts before a connection's bytes (read only from `listen.proxy_protocol.from` addresses, but a
// balancer's bug or a spoofed address must not make the gateway misread it). Input: the bytes a
// connection opened with. Beyond "no crash, no sanitizer report", it checks the header's contract:
//   - complete: 16 <= length <= kMaxProxyHeaderBytes for v2 (16 + the declared length), the line
//     with its CRLF (at most 107 bytes) for v1; the result is the same for any longer input that
//     starts with those bytes (what follows is the client's own and never changes the header);
//     a PROXY command's addresses are IPv4(-mapped) whenever it names TCP4/INET;
//   - every strict prefix of a complete header's bytes is incomplete (read more, never refuse early);
//   - incomplete only while the input is shorter than the bound (kMaxProxyHeaderBytes);
//   - invalid carries a reason that quotes none of the input's bytes past the fixed prefixes;
//   - it is pure: the same bytes give the same answer.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/identity/proxy_header.h"

namespace {

using promptwall::gateway::kMaxProxyHeaderBytes;
using promptwall::gateway::ProxyHeader;
using promptwall::gateway::ProxyHeaderScan;
using promptwall::gateway::scan_proxy_header;
using Status = ProxyHeaderScan::Status;

void require(bool ok) {
  if (!ok) std::abort();
}

bool same(const ProxyHeaderScan& a, const ProxyHeaderScan& b) {
  return a.status == b.status && a.length == b.length && a.why == b.why && a.header.command == b.header.command &&
         a.header.version == b.header.version && a.header.source == b.header.source &&
         a.header.destination == b.header.destination && a.header.source_port == b.header.source_port &&
         a.header.destination_port == b.header.destination_port;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 2 * kMaxProxyHeaderBytes) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const ProxyHeaderScan scan = scan_proxy_header(input);
  require(same(scan, scan_proxy_header(input)));

  switch (scan.status) {
    case Status::incomplete:
      require(size < kMaxProxyHeaderBytes);
      break;
    case Status::invalid:
      require(!scan.why.empty());
      require(scan.why.size() < 200);
      break;
    case Status::complete: {
      require(scan.length <= size && scan.length <= kMaxProxyHeaderBytes);
      if (scan.header.version == 2) {
        require(scan.length >= 16);
        require(scan.length == 16 + (size_t{data[14]} << 8 | data[15]));
      } else {
        require(scan.header.version == 1);
        require(scan.length <= 107 && input.substr(scan.length - 2, 2) == "\r\n");
        require(input.substr(0, scan.length - 2).find('\n') == std::string_view::npos);
      }
      if (scan.header.command == ProxyHeader::Command::proxy) {
        const bool v4_named = scan.header.version == 2 ? (data[13] >> 4) == 1 : input.substr(6, 4) == "TCP4";
        if (v4_named) require(scan.header.source.is_v4() && scan.header.destination.is_v4());
      }
      // What follows the header never changes it.
      const std::string_view header = input.substr(0, scan.length);
      require(same(scan, scan_proxy_header(header)));
      require(same(scan, scan_proxy_header(std::string(header) + "GET / HTTP/1.1\r\n")));
      for (size_t cut = 0; cut < scan.length; ++cut) require(scan_proxy_header(header.substr(0, cut)).status == Status::incomplete);
      break;
    }
  }
  return 0;
}
