// Base-URL mode (`baseURL: http://gateway/openai/v1`): the four decisions as the official SDK and
// curl see them, and what the upstream received for each.
#include "expectations.h"

using namespace promptwall::e2e;

TEST_CASE("the openai SDK through the gateway: allow, redact, warn, block", "[e2e][base-url]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());

  SECTION("a clean prompt is answered and forwarded unchanged to UPSTREAM/v1/chat/completions") {
    auto m = gw.mark();
    auto r = openai_client(gw.openai_base(), "chat", kClean);
    INFO(r.dump());
    CHECK(r["ok"] == true);
    CHECK(r["content"] == "ok");
    auto rec = single_forward(gw, m);
    REQUIRE(rec.is_object());
    CHECK(rec["url"] == "/v1/chat/completions");
    CHECK(rec["tls"] == true);
    CHECK(json::parse(body_of(rec))["messages"][0]["content"] == kClean);
    CHECK(rec["headers"]["authorization"] == "Bearer sk-e2e-test");
  }

  SECTION("curl sees the decision and a request id on an allowed request") {
    auto m = gw.mark();
    const auto body = chat_body(kClean);
    auto r = post(gw.url("/openai/v1/chat/completions"), body);
    CHECK(r.status == 200);
    check_decision(r, "allow");
    CHECK(r.json_body()["object"] == "chat.completion");
    check_forwarded_body(single_forward(gw, m), body);
  }

  SECTION("a secret marking: the SDK raises a 403 APIError naming the rule; nothing is forwarded") {
    auto m = gw.mark();
    auto r = openai_client(gw.openai_base(), "chat", std::string("Tóm tắt văn bản sau:\n") + kSecretLine + "\nNội dung họp.");
    INFO(r.dump());
    CHECK(r["ok"] == false);
    CHECK(r["status"] == 403);
    check_refusal_message(r.value("message", ""), "vn.secret.degree-field", "TUYỆT MẬT");
    check_nothing_forwarded(gw, m);
  }

  SECTION("a private key PEM block is refused, and the key is not echoed") {
    auto m = gw.mark();
    const auto pem = read_text(gw.certs().server_key);
    auto r = post(gw.url("/openai/v1/chat/completions"), chat_body("Check this key:\n" + pem));
    CHECK(r.status == 403);
    check_decision(r, "block");
    auto err = r.json_body();
    REQUIRE(err.contains("error"));
    const auto key_line = complete_lines(pem).at(1);  // the first base64 line of the key
    check_refusal_message(err["error"].value("message", ""), "secret.private-key.pem", key_line);
    CHECK_FALSE(contains(r.body, key_line));
    check_nothing_forwarded(gw, m);
  }

  SECTION("CCCD and phone are redacted: the upstream gets only those strings replaced") {
    auto m = gw.mark();
    const std::string prompt = std::string(kCccdText) + ", gọi " + kPhone + " nhé.";
    json request = {{"model", "gpt-4o-mini"},
                    {"temperature", 0.25},
                    {"messages", json::array({{{"role", "system"}, {"content", "Bạn là trợ lý \"HR\"\t\u00e9"}},
                                              {{"role", "user"}, {"content", prompt}}})},
                    {"metadata", {{"k", "001203004567x"}}}};  // not a CCCD (letter glued): unchanged
    const auto body = request.dump();
    auto r = post(gw.url("/openai/v1/chat/completions"), body);
    CHECK(r.status == 200);
    check_decision(r, "redact");
    CHECK(contains(r.header("X-Promptwall-Rules"), "vn.pii.cccd"));
    CHECK(contains(r.header("X-Promptwall-Rules"), "vn.pii.phone"));
    const auto expected = replace_all(body, prompt, replace_all(replace_all(prompt, kCccd, "[CCCD-1]"), kPhone, "[SĐT-1]"));
    check_forwarded_body(single_forward(gw, m), expected);
  }

  SECTION("the SDK's own request with a CCCD is redacted and answered") {
    auto m = gw.mark();
    auto r = openai_client(gw.openai_base(), "chat", kCccdText);
    INFO(r.dump());
    CHECK(r["ok"] == true);
    auto rec = single_forward(gw, m);
    REQUIRE(rec.is_object());
    CHECK(json::parse(body_of(rec))["messages"][0]["content"] == "Số CCCD của anh Nam là [CCCD-1]");
    CHECK_FALSE(contains(body_of(rec), kCccd));
  }

  SECTION("a document number is a warning: coached first, then forwarded unchanged with the token") {
    auto m = gw.mark();
    const auto body = chat_body(std::string("Tóm tắt công văn ") + kDocNumber);
    auto r = post(gw.url("/openai/v1/chat/completions"), body);
    CHECK(r.status == 403);
    check_decision(r, "warn");
    CHECK(contains(r.header("X-Promptwall-Rules"), "vn.doc.admin-number"));
    CHECK(r.json_body()["error"]["code"] == "promptwall_justification_required");
    check_nothing_forwarded(gw, m);
    // The token the message gives, with the same request: forwarded as sent.
    const std::string message = r.json_body()["error"]["message"];
    const std::string marker = "X-Promptwall-Justification-Token: ";
    const size_t at = message.find(marker);
    REQUIRE(at != std::string::npos);
    const std::string token = message.substr(at + marker.size(), message.find(' ', at + marker.size()) - at - marker.size());
    auto again = post(gw.url("/openai/v1/chat/completions"), body, {"X-Promptwall-Justification-Token: " + token});
    CHECK(again.status == 200);
    check_decision(again, "warn");
    check_forwarded_body(single_forward(gw, m), body);
  }
}

TEST_CASE("a refusal speaks the error shape of the API it answers for", "[e2e][base-url]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  const std::string secret = std::string("Trích:\n") + kSecretLine + "\n";

  SECTION("openai") {
    auto m = gw.mark();
    auto r = post(gw.url("/openai/v1/chat/completions"), chat_body(secret));
    CHECK(r.status == 403);
    check_decision(r, "block");
    CHECK(contains(r.header("Content-Type"), "application/json"));
    auto e = r.json_body();
    REQUIRE(e["error"].is_object());
    check_refusal_message(e["error"].value("message", ""), "vn.secret.degree-field", "TUYỆT MẬT");
    check_nothing_forwarded(gw, m);
  }
  SECTION("gemini") {
    auto m = gw.mark();
    json body = {{"contents", json::array({{{"role", "user"}, {"parts", json::array({{{"text", secret}}})}}})}};
    auto r = post(gw.url("/gemini/v1beta/models/gemini-2.0-flash:generateContent"), body.dump(), {"x-goog-api-key: k"});
    CHECK(r.status == 403);
    check_decision(r, "block");
    auto e = r.json_body();
    INFO(r.body);
    REQUIRE(e["error"].is_object());
    CHECK(e["error"]["code"] == 403);
    CHECK(e["error"]["status"] == "PERMISSION_DENIED");
    check_refusal_message(e["error"].value("message", ""), "vn.secret.degree-field", "TUYỆT MẬT");
    check_nothing_forwarded(gw, m);
  }
  SECTION("anthropic") {
    auto m = gw.mark();
    json body = {{"model", "claude-3-5-haiku-latest"}, {"max_tokens", 100},
                 {"messages", json::array({{{"role", "user"}, {"content", secret}}})}};
    auto r = post(gw.url("/anthropic/v1/messages"), body.dump(), {"x-api-key: k", "anthropic-version: 2023-06-01"});
    CHECK(r.status == 403);
    check_decision(r, "block");
    auto e = r.json_body();
    INFO(r.body);
    CHECK(e["type"] == "error");
    REQUIRE(e["error"].is_object());
    CHECK(e["error"]["type"] == "permission_error");
    check_refusal_message(e["error"].value("message", ""), "vn.secret.degree-field", "TUYỆT MẬT");
    check_nothing_forwarded(gw, m);
  }
  SECTION("a browser (Accept: text/html) gets a page") {
    auto m = gw.mark();
    auto r = post(gw.url("/openai/v1/chat/completions"), chat_body(secret), {"Accept: text/html", "Content-Type: application/json"});
    CHECK(r.status == 403);
    CHECK(contains(r.header("Content-Type"), "text/html"));
    CHECK(contains(lower(r.body), "<html"));
    check_refusal_message(r.body, "vn.secret.degree-field", "TUYỆT MẬT");
    check_nothing_forwarded(gw, m);
  }
}

TEST_CASE("a service's policy layer changes the decision", "[e2e][policy]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());

  SECTION("monitor mode: a block-worthy prompt is forwarded unchanged, and the decision recorded") {
    auto m = gw.mark();
    const auto body = chat_body(std::string(kSecretLine) + "\nTóm tắt văn bản");
    auto r = post(gw.url("/monitored/v1/chat/completions"), body);
    CHECK(r.status == 200);
    check_decision(r, "block");
    CHECK(r.header("X-Promptwall-Mode") == "monitor");
    check_forwarded_body(single_forward(gw, m), body);
    auto d = gw.decisions_since(m);
    REQUIRE(d.size() == 1);
    CHECK(d[0]["mode"] == "monitor");
    CHECK(d[0]["decision"] == "block");
    CHECK(d[0]["forwarded"] == true);
  }
  SECTION("an override by category: a CCCD, redacted elsewhere, is blocked for this service") {
    auto m = gw.mark();
    auto r = post(gw.url("/strict/v1/chat/completions"), chat_body(kCccdText));
    CHECK(r.status == 403);
    check_decision(r, "block");
    CHECK(contains(r.body, "vn.pii.cccd"));
    CHECK_FALSE(contains(r.body, kCccd));
    check_nothing_forwarded(gw, m);
  }
}

// A raw TCP connection to the gateway, for clients no HTTP library would imitate.
namespace {
int connect_loopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
  return fd;
}
}  // namespace

TEST_CASE("a stalled client is dropped at the header timeout and holds nothing up", "[e2e][timeouts]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  // Slowloris: half a request head, then silence. limits.timeouts.header is 2 s in the fixture.
  std::vector<int> stalled;
  for (int i = 0; i < 20; ++i) {
    int fd = connect_loopback(gw.gateway_port());
    REQUIRE(fd >= 0);
    const std::string partial = "POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: app";
    REQUIRE(::send(fd, partial.data(), partial.size(), 0) == static_cast<ssize_t>(partial.size()));
    stalled.push_back(fd);
  }
  // Meanwhile a real request is served at once.
  auto r = post(gw.url("/openai/v1/chat/completions"), chat_body(kClean));
  CHECK(r.status == 200);

  const auto start = std::chrono::steady_clock::now();
  for (int fd : stalled) {
    pollfd p{fd, POLLIN, 0};
    REQUIRE(::poll(&p, 1, 10'000) == 1);  // readable: closed by the gateway (EOF), not by us
    char byte;
    CHECK(::recv(fd, &byte, 1, 0) == 0);
    ::close(fd);
  }
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(waited < 5.0);
}

TEST_CASE("past limits.max_connections a client gets 503 at once, and the gateway recovers", "[e2e][timeouts]") {
  GatewayOptions options;
  options.limits = "{max_connections: 3, timeouts: {header: 3s}}";
  GatewayFixture gw(options);
  INFO(gw.where_to_look());
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) {
    int fd = connect_loopback(gw.gateway_port());
    REQUIRE(fd >= 0);
    held.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the gateway accept them
  auto refused = post(gw.url("/openai/v1/chat/completions"), chat_body(kClean));
  CHECK(refused.status == 503);
  CHECK(contains(refused.header("X-Promptwall-Decision"), "refused"));
  CHECK(gw.metric("promptwall_refusals_total{reason=\"overloaded\"}") >= 1);

  for (int fd : held) ::close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto served = post(gw.url("/openai/v1/chat/completions"), chat_body(kClean));
  CHECK(served.status == 200);
}
