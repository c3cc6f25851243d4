// Behind HAProxy (haproxy_front.h): the gateway takes the client from the PROXY v2 header that
// HAProxy (connecting from 127.0.0.9, the only address in listen.proxy_protocol.from) puts before
// each connection, so the unit map resolves the real client (127.0.0.2), not the balancer; HAProxy's
// health checks reach /readyz through the PROXY protocol (LOCAL); a header from any other address is
// not believed; a `from` connection that sends none is closed.
#include "expectations.h"
#include "haproxy_front.h"
#include "raw_connection.h"

using namespace promptwall::e2e;

namespace {

constexpr const char* kBalancer = "127.0.0.9";
constexpr const char* kClientA = "127.0.0.2";  // identity.units: so-tu-phap
constexpr const char* kClientB = "127.0.0.3";  // identity.units: so-y-te

GatewayOptions behind_balancer() {
  GatewayOptions o;
  o.listen_extra = std::string(", proxy_protocol: {listeners: [gateway, proxy, admin], from: [") + kBalancer + "/32]}";
  o.extra_config =
      "identity:\n"
      "  units: {'127.0.0.2/32': so-tu-phap, '127.0.0.3/32': so-y-te, '127.0.0.9/32': can-bang-tai}\n";
  return o;
}

struct Front {
  GatewayFixture gw{behind_balancer()};
  HaproxyFront haproxy{gw.dir() / "haproxy", {{"gw-1", gw.gateway_port(), gw.admin_port(), true}}, kBalancer};
};

HttpResponse chat_from(const std::string& from, const std::string& url, const std::string& text) {
  HttpRequest req;
  req.method = "POST";
  req.url = url;
  req.interface = from;
  req.body = chat_body(text);
  req.headers = {"Content-Type: application/json", "Authorization: Bearer sk-e2e-test"};
  return http(req);
}

// PROXY v2, TCP over IPv4, naming `source`:40000 → 127.0.0.1:`port`.
std::string proxy_v2_header(const std::array<uint8_t, 4>& source, uint16_t port) {
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h += '\x21';
  h += '\x11';
  h += std::string("\x00\x0c", 2);
  for (uint8_t b : source) h += static_cast<char>(b);
  h += std::string("\x7f\x00\x00\x01", 4);
  h += static_cast<char>(40000 >> 8);
  h += static_cast<char>(40000 & 0xFF);
  h += static_cast<char>(port >> 8);
  h += static_cast<char>(port & 0xFF);
  return h;
}

}  // namespace

TEST_CASE("PROXY protocol: behind HAProxy the unit is the real client's, the health check passes", "[e2e][proxy_protocol]") {
  if (!HaproxyFront::available()) {
    WARN("SKIPPED: haproxy is not installed (apt-get install haproxy)");
    return;
  }
  Front front;
  GatewayFixture& gw = front.gw;
  INFO(gw.where_to_look());
  // The check goes to the admin listener through the PROXY protocol (a LOCAL header): UP.
  REQUIRE(front.haproxy.wait_status("gw-1", "UP", std::chrono::seconds(10)));

  auto m = gw.mark();
  auto r = chat_from(kClientA, front.haproxy.url("/openai/v1/chat/completions"), kClean);
  REQUIRE(r.status == 200);
  auto events = gw.decisions_since(m);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["unit"] == "so-tu-phap");  // not can-bang-tai, the balancer's
  CHECK(events[0]["client"].get<std::string>().rfind("127.0.0.2:", 0) == 0);

  m = gw.mark();
  r = chat_from(kClientB, front.haproxy.url("/openai/v1/chat/completions"), kSecretLine);
  CHECK(r.status == 403);  // the built-in packs block a secrecy field
  events = gw.decisions_since(m);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["unit"] == "so-y-te");
  CHECK(events[0]["client"].get<std::string>().rfind("127.0.0.3:", 0) == 0);
  CHECK(events[0]["decision"] == "block");
  check_nothing_forwarded(gw, m);

  // A direct client (127.0.0.1, not in `from`) is served as before, without a header.
  m = gw.mark();
  r = chat_from("127.0.0.1", gw.url("/openai/v1/chat/completions"), kClean);
  CHECK(r.status == 200);
  events = gw.decisions_since(m);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["client"].get<std::string>().rfind("127.0.0.1:", 0) == 0);
}

TEST_CASE("PROXY protocol: a header from an address not in `from` is not believed", "[e2e][proxy_protocol]") {
  GatewayFixture gw(behind_balancer());
  INFO(gw.where_to_look());
  auto m = gw.mark();
  // 127.0.0.3 claims, in a PROXY header, to be 127.0.0.2: its bytes are the request's, malformed.
  RawConnection c(gw.gateway_port(), kClientB);
  const std::string request = "GET /openai/v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-e2e-test\r\n\r\n";
  REQUIRE(c.send(proxy_v2_header({127, 0, 0, 2}, gw.gateway_port()) + request));
  auto answers = c.responses(1, std::chrono::seconds(5));
  REQUIRE(answers.size() == 1);
  CHECK(answers[0].status == 400);
  check_nothing_forwarded(gw, m);
  for (const auto& e : gw.decisions_since(m, 0)) {
    CHECK(e["unit"] != "so-tu-phap");
    CHECK(e["client"].get<std::string>().rfind("127.0.0.2:", 0) != 0);
  }
}

TEST_CASE("PROXY protocol: a connection from `from` must open with a header, else it is closed", "[e2e][proxy_protocol]") {
  GatewayFixture gw(behind_balancer());
  INFO(gw.where_to_look());
  auto m = gw.mark();
  const double before = gw.metric("promptwall_refusals_total{reason=\"proxy_header_invalid\"}");

  SECTION("a request without a header: closed unanswered, counted and logged") {
    RawConnection c(gw.gateway_port(), kBalancer);
    REQUIRE(c.send("GET /openai/v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-e2e-test\r\n\r\n"));
    CHECK(c.wait_closed(std::chrono::seconds(5)));
    CHECK(c.responses(1, std::chrono::milliseconds(200)).empty());
    check_nothing_forwarded(gw, m);
    CHECK(gw.metric("promptwall_refusals_total{reason=\"proxy_header_invalid\"}") == before + 1);
    CHECK(gw.log_eventually_contains("127.0.0.9:"));
    CHECK(gw.log_eventually_contains("did not open with a PROXY protocol header; connection closed"));
  }
  SECTION("the admin listener too: /readyz without a header is closed") {
    RawConnection c(gw.admin_port(), kBalancer);
    REQUIRE(c.send("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK(c.wait_closed(std::chrono::seconds(5)));
    CHECK(c.responses(1, std::chrono::milliseconds(200)).empty());
  }
  SECTION("with a header, the same request is answered as the client it names") {
    RawConnection c(gw.gateway_port(), kBalancer);
    REQUIRE(c.send(proxy_v2_header({127, 0, 0, 3}, gw.gateway_port()) +
                   "POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-e2e-test\r\n"
                   "Content-Type: application/json\r\nContent-Length: " +
                   std::to_string(chat_body(kClean).size()) + "\r\n\r\n" + chat_body(kClean)));
    auto answers = c.responses(1, std::chrono::seconds(10));
    REQUIRE(answers.size() == 1);
    CHECK(answers[0].status == 200);
    auto events = gw.decisions_since(m);
    REQUIRE(events.size() == 1);
    CHECK(events[0]["unit"] == "so-y-te");
  }
}

TEST_CASE("PROXY protocol: the forward proxy behind HAProxy, CONNECT and interception as the real client",
          "[e2e][proxy_protocol]") {
  if (!HaproxyFront::available()) {
    WARN("SKIPPED: haproxy is not installed (apt-get install haproxy)");
    return;
  }
  GatewayFixture gw(behind_balancer());
  INFO(gw.where_to_look());
  const std::string proxy = gw.proxy();  // http://127.0.0.1:PORT
  const auto proxy_port = static_cast<uint16_t>(std::stoi(proxy.substr(proxy.rfind(':') + 1)));
  HaproxyFront haproxy(gw.dir() / "haproxy-proxy", {{"gw-1", proxy_port, gw.admin_port(), true}}, kBalancer);
  REQUIRE(haproxy.wait_status("gw-1", "UP", std::chrono::seconds(10)));

  // An intercepted CONNECT through the balancer: the tunnel's requests are the client's (127.0.0.2).
  auto m = gw.mark();
  HttpRequest req = gw.via_proxy("POST", "https://api.openai.com/v1/chat/completions", chat_body(kSecretLine),
                                 {"Content-Type: application/json", "Authorization: Bearer sk-e2e-test"});
  req.proxy = "http://127.0.0.1:" + std::to_string(haproxy.port());
  req.interface = kClientA;
  auto r = http(req);
  CHECK(r.status == 403);
  auto events = gw.decisions_since(m);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["decision"] == "block");
  CHECK(events[0]["unit"] == "so-tu-phap");
  CHECK(events[0]["client"].get<std::string>().rfind("127.0.0.2:", 0) == 0);
  check_nothing_forwarded(gw, m);
}
