#include "gateway/identity/proxy_header.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace promptwall::gateway {

namespace {

constexpr std::array<uint8_t, 12> kSignatureV2 = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::string_view kPrefixV1 = "PROXY ";
constexpr size_t kFixedV2 = 16;   // signature, version/command, family/transport, length
constexpr size_t kMaxV1 = 107;    // the spec's bound, CRLF included

ProxyHeaderScan invalid(std::string why) {
  ProxyHeaderScan out;
  out.status = ProxyHeaderScan::Status::invalid;
  out.why = std::move(why);
  return out;
}

uint8_t byte_at(std::string_view s, size_t i) { return static_cast<uint8_t>(s[i]); }
uint16_t be16(std::string_view s, size_t i) { return static_cast<uint16_t>(byte_at(s, i) << 8 | byte_at(s, i + 1)); }

IpAddress v4_at(std::string_view s, size_t i) {
  IpAddress a;
  a.bytes[10] = a.bytes[11] = 0xFF;
  for (size_t k = 0; k < 4; ++k) a.bytes[12 + k] = byte_at(s, i + k);
  return a;
}

IpAddress v6_at(std::string_view s, size_t i) {
  IpAddress a;
  for (size_t k = 0; k < 16; ++k) a.bytes[k] = byte_at(s, i + k);
  return a;
}

ProxyHeaderScan scan_v2(std::string_view in) {
  if (in.size() < kFixedV2) return {};
  const uint8_t version_command = byte_at(in, 12);
  if ((version_command >> 4) != 2) return invalid("PROXY v2 signature with version " + std::to_string(version_command >> 4));
  const uint8_t command = version_command & 0x0F;
  if (command > 1) return invalid("PROXY v2 with unknown command " + std::to_string(command));
  const uint8_t family = byte_at(in, 13) >> 4, transport = byte_at(in, 13) & 0x0F;
  const size_t declared = be16(in, 14);
  if (kFixedV2 + declared > kMaxProxyHeaderBytes)
    return invalid("PROXY v2 header of " + std::to_string(kFixedV2 + declared) + " bytes (at most " +
                   std::to_string(kMaxProxyHeaderBytes) + ")");
  if (in.size() < kFixedV2 + declared) return {};

  ProxyHeaderScan out;
  out.status = ProxyHeaderScan::Status::complete;
  out.length = kFixedV2 + declared;
  out.header.version = 2;
  if (command == 0) {  // LOCAL: the balancer speaking for itself; whatever follows is ignored
    out.header.command = ProxyHeader::Command::local;
    return out;
  }
  if (transport != 1) return invalid("PROXY v2 for a transport other than a TCP stream");
  size_t addresses = 0;
  if (family == 1) addresses = 12;
  else if (family == 2) addresses = 36;
  else return invalid(family == 0 ? "PROXY v2 naming no address (UNSPEC)" : family == 3 ? "PROXY v2 naming a UNIX socket" : "PROXY v2 with unknown family " + std::to_string(family));
  if (declared < addresses) return invalid("PROXY v2 length shorter than its addresses");
  const size_t at = kFixedV2;
  ProxyHeader& h = out.header;
  h.command = ProxyHeader::Command::proxy;
  if (family == 1) {
    h.source = v4_at(in, at);
    h.destination = v4_at(in, at + 4);
    h.source_port = be16(in, at + 8);
    h.destination_port = be16(in, at + 10);
  } else {
    h.source = v6_at(in, at);
    h.destination = v6_at(in, at + 16);
    h.source_port = be16(in, at + 32);
    h.destination_port = be16(in, at + 34);
  }
  // TLVs: each within the declared length, tiling it exactly; skipped (each is at least 3
  // bytes, so this walks at most ~1,350 of them).
  for (size_t i = at + addresses; i < out.length;) {
    if (out.length - i < 3) return invalid("PROXY v2 TLV cut short");
    const size_t value = be16(in, i + 1);
    if (out.length - i - 3 < value) return invalid("PROXY v2 TLV longer than the header");
    i += 3 + value;
  }
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A decimal port: 1-5 digits, no leading zero (but "0"), at most 65535.
bool parse_port(std::string_view text, uint16_t& port) {
  if (text.empty() || text.size() > 5 || !std::all_of(text.begin(), text.end(), is_digit)) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  unsigned value = 0;
  for (char c : text) value = value * 10 + static_cast<unsigned>(c - '0');
  if (value > 65535) return false;
  port = static_cast<uint16_t>(value);
  return true;
}

bool parse_literal(std::string_view text, bool v6, IpAddress& out) {
  if (text.empty() || text.size() > 45) return false;
  char buffer[46] = {};
  std::memcpy(buffer, text.data(), text.size());
  if (!v6) {
    in_addr a{};
    if (inet_pton(AF_INET, buffer, &a) != 1) return false;
    out = IpAddress{};
    out.bytes[10] = out.bytes[11] = 0xFF;
    std::memcpy(out.bytes.data() + 12, &a, 4);
    return true;
  }
  in6_addr a{};
  if (inet_pton(AF_INET6, buffer, &a) != 1) return false;
  std::memcpy(out.bytes.data(), &a, 16);
  return true;
}

ProxyHeaderScan scan_v1(std::string_view in) {
  const size_t end = in.substr(0, kMaxV1).find("\r\n");
  if (end == std::string_view::npos) {
    if (in.size() >= kMaxV1) return invalid("PROXY v1 line longer than 107 bytes");
    // A bare LF or a control byte will never become a valid line: decide now.
    for (size_t i = 0; i < in.size(); ++i)
      if (in[i] == '\n' || in[i] == '\0' || (in[i] == '\r' && i + 1 < in.size()))
        return invalid("PROXY v1 line with a stray control byte");
    return {};
  }
  std::string_view line = in.substr(kPrefixV1.size(), end - kPrefixV1.size());
  // The same bytes refused whether or not the CRLF has arrived yet (see above).
  if (line.find_first_of(std::string_view("\0\n\r", 3)) != std::string_view::npos)
    return invalid("PROXY v1 line with a stray control byte");
  ProxyHeaderScan out;
  out.status = ProxyHeaderScan::Status::complete;
  out.length = end + 2;
  out.header.version = 1;
  if (line.starts_with("UNKNOWN") && (line.size() == 7 || line[7] == ' ')) {
    out.header.command = ProxyHeader::Command::local;  // the spec: ignore the rest, use the socket's
    return out;
  }
  std::string_view fields[5];
  for (size_t f = 0; f < 5; ++f) {
    const size_t space = line.find(' ');
    if ((f < 4) == (space == std::string_view::npos)) return invalid("PROXY v1 line without its five fields");
    fields[f] = line.substr(0, space);
    line.remove_prefix(space == std::string_view::npos ? line.size() : space + 1);
  }
  const bool v6 = fields[0] == "TCP6";
  if (!v6 && fields[0] != "TCP4") return invalid("PROXY v1 with an unknown protocol");
  ProxyHeader& h = out.header;
  h.command = ProxyHeader::Command::proxy;
  if (!parse_literal(fields[1], v6, h.source) || !parse_literal(fields[2], v6, h.destination))
    return invalid("PROXY v1 address not of the family it names");
  if (!parse_port(fields[3], h.source_port) || !parse_port(fields[4], h.destination_port))
    return invalid("PROXY v1 port not a decimal 0..65535");
  return out;
}

}  // namespace

ProxyHeaderScan scan_proxy_header(std::string_view received) {
  const size_t v2_seen = std::min(received.size(), kSignatureV2.size());
  if (std::equal(received.begin(), received.begin() + static_cast<std::ptrdiff_t>(v2_seen), kSignatureV2.begin(),
                 [](char a, uint8_t b) { return static_cast<uint8_t>(a) == b; })) {
    return v2_seen < kSignatureV2.size() ? ProxyHeaderScan{} : scan_v2(received);
  }
  const size_t v1_seen = std::min(received.size(), kPrefixV1.size());
  if (received.substr(0, v1_seen) == kPrefixV1.substr(0, v1_seen))
    return v1_seen < kPrefixV1.size() ? ProxyHeaderScan{} : scan_v1(received);
  return invalid("the connection did not open with a PROXY protocol header");
}

}  // namespace promptwall::gateway
