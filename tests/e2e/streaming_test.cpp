// Streamed replies pass through as they arrive; a client that goes away mid-stream and an
// upstream that is down or slow leave the gateway healthy and the client with a proper answer.
#include "expectations.h"

using namespace promptwall::e2e;

namespace {

const std::string kAllowSeries = R"(promptwall_requests_total{service="openai",decision="allow"})";

}  // namespace

TEST_CASE("SSE replies reach the client as they arrive", "[e2e][streaming]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  SECTION("the SDK's stream: every chunk, spread over time") {
    auto m = gw.mark();
    auto r = openai_client(gw.openai_base(), "stream", kClean);
    INFO(r.dump());
    CHECK(r["ok"] == true);
    CHECK(r["content"] == "c0c1c2c3c4");
    CHECK(r["chunks"] == 5);
    CHECK(spread_over_time(r["chunk_ms"]));
    auto rec = single_forward(gw, m);
    if (rec.is_object()) CHECK(json::parse(body_of(rec))["stream"] == true);
  }
  SECTION("a redacted request still streams") {
    auto m = gw.mark();
    auto r = stream_client(gw.url("/openai/v1/chat/completions"), chat_body(kCccdText, true));
    INFO(r.dump());
    CHECK(r["status"] == 200);
    CHECK(r["headers"].value("x-promptwall-decision", "") == "redact");
    CHECK(contains(r["headers"].value("content-type", ""), "text/event-stream"));
    CHECK(contains(r.value("body", ""), "data: [DONE]"));
    CHECK(spread_over_time(r["chunk_ms"]));
    check_forwarded_body(single_forward(gw, m), replace_all(chat_body(kCccdText, true), kCccd, "[CCCD-1]"));
  }
  SECTION("a client that disconnects mid-stream leaves the gateway healthy and counted") {
    const double allowed_before = gw.metric(kAllowSeries);
    HttpRequest req;
    req.method = "POST";
    req.url = gw.url("/openai/v1/chat/completions");
    req.headers = {"Content-Type: application/json"};
    req.body = chat_body(kClean, true);
    req.max_time_s = 0.25;  // the fake streams for ~400 ms: curl hangs up half-way
    auto cut = http(req);
    CHECK(cut.curl_exit == 28);  // curl's "operation timed out"
    CHECK(cut.status == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the upstream would have finished by now
    CHECK(gw.process().running());
    CHECK(get(gw.admin_url("/healthz")).status == 200);
    auto next = openai_client(gw.openai_base(), "chat", kClean);
    INFO(next.dump());
    CHECK(next["ok"] == true);
    CHECK(gw.metric(kAllowSeries) >= allowed_before + 2);
  }
}

TEST_CASE("an upstream that is down or slow gets the client a proper error", "[e2e][upstream]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  SECTION("nothing listening upstream → 502 in the API's error shape") {
    auto r = post(gw.url("/down/v1/chat/completions"), chat_body(kClean));
    CHECK(r.status == 502);
    INFO(r.body);
    CHECK(r.json_body()["error"]["message"].is_string());
    CHECK_FALSE(r.header("X-Promptwall-Request-Id").empty());
    auto sdk = openai_client(gw.url("/down/v1"), "chat", kClean);
    INFO(sdk.dump());
    CHECK(sdk["status"] == 502);
  }
  SECTION("an upstream slower than timeouts.upstream_response (3 s) → 504 after about 3 s") {
    auto start = std::chrono::steady_clock::now();
    auto r = post(gw.url("/openai/v1/chat/completions"), chat_body(kClean), {"Content-Type: application/json", "x-fake-delay-ms: 5000"});
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    INFO(r.body << " after " << took.count() << " ms");
    CHECK(r.status == 504);
    CHECK(r.json_body()["error"]["message"].is_string());
    CHECK(took >= std::chrono::milliseconds(2500));
    CHECK(took < std::chrono::milliseconds(4900));
  }
  SECTION("an upstream error status is relayed as the upstream gave it") {
    auto r = post(gw.url("/openai/v1/chat/completions"), chat_body(kClean), {"Content-Type: application/json", "x-fake-status: 429"});
    CHECK(r.status == 429);
    CHECK(contains(r.body, "fake upstream status 429"));
  }
}
