// The transparent listener's socket-level pieces (gateway/server/): the original destination of an
// accepted socket, the loop guard, and the HTTP head reader. Real sockets on loopback.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>

#include "gateway/server/http_head_reader.h"
#include "gateway/server/original_destination.h"

namespace promptwall::gateway::server {
namespace {

// A listening socket on 127.0.0.1 and one connection accepted from it.
struct LoopbackPair {
  int listener = -1, client = -1, accepted = -1;
  uint16_t port = 0;
  LoopbackPair() {
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(listener, 1) == 0);
    REQUIRE(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port = ntohs(addr.sin_port);
    client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    accepted = accept(listener, nullptr, nullptr);
    REQUIRE(accepted >= 0);
  }
  ~LoopbackPair() {
    for (int fd : {listener, client, accepted})
      if (fd >= 0) close(fd);
  }
};

using Status = HttpHeadRead::Status;

}  // namespace

TEST_CASE("TPROXY: the accepted socket's local address is the original destination", "[transparent]") {
  LoopbackPair pair;
  std::string why;
  auto destination = OriginalDestination::lookup(pair.accepted, /*tproxy=*/true, &why);
  INFO(why);
  REQUIRE(destination);
  CHECK(destination->address() == "127.0.0.1");
  CHECK(destination->port() == pair.port);
  CHECK(destination->to_string() == "127.0.0.1:" + std::to_string(pair.port));
}

TEST_CASE("REDIRECT: a connection no firewall redirected has no other original destination", "[transparent]") {
  LoopbackPair pair;
  std::string why;
  auto destination = OriginalDestination::lookup(pair.accepted, /*tproxy=*/false, &why);
  // Without conntrack there is no answer at all (refused, with the reason); with it, the answer is
  // the listener itself, which the loop guard refuses.
  if (destination) {
    CHECK(destination->port() == pair.port);
    const std::array<uint16_t, 1> ports{pair.port};
    CHECK(destination->is_gateway_itself(ports));
  } else {
    CHECK_THAT(why, Catch::Contains("SO_ORIGINAL_DST"));
  }
}

TEST_CASE("the loop guard: one of our listener ports on one of our addresses", "[transparent]") {
  const std::array<uint16_t, 3> ports{3129, 3128, 9090};
  CHECK(OriginalDestination("127.0.0.1", 3129).is_gateway_itself(ports));
  CHECK(OriginalDestination("127.0.0.1", 9090).is_gateway_itself(ports));
  CHECK(OriginalDestination("::1", 3128).is_gateway_itself(ports));
  CHECK_FALSE(OriginalDestination("127.0.0.1", 443).is_gateway_itself(ports));          // a local web server
  CHECK_FALSE(OriginalDestination("192.0.2.10", 3129).is_gateway_itself(ports));        // TEST-NET-1: not ours
  CHECK_FALSE(OriginalDestination("2001:db8::10", 3129).is_gateway_itself(ports));      // documentation prefix
  CHECK(OriginalDestination("2001:db8::10", 443).to_string() == "[2001:db8::10]:443");
}

TEST_CASE("HTTP heads: the Host of a complete head, judged only when complete", "[transparent]") {
  const std::string head = "POST /v1/chat/completions HTTP/1.1\r\nHost: API.OpenAI.com:80\r\nContent-Length: 2\r\n\r\n{}";
  auto read = read_http_head(head, 16384);
  CHECK(read.status == Status::head);
  CHECK(read.host == "api.openai.com");
  CHECK(read_http_head("GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n", 16384).host == "2001:db8::1");
  CHECK(read_http_head("GET / HTTP/1.1\r\nHost: example.com.\r\n\r\n", 16384).host == "example.com");
  // HTTP/1.0 without a Host: a head, naming no host.
  read = read_http_head("GET / HTTP/1.0\r\n\r\n", 16384);
  CHECK(read.status == Status::head);
  CHECK(read.host.empty());
  CHECK_FALSE(read.host_invalid);
  // The Host is read as every host is (gateway/catalog/host_name.h): an IDN as its A-labels; a Host
  // that does not parse is flagged, so the connection is closed rather than spliced as if unnamed.
  CHECK(read_http_head("GET / HTTP/1.1\r\nHost: B\xc3\xbc" "cher.de\r\n\r\n", 16384).host == "xn--bcher-kva.de");
  for (const char* bad : {"user@api.openai.com", "api.openai.com..", "api.openai.com:0", "2001:db8::1", "a%2eb.com"}) {
    INFO(bad);
    read = read_http_head("GET / HTTP/1.1\r\nHost: " + std::string(bad) + "\r\n\r\n", 16384);
    CHECK(read.status == Status::head);
    CHECK(read.host.empty());
    CHECK(read.host_invalid);
  }
  for (size_t cut : {size_t{1}, size_t{4}, size_t{5}, size_t{30}, size_t{60}}) {
    INFO("first " << cut << " bytes");
    CHECK(read_http_head(head.substr(0, cut), 16384).status == Status::need_more);
  }
}

TEST_CASE("HTTP heads: too large, or not HTTP at all", "[transparent]") {
  const std::string big = "GET / HTTP/1.1\r\nHost: a.example\r\nCookie: " + std::string(2000, 'x') + "\r\n\r\n";
  CHECK(read_http_head(big, 1024).status == Status::too_large);
  CHECK(read_http_head(big.substr(0, 1024), 1024).status == Status::too_large);  // limit reached, still no end
  // A complete head longer than the limit is too large whether it arrives whole or in pieces
  // (Beast alone passes it when it arrives in one piece).
  const std::string long_head = "GET / HTTP/1.1\r\nHost: api.openai.com\r\nUser-Agent: " + std::string(64, 'a') + "\r\n\r\n";
  CHECK(read_http_head(long_head, 64).status == Status::too_large);
  CHECK(read_http_head(long_head.substr(0, 70), 64).status == Status::too_large);
  CHECK(read_http_head(long_head, long_head.size()).status == Status::head);
  CHECK(read_http_head(std::string("\x16\x03\x01\x02\x00", 5), 16384).status == Status::not_http);
  CHECK(read_http_head("SSH-2.0-OpenSSH_9.2\r\n", 16384).status == Status::not_http);
  CHECK(read_http_head("BREW /pot HTTP/1.1\r\n\r\n", 16384).status == Status::not_http);  // no such method
  // A known method then bytes no reader accepts: refused by the request loop, never spliced.
  const HttpHeadRead bad_line = read_http_head("GET / HTTP/1.1\r\nbad header line\r\n\r\n", 16384);
  CHECK(bad_line.status == Status::head);
  CHECK(bad_line.framing == FramingViolation::unparseable);
  const HttpHeadRead nul_target = read_http_head(std::string("GET /a\0b HTTP/1.1\r\nHost: x\r\n", 28), 16384);
  CHECK(nul_target.status == Status::head);
  CHECK(nul_target.framing == FramingViolation::unparseable);
}

}  // namespace promptwall::gateway::server
