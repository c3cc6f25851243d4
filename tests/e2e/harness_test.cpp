// The bench itself, without the gateway: the SDK, fetch and curl talk straight to the fake
// upstream, over HTTP and over HTTPS with the test CA. If these fail, the gateway tests say
// nothing about the gateway.
#include <catch2/catch.hpp>

#include "gateway_fixture.h"

using namespace promptwall::e2e;

namespace {

struct Harness {
  TempDir dir;
  Certificates certs = make_certificates(dir.path());
  FakeUpstream plain{dir.path(), "plain"};
  FakeUpstream tls{dir.path(), "tls", certs.server_crt, certs.server_key};
  std::string plain_url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(plain.port()) + path; }
  std::string tls_url(const std::string& path) const { return "https://localhost:" + std::to_string(tls.port()) + path; }
};

Harness& harness() {
  static Harness h;
  return h;
}

}  // namespace

TEST_CASE("the openai SDK gets answers and a real stream from the fake upstream", "[e2e][harness]") {
  auto& h = harness();
  SECTION("chat over HTTP, and the fake records the exact body the SDK sent") {
    auto mark = h.plain.mark();
    auto r = openai_client(h.plain_url("/v1"), "chat", kCccdText);
    INFO(r.dump());
    CHECK(r["ok"] == true);
    CHECK(r["content"] == "ok");
    auto recs = h.plain.records_since(mark);
    REQUIRE(recs.size() == 1);
    CHECK(recs[0]["method"] == "POST");
    CHECK(recs[0]["url"] == "/v1/chat/completions");
    CHECK(recs[0]["headers"]["authorization"] == "Bearer sk-e2e-test");
    auto sent = json::parse(body_of(recs[0]));
    CHECK(sent["messages"][0]["content"] == kCccdText);
  }
  SECTION("stream over HTTPS: five chunks spread over ~400 ms") {
    // The SDK trusts the test CA through NODE_EXTRA_CA_CERTS, as a company would set it.
    setenv("NODE_EXTRA_CA_CERTS", h.certs.test_ca_crt.c_str(), 1);
    // By IP (the certificate names 127.0.0.1 too): Node 18 tries only the first address of
    // "localhost", which is ::1 where /etc/hosts lists it first, and the fake listens on IPv4.
    auto r = openai_client("https://127.0.0.1:" + std::to_string(h.tls.port()) + "/v1", "stream", kClean);
    unsetenv("NODE_EXTRA_CA_CERTS");
    INFO(r.dump());
    CHECK(r["ok"] == true);
    CHECK(r["content"] == "c0c1c2c3c4");
    CHECK(r["chunks"] == 5);
    CHECK(spread_over_time(r["chunk_ms"], 250));
  }
  SECTION("an error status reaches the SDK as an APIError") {
    auto r = openai_client(h.plain_url("/v1"), "chat", kClean, {"--header", "x-fake-status: 403"});
    INFO(r.dump());
    CHECK(r["ok"] == false);
    CHECK(r["status"] == 403);
    CHECK(contains(r["message"].get<std::string>(), "fake upstream status 403"));
  }
  SECTION("a closed port is a connection error without status") {
    auto r = openai_client("http://127.0.0.1:" + std::to_string(free_port()) + "/v1", "chat", kClean);
    INFO(r.dump());
    CHECK(r["ok"] == false);
    CHECK(r["status"].is_null());
  }
}

TEST_CASE("curl and fetch see every API shape the fake serves", "[e2e][harness]") {
  auto& h = harness();
  SECTION("HTTPS with the test CA: the certificate is the fake's own") {
    HttpRequest req;
    req.url = h.tls_url("/anything");
    req.cacert = h.certs.test_ca_crt.string();
    auto r = http(req);
    INFO(r.log);
    CHECK(r.status == 200);
    CHECK(contains(r.tls_issuer, kTestCaName));
    CHECK(r.json_body() == json{{"ok", true}});
  }
  SECTION("shapes by path") {
    CHECK(post(h.plain_url("/v1/responses"), "{}").json_body()["object"] == "response");
    CHECK(post(h.plain_url("/v1/embeddings"), "{}").json_body()["data"][0]["object"] == "embedding");
    CHECK(post(h.plain_url("/v1/completions"), "{}").json_body()["object"] == "text_completion");
    CHECK(post(h.plain_url("/v1/chat/completions"), "{}").json_body()["object"] == "chat.completion");
    CHECK(post(h.plain_url("/v1beta/models/gemini-2.0-flash:generateContent"), "{}").json_body()["candidates"][0]["content"]["parts"][0]["text"] == "ok");
    CHECK(post(h.plain_url("/v1/messages"), "{}").json_body()["type"] == "message");
  }
  SECTION("SSE streams arrive over time") {
    auto gemini = stream_client(h.plain_url("/v1beta/models/g:streamGenerateContent?alt=sse"), "{}");
    INFO(gemini.dump());
    CHECK(gemini["status"] == 200);
    CHECK(contains(gemini["headers"]["content-type"].get<std::string>(), "text/event-stream"));
    CHECK(spread_over_time(gemini["chunk_ms"], 250));
    auto anthropic = stream_client(h.plain_url("/v1/messages"), R"({"stream":true})");
    CHECK(contains(anthropic["body"].get<std::string>(), "event: message_stop"));
    CHECK(spread_over_time(anthropic["chunk_ms"], 250));
  }
  SECTION("x-fake-delay-ms delays the answer; x-fake-status sets its status") {
    auto start = std::chrono::steady_clock::now();
    auto slow = post(h.plain_url("/v1/chat/completions"), "{}", {"x-fake-delay-ms: 300", "Content-Type: application/json"});
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(slow.status == 200);
    CHECK(took >= std::chrono::milliseconds(300));
    CHECK(post(h.plain_url("/x"), "{}", {"x-fake-status: 502"}).status == 502);
  }
  SECTION("binary bodies are recorded byte for byte") {
    const std::string bytes("\xff\xfe\x00\x01{\"a\":1}", 11);
    auto mark = h.plain.mark();
    CHECK(post(h.plain_url("/generic"), bytes).status == 200);
    auto recs = h.plain.records_since(mark);
    REQUIRE(recs.size() == 1);
    CHECK(recs[0]["body_base64"] == "//4AAXsiYSI6MX0=");
    CHECK(recs[0]["headers"]["content-length"] == "11");
  }
}
