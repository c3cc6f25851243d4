// ProxyHeader and scan_proxy_header(): the PROXY protocol header a load balancer (HAProxy's
// `send-proxy-v2`) puts before a connection's first byte, naming the client it accepted the
// connection from (haproxy doc/proxy-protocol.txt). The gateway reads it only on listeners that
// enable it, and only from configured addresses (`listen.proxy_protocol`, server/proxy_header_reader).
//
// scan_proxy_header() is pure and incremental: give it the bytes received so far (from the
// connection's first byte); it says `incomplete` until it can decide, then `complete` with the
// header's length (the bytes after it are the client's own) or `invalid` with why. It reads at
// most kMaxProxyHeaderBytes.
//
// Accepted, strictly:
//   - version 2 (binary): the 12-byte signature, version 2, command LOCAL (a health check of the
//     balancer itself: no client address, every address field ignored) or PROXY over TCP (STREAM)
//     for families INET (12 address bytes) and INET6 (36); the declared length covers the
//     addresses, and what follows them are TLVs (type, 16-bit length, value) that must tile it
//     exactly and are otherwise skipped. PROXY with UNSPEC, UNIX or a datagram transport is
//     invalid: it names no TCP client, and a connection whose client we cannot name is refused
//     (fail closed) rather than credited to the balancer's own address.
//   - version 1 (text): "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" (single spaces, literal
//     addresses of the named family, decimal ports without leading zeros, at most 107 bytes), or
//     "PROXY UNKNOWN...\r\n" (treated as LOCAL).
// Anything else (a request sent without a header, a wrong signature or version) is invalid.
// Thread-safe: no state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/identity/ip_network.h"

namespace promptwall::gateway {

// Version 2 headers are bounded by their 16-bit length (64 KiB); no balancer sends more than a
// few hundred bytes of TLVs, so a longer one is refused instead of buffered.
inline constexpr size_t kMaxProxyHeaderBytes = 4096;

struct ProxyHeader {
  enum class Command : uint8_t { local, proxy };
  Command command = Command::local;
  unsigned version = 2;  // 1 (text) or 2 (binary)
  // Set for Command::proxy only: the client as the balancer saw it, and where it connected to.
  IpAddress source, destination;
  uint16_t source_port = 0, destination_port = 0;
};

struct ProxyHeaderScan {
  enum class Status : uint8_t { incomplete, complete, invalid };
  Status status = Status::incomplete;
  size_t length = 0;   // complete: the header's bytes (the client's own bytes start here)
  ProxyHeader header;  // complete: what it says
  std::string why;     // invalid: in English, for logs (never holds received bytes)
};

ProxyHeaderScan scan_proxy_header(std::string_view received);

}  // namespace promptwall::gateway
