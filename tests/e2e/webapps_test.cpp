// The web apps through the forward proxy with interception: recorded-shape requests of
// chatgpt.com (conversation with an SSE answer, its WebSocket) and gemini.google.com
// (StreamGenerate) are scanned where the user's text sits; a redaction reaches the upstream, a
// block reaches the user as a notice in the app's own format, and every case is in the audit trail.
#include <set>

#include "expectations.h"
#include "webapp_requests.h"

using namespace promptwall::e2e;
using namespace promptwall::webapps;

namespace {

// chatgpt.com over HTTPS (the fake with a localhost certificate), gemini.google.com over HTTP: the
// upstream's host is not one of the services' hosts, so every host goes to the fake.
GatewayFixture& webapps_gateway() {
  static GatewayFixture fixture([] {
    GatewayOptions o;
    o.extra_services =
        "  - {name: chatgpt-web, hosts: [chatgpt.com, chat.openai.com], upstream: \"{UPSTREAM_TLS}\", schema: chatgpt_web}\n"
        "  - {name: gemini-web, hosts: [gemini.google.com, bard.google.com], upstream: \"{UPSTREAM}\", schema: gemini_web}\n";
    return o;
  }());
  return fixture;
}

HttpResponse app_request(const GatewayFixture& gw, const std::string& url, const std::string& content_type,
                         const std::string& accept, const std::string& body) {
  HttpRequest req;
  req.method = "POST";
  req.url = url;
  req.proxy = gw.proxy();
  req.cacert = gw.certs().org_ca_crt.string();
  req.body = body;
  req.headers = {"Content-Type: " + content_type, "Accept: " + accept, "Origin: https://chatgpt.com",
                 "Cookie: __Secure-next-auth.session-token=e2e"};
  return http(req);
}

// Decision events since a mark, waiting (up to 20 s, on a loaded machine) until `n` have been written.
std::vector<json> events_since(const GatewayFixture& gw, const GatewayFixture::Mark& m, size_t n) {
  std::vector<json> events;
  for (int tries = 0; tries < 7 && (events = gw.decisions_since(m, n)).size() < n; ++tries) {
  }
  return events;
}

json only_decision(const GatewayFixture& gw, const GatewayFixture::Mark& m) {
  auto events = gw.decisions_since(m);
  INFO("decisions: " << json(events).dump());
  REQUIRE(events.size() == 1);
  return events.front();
}

bool has_finding(const json& event, const std::string& rule, const std::string& location) {
  for (const auto& f : event.value("findings", json::array()))
    if (f.value("rule", "") == rule)
      for (const auto& l : f.value("locations", json::array()))
        if (l == location) return true;
  return false;
}

}  // namespace

TEST_CASE("ChatGPT web: conversation requests through the intercepting proxy", "[e2e][webapps]") {
  auto& gw = webapps_gateway();
  INFO(gw.where_to_look());
  const std::string redacted_text = replace_all(kCccdText, kCccd, "[CCCD-1]");

  SECTION("a CCCD is redacted upstream and the SSE answer is relayed") {
    auto m = gw.mark();
    const std::string body = chatgpt_body("chatgpt-conversation-next.json", kCccdText);
    auto r = app_request(gw, "https://chatgpt.com/backend-api/f/conversation", "application/json", "text/event-stream", body);
    INFO(tail(r.log, 3000));
    CHECK(r.status == 200);
    check_decision(r, "redact");
    CHECK(contains(r.header("Content-Type"), "text/event-stream"));
    for (const char* piece : {"\"parts\":[\"c0\"]", "\"parts\":[\"c4\"]", "data: [DONE]"}) CHECK(contains(r.body, piece));
    auto rec = single_forward(gw, m);
    check_forwarded_body(rec, chatgpt_body("chatgpt-conversation-next.json", redacted_text));
    if (rec.is_object()) CHECK(rec["url"] == "/backend-api/f/conversation");
    const json event = only_decision(gw, m);
    CHECK(event["decision"] == "redact");
    CHECK(event["service"] == "chatgpt-web");
    CHECK(event["forwarded"] == true);
    CHECK(has_finding(event, "vn.pii.cccd", "messages[0].content.parts[0]"));
    CHECK_FALSE(contains(event.dump(), kCccd));
  }
  SECTION("a secret stamp is blocked: the app gets its `detail` notice, nothing leaves") {
    auto m = gw.mark();
    const std::string body = chatgpt_body("chatgpt-conversation-multimodal.json", kSecretLine);
    auto r = app_request(gw, "https://chatgpt.com/backend-api/conversation", "application/json", "text/event-stream", body);
    INFO(r.body);
    CHECK(r.status == 403);
    check_decision(r, "block");
    const json j = r.json_body();
    REQUIRE(j.contains("detail"));
    check_refusal_message(j["detail"].get<std::string>(), "vn.secret.degree-field", "TUYỆT MẬT");
    CHECK(contains(j["detail"].get<std::string>(), r.header("X-Promptwall-Request-Id")));
    check_nothing_forwarded(gw, m);
    const json event = only_decision(gw, m);
    CHECK(event["decision"] == "block");
    CHECK(event["forwarded"] == false);
    CHECK(event["request_id"] == r.header("X-Promptwall-Request-Id"));
    CHECK(has_finding(event, "vn.secret.degree-field", "messages[0].content.parts[1]"));
  }
  SECTION("chat.openai.com, an edit with clean text: forwarded untouched") {
    auto m = gw.mark();
    const std::string body = chatgpt_body("chatgpt-conversation-edit.json", kClean);
    auto r = app_request(gw, "https://chat.openai.com/backend-api/conversation", "application/json", "application/json", body);
    CHECK(r.status == 200);
    check_forwarded_body(single_forward(gw, m), body);
    CHECK(only_decision(gw, m)["decision"] == "allow");
  }
}

TEST_CASE("Gemini web: StreamGenerate through the intercepting proxy", "[e2e][webapps]") {
  auto& gw = webapps_gateway();
  INFO(gw.where_to_look());
  const std::string url = std::string("https://gemini.google.com") + kStreamGeneratePath;

  SECTION("a CCCD inside f.req is redacted through all three encodings") {
    auto m = gw.mark();
    const std::string body = gemini_stream_generate_body(kCccdText);
    auto r = app_request(gw, url, kGeminiContentType, "*/*", body);
    INFO(tail(r.log, 3000));
    CHECK(r.status == 200);
    check_decision(r, "redact");
    CHECK(r.body.starts_with(")]}'"));
    auto rec = single_forward(gw, m);
    REQUIRE(rec.is_object());
    const std::string forwarded = body_of(rec);
    CHECK(gemini_prompt_of(forwarded) == replace_all(kCccdText, kCccd, "[CCCD-1]"));
    json expected_inner = json::parse(gemini_freq(body)[1].get<std::string>());
    expected_inner[0][0] = replace_all(kCccdText, kCccd, "[CCCD-1]");
    CHECK(json::parse(gemini_freq(forwarded)[1].get<std::string>()) == expected_inner);
    CHECK(forwarded.ends_with(std::string("&at=") + encode_uri_component(kGeminiAt) + "&"));
    CHECK(rec["headers"].value("content-length", "") == std::to_string(forwarded.size()));
    const json event = only_decision(gw, m);
    CHECK(event["decision"] == "redact");
    CHECK(event["service"] == "gemini-web");
    CHECK(has_finding(event, "vn.pii.cccd", "f.req[1]:[0][0]"));
  }
  SECTION("a secret stamp is blocked: the notice comes back as Gemini's answer, nothing leaves") {
    auto m = gw.mark();
    auto r = app_request(gw, url, kGeminiContentType, "*/*", gemini_stream_generate_body(kSecretLine));
    INFO(r.body);
    CHECK(r.status == 200);
    check_decision(r, "block");
    REQUIRE(r.body.starts_with(")]}'\n\n"));
    const std::string rest = r.body.substr(6);
    const std::string chunk = rest.substr(rest.find('\n') + 1);
    const json envelope = json::parse(chunk);
    CHECK(envelope[0][0] == "wrb.fr");
    const json inner = json::parse(envelope[0][2].get<std::string>());
    const std::string reply = inner[4][0][1][0];
    check_refusal_message(reply, "vn.secret.degree-field", "TUYỆT MẬT");
    CHECK(contains(reply, r.header("X-Promptwall-Request-Id")));
    check_nothing_forwarded(gw, m);
    const json event = only_decision(gw, m);
    CHECK(event["decision"] == "block");
    CHECK(event["forwarded"] == false);
  }
  SECTION("an f.req that cannot be read is refused (fail closed)") {
    auto m = gw.mark();
    auto r = app_request(gw, url, kGeminiContentType, "*/*", "f.req=%5Bnull%2C%22%5B%5B&at=x&");
    CHECK(r.header("X-Promptwall-Decision") == "refused");
    check_nothing_forwarded(gw, m);
    const json event = only_decision(gw, m);
    CHECK(event["reason"] == "unreadable_body");
  }
}

TEST_CASE("ChatGPT web: a WebSocket session through the intercepting proxy", "[e2e][webapps][websocket]") {
  auto& gw = webapps_gateway();
  INFO(gw.where_to_look());
  auto run_client = [&](const json& messages) {
    const fs::path file = gw.dir() / "ws-messages.json";
    write_text(file, messages.dump());
    auto result = run_command({"node", e2e_script("ws_client.js"), "--proxy", gw.proxy(), "--url",
                               "wss://chatgpt.com/backend-api/ws?client=e2e", "--ca", gw.certs().org_ca_crt.string(),
                               "--protocol", "json.webpubsub.azure.v1", "--messages", file.string()});
    INFO(result.err);
    return json::parse(result.out, nullptr, false);
  };

  SECTION("clean round-trips, a CCCD arrives redacted and its echo restored, a secret never arrives and closes with the notice") {
    auto m = gw.mark();
    const std::string clean = chatgpt_body("chatgpt-ws-message.json", kClean);
    const std::string cccd = chatgpt_body("chatgpt-ws-message.json", kCccdText);
    const std::string secret = chatgpt_body("chatgpt-ws-message.json", kSecretLine);
    const std::string redacted = chatgpt_body("chatgpt-ws-message.json", replace_all(kCccdText, kCccd, "[CCCD-1]"));
    const json out = run_client(json::array({clean, cccd, secret}));
    INFO(out.dump());
    REQUIRE(out.is_object());
    CHECK(out["error"].is_null());
    CHECK(out["protocol"] == "json.webpubsub.azure.v1");
    REQUIRE(out["answers"].size() == 2);
    CHECK(json::parse(out["answers"][0].get<std::string>())["echo"] == clean);
    // The upstream got [CCCD-1] (records below) and echoed it: the client reads its own number back
    // (the CCCD is a pseudonym, restored in the connection's answers; gateway/pseudonyms/).
    CHECK(json::parse(json::parse(out["answers"][1].get<std::string>())["echo"].get<std::string>()) == json::parse(cccd));
    REQUIRE(out["close"].is_object());
    CHECK(out["close"]["code"] == 1008);
    const std::string reason = out["close"]["reason"];
    CHECK(reason.size() <= 123);
    CHECK(contains(reason, "promptwall"));
    CHECK(contains(reason, "blocked"));
    CHECK(contains(reason, "đã chặn"));

    const auto records = gw.forwarded_since(m);
    INFO(json(records).dump());
    REQUIRE(records.size() == 3);  // the upgrade and two messages; never the secret
    CHECK(records[0]["method"] == "UPGRADE");
    CHECK(records[0]["headers"].value("sec-websocket-protocol", "") == "json.webpubsub.azure.v1");
    CHECK(records[0]["headers"].value("cookie", "") == "__Secure-next-auth.session-token=e2e");
    CHECK(records[0]["url"] == "/backend-api/ws?client=e2e");
    CHECK(records[1]["body"] == clean);
    CHECK(json::parse(body_of(records[2])) == json::parse(redacted));
    CHECK_FALSE(contains(json(records).dump(), "TUYỆT MẬT"));

    const auto events = events_since(gw, m, 4);
    INFO(json(events).dump());
    REQUIRE(events.size() == 4);  // the upgrade, then one per message
    CHECK(events[0]["method"] == "GET");
    CHECK(events[1]["method"] == "WEBSOCKET");
    CHECK(events[1]["decision"] == "allow");
    CHECK(events[2]["decision"] == "redact");
    CHECK(events[2]["forwarded"] == true);
    CHECK(has_finding(events[2], "vn.pii.cccd", "data.messages[0].content.parts[0]"));
    CHECK(events[3]["decision"] == "block");
    CHECK(events[3]["forwarded"] == false);
    CHECK(contains(reason, events[3]["request_id"].get<std::string>()));
    std::set<std::string> ids;
    for (const auto& e : events) ids.insert(e["request_id"].get<std::string>());
    CHECK(ids.size() == 4);  // each message is its own exchange
  }
  SECTION("a binary message cannot be read, so it is refused and never forwarded") {
    auto m = gw.mark();
    const json out = run_client(json::array({json{{"binary", "001203004567"}}}));
    INFO(out.dump());
    REQUIRE(out.is_object());
    REQUIRE(out["close"].is_object());
    CHECK(out["close"]["code"] == 1008);
    const auto records = gw.forwarded_since(m);
    REQUIRE(records.size() == 1);
    CHECK(records[0]["method"] == "UPGRADE");
    const auto events = events_since(gw, m, 2);
    INFO(json(events).dump());
    REQUIRE(events.size() == 2);
    CHECK(events[1]["decision"] == "refused");
    CHECK(events[1]["reason"] == "unreadable_body");
  }
}
