// Issue 16, the coaching step: a warn or justify finding stops the first request with a message
// in the API's own error shape (the official SDKs raise it) naming the rule and the masked excerpt;
// the same request sent again with the token and a reason goes upstream, and the trail records who
// justified it and why (masked). Replayed or altered: refused. justify for someone whose unit may
// not: blocked. Over the daily cap: refused. Browsers: the HTML page's form, then the retry passes.


#include "expectations.h"
#include "webapp_requests.h"
#include "sensitive_values.h"

using namespace promptwall::e2e;

namespace {

constexpr const char* kGuidance = "https://intranet.e2e.test/huong-dan-ai";
// The reason people give, with a phone number in it (kPhone): recorded masked, never in clear.
const std::string kReason = std::string("Gửi hồ sơ cho khách hàng, liên hệ ") + kPhone + " đã đồng ý";


struct CoachingBench {
  GatewayFixture gw;
  static GatewayOptions options() {
    GatewayOptions o;
    o.audit_extra = "  review: {officers: [{name: " + std::string(kOfficer) + ", password_hash: \"" + officer_hash() + "\"}]}\n";
    o.extra_services =
        "  - {name: chatgpt-web, hosts: [chatgpt.com], upstream: \"{UPSTREAM_TLS}\", schema: chatgpt_web}\n";
    o.extra_config =
        "identity:\n"
        "  trusted_header: {user: X-Forwarded-User, unit: X-Forwarded-Unit, from: [127.0.0.1/32]}\n"
        "policy:\n"
        "  overrides: {national_id: warn, phone: justify}\n"
        "coaching:\n"
        "  guidance_url: " + std::string(kGuidance) + "\n"
        "  token_lifetime: 10m\n"
        "  min_reason_chars: 10\n"
        "  justify_units: [phap-che]\n"
        "  daily_override_cap: 2\n";
    return o;
  }
  CoachingBench() : gw(options()) {}
};

CoachingBench& bench() {
  static CoachingBench b;
  return b;
}

// The SDK flow (coaching_client.js) as `user` of `unit`.
json coached(const std::string& sdk, const std::string& base, const std::string& prompt, const std::string& user,
             std::vector<std::string> extra = {}, const std::string& unit = "phap-che") {
  std::vector<std::string> args = {"--sdk", sdk, "--base-url", base, "--prompt", prompt,
                                   "--header", "X-Forwarded-User:" + user, "--header", "X-Forwarded-Unit:" + unit};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_node("coaching_client.js", args);
}

// The hidden inputs of the coaching page's form. Found by hand: std::regex trips GCC 12's
// maybe-uninitialized warning under the sanitizers (as in siem_test.cpp).
std::string hidden_value(const std::string& html, const std::string& name) {
  const std::string marker = "name=\"" + name + "\" value=\"";
  const size_t at = html.find(marker);
  if (at == std::string::npos) return "";
  const size_t begin = at + marker.size();
  const size_t end = html.find('"', begin);
  return end == std::string::npos ? "" : html.substr(begin, end - begin);
}

HttpResponse post_as(const std::string& url, const std::string& body, const std::string& user,
                     std::vector<std::string> headers) {
  HttpRequest req;
  req.method = "POST";
  req.url = url;
  req.body = body;
  headers.push_back("X-Forwarded-User: " + user);
  headers.push_back("X-Forwarded-Unit: phap-che");
  req.headers = std::move(headers);
  return http(req);
}

}  // namespace

TEST_CASE("coaching: the openai SDK raises the warning, the same call with the token goes upstream", "[e2e][coaching]") {
  GatewayFixture& gw = bench().gw;
  INFO(gw.where_to_look());
  auto m = gw.mark();
  const auto r = coached("openai", gw.openai_base(), kCccdText, "an.nguyen", {"--resend", "--replay", "--reason", kReason});
  INFO(r.dump());
  REQUIRE(r["first"].is_object());
  // The first call: the SDK's error, its message the coaching text.
  CHECK(r["first"]["ok"] == false);
  CHECK(r["first"]["status"] == 403);
  const std::string message = r["first"].value("message", "");
  CHECK(contains(message, "vn.pii.cccd"));
  CHECK(contains(message, "«"));              // the masked excerpt, as the trail shows it
  CHECK_FALSE(contains(message, kCccd));      // never the number
  CHECK(contains(message, kGuidance));
  CHECK(contains(message, "X-Promptwall-Justification-Token: pwj1."));
  CHECK(contains(message, "tạm dừng"));      // Vietnamese first
  CHECK(contains(message, "paused"));
  REQUIRE(r["token"].is_string());
  // The resend: the upstream's answer, and the upstream saw neither justification header.
  CHECK(r["second"]["ok"] == true);
  // The replay of the same resend: refused, saying the token was used.
  CHECK(r["third"]["ok"] == false);
  CHECK(r["third"]["status"] == 403);
  CHECK(contains(r["third"].value("message", ""), "used already"));

  const auto forwarded = gw.forwarded_since(m);
  REQUIRE(forwarded.size() == 1);
  CHECK(contains(body_of(forwarded[0]), "001203004567") == true);  // warn forwards as sent
  CHECK_FALSE(forwarded[0]["headers"].contains("x-promptwall-justification-token"));
  CHECK_FALSE(forwarded[0]["headers"].contains("x-promptwall-justification"));

  const auto events = gw.decisions_since(m, 3);
  REQUIRE(events.size() == 3);
  // The coaching answer: decision warn, not forwarded, the issued token's id.
  CHECK(events[0]["decision"] == "warn");
  CHECK(events[0]["reason"] == "justification_required");
  CHECK(events[0]["forwarded"] == false);
  const std::string issued = events[0]["justification"].value("token", "");
  CHECK(issued.size() == 24);
  // The justified request: who, why (the phone in the reason masked), the same token id.
  CHECK(events[1]["decision"] == "warn");
  CHECK(events[1]["forwarded"] == true);
  CHECK(events[1]["user"] == "an.nguyen");
  CHECK(events[1]["justification"]["token"] == issued);
  CHECK(events[1]["justification"]["by"] == "an.nguyen");
  CHECK(events[1]["justification"]["via"] == "header");
  const std::string recorded = events[1]["justification"].value("reason", "");
  CHECK(contains(recorded, "khách hàng"));
  CHECK_FALSE(contains(recorded, kPhone));
  // The replay: coached again, saying why.
  CHECK(events[2]["forwarded"] == false);
  CHECK(events[2]["justification"]["refused"] == "replayed");
  // The token itself is in no record of the trail.
  CHECK_FALSE(contains(gw.audit_text(), r["token"].get<std::string>()));
  CHECK(gw.metric("promptwall_justified_total{kind=\"warn\",via=\"header\"}") >= 1);
  CHECK(gw.metric("promptwall_justifications_refused_total{cause=\"replayed\"}") >= 1);
}

TEST_CASE("coaching: the old token on an edited request is refused", "[e2e][coaching]") {
  GatewayFixture& gw = bench().gw;
  INFO(gw.where_to_look());
  auto m = gw.mark();
  const std::string edited = std::string(kCccdText) + " và chị Lan";
  const auto r = coached("openai", gw.openai_base(), kCccdText, "binh.tran", {"--resend", "--edited-prompt", edited});
  INFO(r.dump());
  CHECK(r["first"]["status"] == 403);
  CHECK(r["second"]["ok"] == false);
  CHECK(r["second"]["status"] == 403);
  CHECK(contains(r["second"].value("message", ""), "different request"));
  check_nothing_forwarded(gw, m);
  const auto events = gw.decisions_since(m, 2);
  REQUIRE(events.size() == 2);
  CHECK(events[1]["justification"]["refused"] == "other_request");
}

TEST_CASE("coaching: justify needs a reason, and a unit that may not justify is blocked", "[e2e][coaching]") {
  GatewayFixture& gw = bench().gw;
  INFO(gw.where_to_look());
  const std::string prompt = std::string("Gọi cho tôi theo số ") + kPhone;

  SECTION("no reason: asked again; with one: upstream") {
    auto m = gw.mark();
    const auto bare = coached("openai", gw.openai_base(), prompt, "chi.le", {"--resend"});
    INFO(bare.dump());
    CHECK(contains(bare["first"].value("message", ""), "vn.pii.phone"));
    CHECK(contains(bare["first"].value("message", ""), "required"));
    CHECK(bare["second"]["ok"] == false);
    CHECK(contains(bare["second"].value("message", ""), "A reason is required"));
    check_nothing_forwarded(gw, m);
    const auto given = coached("openai", gw.openai_base(), prompt, "chi.le", {"--resend", "--reason", "Khách hàng yêu cầu gọi lại"});
    INFO(given.dump());
    CHECK(given["second"]["ok"] == true);
    CHECK(gw.forwarded_since(m).size() == 1);
    const auto events = gw.decisions_since(m, 4);
    REQUIRE(events.size() == 4);
    CHECK(events[0]["decision"] == "justify");
    CHECK(events[3]["decision"] == "justify");
    CHECK(events[3]["justification"]["reason"] == "Khách hàng yêu cầu gọi lại");
  }
  SECTION("a unit not in coaching.justify_units: blocked, told it may not override") {
    auto m = gw.mark();
    const auto r = coached("openai", gw.openai_base(), prompt, "dung.pham", {}, "van-phong");
    INFO(r.dump());
    CHECK(r["first"]["status"] == 403);
    const std::string message = r["first"].value("message", "");
    CHECK(contains(message, "may not override"));
    CHECK_FALSE(contains(message, "pwj1."));
    check_nothing_forwarded(gw, m);
    const auto events = gw.decisions_since(m, 1);
    REQUIRE(events.size() == 1);
    CHECK(events[0]["decision"] == "block");
    CHECK(events[0]["reason"] == "sensitive_content");
  }
}

TEST_CASE("coaching: over the daily cap the override is refused", "[e2e][coaching]") {
  GatewayFixture& gw = bench().gw;
  INFO(gw.where_to_look());
  auto m = gw.mark();
  for (int i = 0; i < 2; ++i) {
    const auto r = coached("openai", gw.openai_base(), std::string(kCccdText) + " lần " + std::to_string(i), "cap.user",
                           {"--resend"});
    INFO(r.dump());
    CHECK(r["second"]["ok"] == true);
  }
  const auto over = coached("openai", gw.openai_base(), std::string(kCccdText) + " lần 3", "cap.user", {"--resend"});
  INFO(over.dump());
  CHECK(over["second"]["ok"] == false);
  CHECK(over["second"]["status"] == 403);
  CHECK(contains(over["second"].value("message", ""), "as many times today"));
  CHECK(gw.forwarded_since(m).size() == 2);
  const auto events = gw.decisions_since(m, 6);
  REQUIRE(events.size() == 6);
  CHECK(events[5]["reason"] == "override_cap_reached");
  CHECK(events[5]["forwarded"] == false);
}

TEST_CASE("coaching: anthropic and gemini raise the coaching message in their SDKs, and go on", "[e2e][coaching]") {
  GatewayFixture& gw = bench().gw;
  INFO(gw.where_to_look());
  for (const auto& [sdk, base] : {std::pair<std::string, std::string>{"anthropic", gw.url("/anthropic")},
                                  {"gemini", gw.url("/gemini")}}) {
    INFO(sdk);
    auto m = gw.mark();
    const auto r = coached(sdk, base, kCccdText, "sdk." + sdk, {"--resend"});
    INFO(r.dump());
    CHECK(r["first"]["ok"] == false);
    CHECK(r["first"]["status"] == 403);
    CHECK(contains(r["first"].value("message", ""), "vn.pii.cccd"));
    CHECK_FALSE(contains(r["first"].value("message", ""), kCccd));
    CHECK(r["token"].is_string());
    CHECK(r["second"]["ok"] == true);
    CHECK(gw.forwarded_since(m).size() == 1);
  }
}

TEST_CASE("coaching: a browser gets the form, posts a reason, and its retry passes", "[e2e][coaching]") {
  GatewayFixture& gw = bench().gw;
  INFO(gw.where_to_look());
  auto m = gw.mark();
  const std::string url = gw.url("/openai/v1/chat/completions");
  const std::string body = chat_body(kCccdText);
  const std::vector<std::string> browser = {"Content-Type: application/json", "Accept: text/html,application/xhtml+xml"};
  const auto page = post_as(url, body, "form.user", browser);
  CHECK(page.status == 403);
  CHECK(contains(page.header("Content-Type"), "text/html"));
  CHECK(contains(page.body, "<form method=\"post\" action=\"/.promptwall/justify\">"));
  CHECK(contains(page.body, "vn.pii.cccd"));
  CHECK_FALSE(contains(page.body, kCccd));
  const std::string token = hidden_value(page.body, "t"), secret = hidden_value(page.body, "s");
  REQUIRE_FALSE(token.empty());
  REQUIRE_FALSE(secret.empty());

  // Another site's page posting the real form (the browser says cross-site): refused.
  const auto cross = post_as(gw.url("/.promptwall/justify"), "t=" + token + "&s=" + secret + "&reason=x",
                             "form.user", {"Content-Type: application/x-www-form-urlencoded", "Sec-Fetch-Site: cross-site"});
  CHECK(cross.status == 403);
  // A forged form (the secret of another form) is refused, and approves nothing.
  const auto forged = post_as(gw.url("/.promptwall/justify"), "t=" + token + "&s=00000000000000000000000000000000&reason=x",
                              "form.user", {"Content-Type: application/x-www-form-urlencoded"});
  CHECK(forged.status == 403);
  // The real one: accepted.
  const auto posted = post_as(gw.url("/.promptwall/justify"),
                              "t=" + token + "&s=" + secret + "&reason=C%E1%BA%A7n+cho+b%C3%A1o+c%C3%A1o",
                              "form.user", {"Content-Type: application/x-www-form-urlencoded"});
  CHECK(posted.status == 200);
  CHECK(contains(posted.body, "Justification recorded"));
  check_nothing_forwarded(gw, m);
  // The app's retry, without any header: forwarded.
  const auto retry = post_as(url, body, "form.user", browser);
  CHECK(retry.status == 200);
  CHECK(gw.forwarded_since(m).size() == 1);
  // And the same token's form once more: used.
  const auto again = post_as(gw.url("/.promptwall/justify"), "t=" + token + "&s=" + secret + "&reason=lan+nua",
                             "form.user", {"Content-Type: application/x-www-form-urlencoded"});
  CHECK(again.status == 403);
  // The retry's event: forwarded, with the reason given on the form and who gave it.
  json justified;
  for (const auto& e : gw.decisions_since(m, 2))
    if (e.value("forwarded", false)) justified = e;
  INFO(justified.dump());
  REQUIRE(justified.is_object());
  CHECK(justified["justification"]["via"] == "form");
  CHECK(justified["justification"]["reason"] == "Cần cho báo cáo");
  CHECK(justified["justification"]["by"] == "form.user");
}

TEST_CASE("coaching: the officers' review page shows a justified request and filters by it", "[e2e][coaching][review]") {
  GatewayFixture& gw = bench().gw;
  INFO(gw.where_to_look());
  auto m = gw.mark();
  const auto r = coached("openai", gw.openai_base(), std::string(kCccdText) + " (review)", "review.user",
                         {"--resend", "--reason", "Báo cáo quý cho kiểm toán"});
  INFO(r.dump());
  REQUIRE(r["second"]["ok"] == true);
  json justified;
  for (const auto& e : gw.decisions_since(m, 2))
    if (e.value("forwarded", false)) justified = e;
  REQUIRE(justified.is_object());
  const std::string event_id = justified.value("event_id", "");

  const auto form = [&](const std::string& path, const std::string& body, std::vector<std::string> headers) {
    return http(gw.admin_form(path, body, std::move(headers)));
  };
  const auto login = form("/review/login", "name=thanh&password=M%E1%BA%ADt-kh%E1%BA%A9u+e2e+7",
                          {"Origin: " + gw.admin_url(""), "Sec-Fetch-Site: same-origin"});
  REQUIRE(login.status == 303);
  const std::string set_cookie = login.header("Set-Cookie");
  const std::string cookie = "Cookie: " + set_cookie.substr(0, set_cookie.find(';'));
  const auto get = [&](const std::string& path) {
    HttpRequest req;
    req.url = gw.admin_url(path);
    req.headers = {cookie};
    return http(req);
  };
  const auto list = get("/review?justified=yes");
  REQUIRE(list.status == 200);
  CHECK(contains(list.body, "data-event-id=\"" + event_id + "\""));
  CHECK(contains(list.body, "<span class=\"justified\">"));
  // The coaching answer before it is a violation too, but not a justified one.
  for (const auto& e : gw.decisions_since(m, 2))
    if (!e.value("forwarded", true)) CHECK_FALSE(contains(list.body, "data-event-id=\"" + e.value("event_id", "") + "\""));
  const auto detail = get("/review/event/" + event_id);
  REQUIRE(detail.status == 200);
  CHECK(contains(detail.body, "<span id=\"justification\">Báo cáo quý cho kiểm toán</span>"));
  CHECK(contains(detail.body, "<span id=\"justified-by\">review.user</span>"));
}

TEST_CASE("coaching: ChatGPT in the browser shows the link, the form through interception, then the app's retry", "[e2e][coaching][webapps]") {
  GatewayFixture& gw = bench().gw;
  INFO(gw.where_to_look());
  auto m = gw.mark();
  const auto through_proxy = [&](const std::string& method, const std::string& url, std::optional<std::string> body,
                                 std::vector<std::string> headers) {
    return http(gw.via_proxy(method, url, std::move(body), std::move(headers)));
  };
  const std::string body = promptwall::webapps::chatgpt_body("chatgpt-conversation-next.json", kCccdText);
  const std::vector<std::string> app = {"Content-Type: application/json", "Accept: text/event-stream",
                                        "Origin: https://chatgpt.com"};
  const auto coached_answer = through_proxy("POST", "https://chatgpt.com/backend-api/f/conversation", body, app);
  CHECK(coached_answer.status == 403);
  const std::string detail = coached_answer.json_body().value("detail", "");
  INFO(detail);
  CHECK(contains(detail, "vn.pii.cccd"));
  CHECK_FALSE(contains(detail, kCccd));
  const std::string link_start = "https://chatgpt.com/.promptwall/justify?t=";
  const size_t at = detail.find(link_start);
  REQUIRE(at != std::string::npos);
  const std::string link = detail.substr(at, detail.find(' ', at) - at);

  // The link opens the form on chatgpt.com itself, answered by the gateway inside the interception.
  const auto form_page = through_proxy("GET", link, std::nullopt, {"Accept: text/html"});
  CHECK(form_page.status == 200);
  CHECK(contains(form_page.header("Content-Security-Policy"), "form-action 'self'"));
  const std::string token = hidden_value(form_page.body, "t"), secret = hidden_value(form_page.body, "s");
  REQUIRE_FALSE(token.empty());
  const auto posted = through_proxy("POST", "https://chatgpt.com/.promptwall/justify",
                                    "t=" + token + "&s=" + secret + "&reason=",
                                    {"Content-Type: application/x-www-form-urlencoded", "Origin: https://chatgpt.com"});
  CHECK(posted.status == 200);
  check_nothing_forwarded(gw, m);  // neither the form nor its page ever went upstream
  // The app's own retry passes.
  const auto retry = through_proxy("POST", "https://chatgpt.com/backend-api/f/conversation", body, app);
  CHECK(retry.status == 200);
  const auto forwarded = gw.forwarded_since(m);
  REQUIRE(forwarded.size() == 1);
  CHECK(forwarded[0]["url"] == "/backend-api/f/conversation");
}

TEST_CASE("coaching: monitor mode records the warning and forwards, without coaching", "[e2e][coaching]") {
  GatewayFixture& gw = bench().gw;
  INFO(gw.where_to_look());
  auto m = gw.mark();
  const auto r = post_as(gw.url("/monitored/v1/chat/completions"), chat_body(kCccdText), "mon.user",
                         {"Content-Type: application/json"});
  CHECK(r.status == 200);
  CHECK(r.header("X-Promptwall-Mode") == "monitor");
  CHECK(gw.forwarded_since(m).size() == 1);
  const auto events = gw.decisions_since(m, 1);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["decision"] == "warn");
  CHECK(events[0]["forwarded"] == true);
  CHECK_FALSE(events[0].contains("justification"));
}
