// The request head is content too (issue 12, items 10 and 13): a stamp in a query value, a query
// name, a path segment, a custom header or an HTTP trailer is refused in the API's own error shape,
// with an audit event saying where it was, and nothing reaches the fake upstream. The client's own
// credentials (Authorization, x-goog-api-key, Gemini's ?key=) are transport and never flagged,
// even holding digits that read as a CCCD. A path that climbs out of the service's base path, in
// any spelling, is refused before any upstream connection; clean requests pass byte for byte.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "expectations.h"

using namespace promptwall::e2e;

namespace {

// The stamp as a query component carries it (form-encoded) and as a path segment (percent-encoded).
const std::string kSecretForm = "%C4%90%E1%BB%99+m%E1%BA%ADt%3A+TUY%E1%BB%86T+M%E1%BA%ACT";
const std::string kSecretPercent = "%C4%90%E1%BB%99%20m%E1%BA%ADt%3A%20TUY%E1%BB%86T%20M%E1%BA%ACT";

struct RawAnswer {
  int status = 0;
  std::string head, body;
  json json_body() const { return json::parse(body, nullptr, false); }
};

// Sends `request` byte for byte (no client normalises its path or drops its trailer) on a new
// connection to 127.0.0.1:`port`, and reads one answer (Content-Length framed, as refusals are).
RawAnswer raw_http(uint16_t port, const std::string& request) {
  RawAnswer answer;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    FAIL("cannot connect to 127.0.0.1:" << port);
  }
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string got;
  char buf[8192];
  for (;;) {
    const size_t end_of_head = got.find("\r\n\r\n");
    if (end_of_head != std::string::npos) {
      const std::string head = lower(got.substr(0, end_of_head));
      const size_t at = head.find("\ncontent-length:");
      const size_t length = at == std::string::npos ? 0 : std::stoul(head.substr(at + 16));
      if (got.size() >= end_of_head + 4 + length) {
        answer.head = got.substr(0, end_of_head);
        answer.body = got.substr(end_of_head + 4, length);
        break;
      }
    }
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (got.rfind("HTTP/1.1 ", 0) == 0) answer.status = std::stoi(got.substr(9, 3));
  return answer;
}

// Node's http module reads header values as Latin-1: the fake upstream records each UTF-8 byte
// as the character of that code point.
std::string as_latin1_read(std::string_view utf8) {
  std::string out;
  for (unsigned char c : utf8) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

uint16_t port_of(const std::string& url) { return static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1))); }

bool has_finding_at(const json& event, const std::string& location) {
  for (const auto& f : event.value("findings", json::array()))
    for (const auto& l : f.value("locations", json::array()))
      if (l == location) return true;
  return false;
}

// One refusal: 403 in the OpenAI error shape, nothing forwarded, one audit event with the reason
// (and, for findings, where in the head they were).
void check_refused(const GatewayFixture& gw, const GatewayFixture::Mark& m, int status, const json& body,
                   const std::string& reason, const std::string& location = "") {
  INFO("answer: " << body.dump());
  CHECK(status == 403);
  CHECK(body["error"].value("code", "") == "promptwall_" + reason);
  const std::string message = body["error"].value("message", "");
  CHECK_FALSE(contains(message, "TUYỆT MẬT"));
  CHECK(has_non_ascii(message));  // Vietnamese, then English
  CHECK(contains(message, "promptwall blocked"));
  check_nothing_forwarded(gw, m);
  auto events = gw.decisions_since(m);
  INFO("decisions: " << json(events).dump());
  REQUIRE(events.size() == 1);
  CHECK(events[0].value("reason", "") == reason);
  CHECK(events[0].value("forwarded", true) == false);
  if (!location.empty()) CHECK(has_finding_at(events[0], location));
  CHECK_FALSE(contains(events[0].dump(), "TUYỆT MẬT"));
}

}  // namespace

TEST_CASE("a stamp anywhere in the request head is refused before it leaves", "[e2e][head]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  const std::string chat = "/openai/v1/chat/completions";
  const std::string body = chat_body(kClean);

  SECTION("in a query value") {
    auto m = gw.mark();
    auto r = post(gw.url(chat + "?q=" + kSecretForm), body);
    check_decision(r, "block");
    check_refused(gw, m, r.status, r.json_body(), "sensitive_content", "query:q");
  }
  SECTION("in a query name (Gemini's error shape)") {
    auto m = gw.mark();
    auto r = post(gw.url("/gemini/v1beta/models/gemini-2.0-flash:generateContent?" + kSecretForm + "=1"),
                  R"({"contents":[{"parts":[{"text":"xin chào"}]}]})");
    CHECK(r.status == 403);
    CHECK(r.json_body()["error"].value("status", "") == "PERMISSION_DENIED");
    check_nothing_forwarded(gw, m);
    auto events = gw.decisions_since(m);
    INFO("decisions: " << json(events).dump());
    REQUIRE(events.size() == 1);
    CHECK(events[0].value("reason", "") == "sensitive_content");
    CHECK(has_finding_at(events[0], "query:[*]"));  // the name is what was found: not shown
    CHECK_FALSE(contains(events[0].dump(), "TUYỆT MẬT"));
  }
  SECTION("in a path segment") {
    auto m = gw.mark();
    auto r = get(gw.url("/openai/v1/files/" + kSecretPercent));
    check_refused(gw, m, r.status, r.json_body(), "sensitive_content", "path[2]");
    // The recorded path does not carry the segment as sent either.
    auto events = gw.decisions_since(m);
    REQUIRE(events.size() == 1);
    CHECK(events[0].value("path", "") == "/openai/v1/files/[*]");
    CHECK_FALSE(contains(gw.log(), kSecretPercent));
  }
  SECTION("in a custom header, also on a GET with no body") {
    auto m = gw.mark();
    auto r = get(gw.url("/openai/v1/models"), {std::string("X-Title: ") + kSecretLine});
    check_refused(gw, m, r.status, r.json_body(), "sensitive_content", "header:x-title");
  }
  SECTION("a CCCD in a header: redact cannot rewrite a header, so it blocks") {
    auto m = gw.mark();
    auto r = post(gw.url(chat), body, {"Content-Type: application/json", std::string("X-Customer: ") + kCccdText});
    check_refused(gw, m, r.status, r.json_body(), "sensitive_content", "header:x-customer");
  }
  SECTION("in an HTTP trailer of a chunked request") {
    auto m = gw.mark();
    const std::string request = "POST " + chat + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                "Transfer-Encoding: chunked\r\nTrailer: X-Note\r\nConnection: close\r\n\r\n" +
                                [&] { std::ostringstream hex; hex << std::hex << body.size(); return hex.str(); }() +
                                "\r\n" + body + "\r\n0\r\nX-Note: " + kSecretLine + "\r\n\r\n";
    auto r = raw_http(gw.gateway_port(), request);
    INFO(r.head);
    check_refused(gw, m, r.status, r.json_body(), "sensitive_content", "header:x-note");
  }
  SECTION("in the query of a WebSocket Upgrade (which has no body); a clean Upgrade goes through") {
    auto upgrade = [](const std::string& target) {
      return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    };
    auto m = gw.mark();
    auto r = raw_http(gw.gateway_port(), upgrade("/openai/v1/realtime?note=" + kSecretForm));
    check_refused(gw, m, r.status, r.json_body(), "sensitive_content", "query:note");

    auto clean = gw.mark();
    auto ok = raw_http(gw.gateway_port(), upgrade("/openai/v1/realtime?model=gpt-4o-realtime"));
    CHECK(ok.status == 101);
    auto rec = single_forward(gw, clean);
    if (rec.is_object()) {
      CHECK(rec["method"] == "UPGRADE");
      CHECK(rec["url"] == "/v1/realtime?model=gpt-4o-realtime");
    }
  }
  SECTION("in a header of a request intercepted inside a CONNECT tunnel") {
    auto m = gw.mark();
    HttpRequest req;
    req.method = "POST";
    req.url = "https://api.openai.com/v1/chat/completions";
    req.proxy = gw.proxy();
    req.cacert = gw.certs().org_ca_crt.string();
    req.body = body;
    req.headers = {"Content-Type: application/json", "Authorization: Bearer sk-e2e-test",
                   std::string("X-Title: ") + kSecretLine};
    auto r = http(req);
    INFO(tail(r.log, 2000));
    check_decision(r, "block");
    check_refused(gw, m, r.status, r.json_body(), "sensitive_content", "header:x-title");
  }
  SECTION("in a header of a request through the forward proxy") {
    auto m = gw.mark();
    const std::string request = "GET http://generativelanguage.googleapis.com/v1beta/models HTTP/1.1\r\n"
                                "Host: generativelanguage.googleapis.com\r\nX-Title: " + std::string(kSecretLine) +
                                "\r\nConnection: close\r\n\r\n";
    auto r = raw_http(port_of(gw.proxy()), request);
    CHECK(r.status == 403);
    CHECK(r.json_body()["error"].value("status", "") == "PERMISSION_DENIED");
    check_nothing_forwarded(gw, m);
    auto events = gw.decisions_since(m);
    REQUIRE(events.size() == 1);
    CHECK(events[0].value("reason", "") == "sensitive_content");
    CHECK(has_finding_at(events[0], "header:x-title"));
  }
}

TEST_CASE("the client's credentials are transport: CCCD-like digits there are not flagged", "[e2e][head]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  auto m = gw.mark();
  const std::string target = "/v1beta/models/gemini-2.0-flash:generateContent?key=" + std::string(kCccd);
  const std::string body = R"({"contents":[{"parts":[{"text":"xin chào"}]}]})";
  auto r = post(gw.url("/gemini" + target), body,
                {"Content-Type: application/json", std::string("x-goog-api-key: ") + kCccd,
                 std::string("Authorization: Bearer ") + kCccd, std::string("Cookie: cccd=") + kCccd});
  CHECK(r.status == 200);
  check_decision(r, "allow");
  auto rec = single_forward(gw, m);
  REQUIRE(rec.is_object());
  CHECK(rec["url"] == target);  // the key reaches the service as sent
  CHECK(rec["headers"].value("x-goog-api-key", "") == kCccd);
  check_forwarded_body(rec, body);
  auto events = gw.decisions_since(m);
  REQUIRE(events.size() == 1);
  CHECK(events[0].value("findings", json::array()).empty());
  // Never logged: not in the trail, not in the gateway's log.
  CHECK_FALSE(contains(gw.audit_text(), kCccd));
  CHECK_FALSE(contains(gw.log(), kCccd));
}

TEST_CASE("a clean request passes byte for byte, query and headers included", "[e2e][head]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  auto m = gw.mark();
  const std::string body = chat_body(kClean);
  auto r = post(gw.url("/openai/v1/chat/completions?tag=th%C6%A1&x=1"), body,
                {"Content-Type: application/json", "X-Title: Bài thơ mùa thu", "OpenAI-Organization: org-e2e"});
  CHECK(r.status == 200);
  check_decision(r, "allow");
  auto rec = single_forward(gw, m);
  REQUIRE(rec.is_object());
  CHECK(rec["url"] == "/v1/chat/completions?tag=th%C6%A1&x=1");
  CHECK(rec["headers"].value("x-title", "") == as_latin1_read("Bài thơ mùa thu"));
  CHECK(rec["headers"].value("openai-organization", "") == "org-e2e");
  check_forwarded_body(rec, body);
}

TEST_CASE("a path that climbs out of the service's base path is refused in every spelling", "[e2e][head][path]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  const std::string body = chat_body(kClean);
  auto request = [&](const std::string& target) {
    return "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  };
  SECTION("through the base-URL gateway, above the part after the service prefix") {
    for (const std::string target : {"/openai/v1/../../x", "/openai/v1/%2e%2e/%2E%2E/x", "/openai/..%2f..%2fv1/models",
                                     "/openai/v1/.%2E/..;/x", "/openai/../gemini/v1beta/models"}) {
      INFO(target);
      auto m = gw.mark();
      auto r = raw_http(gw.gateway_port(), request(target));
      check_refused(gw, m, r.status, r.json_body(), "forbidden_destination");
    }
  }
  SECTION("through the forward proxy, above the site's root") {
    auto m = gw.mark();
    const std::string proxied = "GET http://generativelanguage.googleapis.com/v1beta/%2e%2e/../admin HTTP/1.1\r\n"
                                "Host: generativelanguage.googleapis.com\r\nConnection: close\r\n\r\n";
    auto r = raw_http(port_of(gw.proxy()), proxied);
    CHECK(r.status == 403);
    CHECK(r.json_body()["error"].value("status", "") == "PERMISSION_DENIED");
    check_nothing_forwarded(gw, m);
    auto events = gw.decisions_since(m);
    REQUIRE(events.size() == 1);
    CHECK(events[0].value("reason", "") == "forbidden_destination");
  }
  SECTION("dot segments that stay inside are resolved, and the upstream gets the resolved path") {
    auto m = gw.mark();
    auto r = raw_http(gw.gateway_port(), request("/openai/v1/files/./../chat/%2e/completions?x=1"));
    CHECK(r.status == 200);
    auto rec = single_forward(gw, m);
    REQUIRE(rec.is_object());
    CHECK(rec["url"] == "/v1/chat/completions?x=1");
    check_forwarded_body(rec, body);
  }
}
