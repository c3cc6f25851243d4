// gateway/identity/proxy_header: the PROXY protocol header HAProxy's send-proxy-v2 writes (and the
// v1 text form), read incrementally and strictly.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "gateway/identity/proxy_header.h"

using namespace promptwall::gateway;
using Status = ProxyHeaderScan::Status;

namespace {

const std::string kSignature("\r\n\r\n\0\r\nQUIT\n", 12);

std::string be16(size_t v) { return {static_cast<char>(v >> 8 & 0xFF), static_cast<char>(v & 0xFF)}; }

// A v2 header: version/command byte, family/transport byte, then `rest` (addresses and TLVs).
std::string v2(uint8_t version_command, uint8_t family_transport, const std::string& rest) {
  return kSignature + static_cast<char>(version_command) + static_cast<char>(family_transport) + be16(rest.size()) + rest;
}

std::string v4_addresses(std::vector<uint8_t> src, std::vector<uint8_t> dst, uint16_t sport, uint16_t dport) {
  std::string out;
  for (auto b : src) out += static_cast<char>(b);
  for (auto b : dst) out += static_cast<char>(b);
  return out + be16(sport) + be16(dport);
}

std::string tlv(uint8_t type, const std::string& value) { return static_cast<char>(type) + be16(value.size()) + value; }

}  // namespace

TEST_CASE("proxy_header: v2 PROXY TCP4 names the client, what follows is the client's own", "[proxy_header]") {
  const std::string header = v2(0x21, 0x11, v4_addresses({127, 0, 0, 2}, {127, 0, 0, 1}, 40000, 8080));
  const std::string wire = header + "GET / HTTP/1.1\r\n";
  const auto scan = scan_proxy_header(wire);
  REQUIRE(scan.status == Status::complete);
  CHECK(scan.length == header.size());
  CHECK(scan.length == 28);
  CHECK(scan.header.version == 2);
  CHECK(scan.header.command == ProxyHeader::Command::proxy);
  CHECK(scan.header.source.to_string() == "127.0.0.2");
  CHECK(scan.header.source.is_v4());
  CHECK(scan.header.destination.to_string() == "127.0.0.1");
  CHECK(scan.header.source_port == 40000);
  CHECK(scan.header.destination_port == 8080);
}

TEST_CASE("proxy_header: v2 PROXY TCP6", "[proxy_header]") {
  std::string addresses(32, '\0');
  addresses[0] = 0x20, addresses[1] = 0x01, addresses[2] = 0x0d, addresses[3] = static_cast<char>(0xb8), addresses[15] = 7;
  addresses[31] = 1;  // ::1
  const auto scan = scan_proxy_header(v2(0x21, 0x21, addresses + be16(443) + be16(9090)));
  REQUIRE(scan.status == Status::complete);
  CHECK(scan.header.source.to_string() == "2001:db8::7");
  CHECK(scan.header.destination.to_string() == "::1");
  CHECK(scan.header.source_port == 443);
  CHECK(scan.header.destination_port == 9090);
}

TEST_CASE("proxy_header: every prefix of a valid header is incomplete, never invalid", "[proxy_header]") {
  const std::string header = v2(0x21, 0x11, v4_addresses({10, 1, 2, 3}, {10, 0, 0, 1}, 1, 2) + tlv(0x05, "unique-id"));
  for (size_t n = 0; n < header.size(); ++n) {
    INFO("prefix of " << n << " bytes");
    CHECK(scan_proxy_header(header.substr(0, n)).status == Status::incomplete);
  }
  CHECK(scan_proxy_header(header).status == Status::complete);
  const std::string text = "PROXY TCP4 10.1.2.3 10.0.0.1 1 2\r\n";
  for (size_t n = 0; n < text.size(); ++n) {
    INFO("v1 prefix of " << n << " bytes");
    CHECK(scan_proxy_header(text.substr(0, n)).status == Status::incomplete);
  }
}

TEST_CASE("proxy_header: LOCAL (a health check) names no client, whatever its family", "[proxy_header]") {
  for (uint8_t family : {0x00, 0x11, 0x21, 0x31}) {
    const std::string rest = family == 0x00 ? std::string() : std::string(family == 0x11 ? 12 : family == 0x21 ? 36 : 216, 'x');
    const auto scan = scan_proxy_header(v2(0x20, family, rest));
    REQUIRE(scan.status == Status::complete);
    CHECK(scan.header.command == ProxyHeader::Command::local);
    CHECK(scan.length == 16 + rest.size());
  }
  const auto text = scan_proxy_header("PROXY UNKNOWN\r\nGET");
  REQUIRE(text.status == Status::complete);
  CHECK(text.header.command == ProxyHeader::Command::local);
  CHECK(text.length == 15);
  CHECK(scan_proxy_header("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n").header.command == ProxyHeader::Command::local);
}

TEST_CASE("proxy_header: TLVs are skipped when they tile the header, refused when they do not", "[proxy_header]") {
  const std::string addresses = v4_addresses({192, 168, 1, 9}, {10, 0, 0, 1}, 5, 6);
  const auto ok = scan_proxy_header(v2(0x21, 0x11, addresses + tlv(0x01, "http/1.1") + tlv(0x04, "") + tlv(0x20, std::string(300, 'c'))));
  REQUIRE(ok.status == Status::complete);
  CHECK(ok.header.source.to_string() == "192.168.1.9");
  CHECK(scan_proxy_header(v2(0x21, 0x11, addresses + "\x01\x00")).status == Status::invalid);       // cut short
  CHECK(scan_proxy_header(v2(0x21, 0x11, addresses + tlv(0x01, "abc").substr(0, 5))).status == Status::invalid);
  CHECK(scan_proxy_header(v2(0x21, 0x11, addresses + "\x01\x00\x09" "abc")).status == Status::invalid);  // longer
}

TEST_CASE("proxy_header: what names no TCP client is refused (fail closed)", "[proxy_header]") {
  const std::string addresses = v4_addresses({1, 2, 3, 4}, {5, 6, 7, 8}, 1, 2);
  CHECK(scan_proxy_header(v2(0x21, 0x00, "")).status == Status::invalid);              // PROXY UNSPEC
  CHECK(scan_proxy_header(v2(0x21, 0x31, std::string(216, 'u'))).status == Status::invalid);  // UNIX
  CHECK(scan_proxy_header(v2(0x21, 0x12, addresses)).status == Status::invalid);        // UDP
  CHECK(scan_proxy_header(v2(0x21, 0x41, addresses)).status == Status::invalid);        // family 4
  CHECK(scan_proxy_header(v2(0x21, 0x11, addresses.substr(0, 11))).status == Status::invalid);  // short
  CHECK(scan_proxy_header(v2(0x21, 0x21, addresses)).status == Status::invalid);        // v6 needs 36
  CHECK(scan_proxy_header(v2(0x22, 0x11, addresses)).status == Status::invalid);        // command 2
  CHECK(scan_proxy_header(v2(0x11, 0x11, addresses)).status == Status::invalid);        // version 1 binary
  CHECK(scan_proxy_header(v2(0x31, 0x11, addresses)).status == Status::invalid);        // version 3
}

TEST_CASE("proxy_header: a connection that does not open with a header is invalid at once", "[proxy_header]") {
  for (std::string wire : {std::string("GET / HTTP/1.1\r\n"), std::string("\x16\x03\x01"), std::string("PROXY\r\n"),
                           std::string("\r\n\r\n\0\r\nQUIX\n", 12)}) {
    const auto scan = scan_proxy_header(wire);
    INFO(wire);
    CHECK(scan.status == Status::invalid);
    CHECK(scan.why.find("GET") == std::string::npos);  // never quotes what it received
  }
  CHECK(scan_proxy_header("P").status == Status::incomplete);
  CHECK(scan_proxy_header(std::string("\r\n\r\n\0\r\nQUIT\nX", 13)).status == Status::incomplete);
}

TEST_CASE("proxy_header: a v2 header longer than the bound is refused before it is buffered", "[proxy_header]") {
  const std::string head = kSignature + "\x21\x11" + be16(kMaxProxyHeaderBytes);  // 16 + 4096 > 4096
  const auto scan = scan_proxy_header(head);
  CHECK(scan.status == Status::invalid);
  const std::string largest = v2(0x21, 0x11, v4_addresses({1, 1, 1, 1}, {2, 2, 2, 2}, 1, 1) +
                                                 tlv(0xE0, std::string(kMaxProxyHeaderBytes - 16 - 12 - 3, 'z')));
  REQUIRE(largest.size() == kMaxProxyHeaderBytes);
  CHECK(scan_proxy_header(largest).status == Status::complete);
}

TEST_CASE("proxy_header: v1 text, strictly", "[proxy_header]") {
  auto scan = scan_proxy_header("PROXY TCP4 203.0.113.7 10.0.0.1 51234 8080\r\nGET / HTTP/1.1\r\n");
  REQUIRE(scan.status == Status::complete);
  CHECK(scan.header.version == 1);
  CHECK(scan.header.command == ProxyHeader::Command::proxy);
  CHECK(scan.header.source.to_string() == "203.0.113.7");
  CHECK(scan.header.source_port == 51234);
  CHECK(scan.header.destination_port == 8080);
  CHECK(scan.length == std::string("PROXY TCP4 203.0.113.7 10.0.0.1 51234 8080\r\n").size());

  scan = scan_proxy_header("PROXY TCP6 2001:db8::1 ::1 65535 0\r\n");
  REQUIRE(scan.status == Status::complete);
  CHECK(scan.header.source.to_string() == "2001:db8::1");
  CHECK(scan.header.source_port == 65535);

  for (const char* bad : {"PROXY TCP4 2001:db8::1 10.0.0.1 1 2\r\n", "PROXY TCP6 10.0.0.2 10.0.0.1 1 2\r\n",
                          "PROXY TCP4 10.0.0.2 10.0.0.1 65536 2\r\n", "PROXY TCP4 10.0.0.2 10.0.0.1 01 2\r\n",
                          "PROXY TCP4 10.0.0.2  10.0.0.1 1 2\r\n", "PROXY TCP4 10.0.0.2 10.0.0.1 1\r\n",
                          "PROXY TCP4 10.0.0.2 10.0.0.1 1 2 3\r\n", "PROXY UDP4 10.0.0.2 10.0.0.1 1 2\r\n",
                          "PROXY TCP4 10.0.0.2 10.0.0.1 1 2\n", "PROXY TCP4 10.0.0.2 10.0.0.1 -1 2\r\n"}) {
    INFO(bad);
    CHECK(scan_proxy_header(bad).status == Status::invalid);
  }
  CHECK(scan_proxy_header("PROXY TCP4 " + std::string(120, '1')).status == Status::invalid);  // no CRLF within 107
}
