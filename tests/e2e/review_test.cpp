// The officers' review page on the real gateway, driven by headless Chromium (review_browser.js):
// a violation seeded through the gateway shows in the list, the category filter narrows it, a
// triage set in the page survives a reload and is itself an event in the trail.
#include "expectations.h"

using namespace promptwall::e2e;

namespace {

// officer_hash() as gateway_fixture.h makes it, with what `promptwall audit passwd` must print
// checked: a yescrypt hash and the YAML lines for the configuration.
std::string checked_officer_hash() {
  auto r = run_command({PROMPTWALL_BINARY, "audit", "passwd", kOfficer}, std::string(kOfficerPassword) + "\n");
  if (r.exit_code != 0) throw std::runtime_error("promptwall audit passwd failed: " + r.out + r.err);
  auto lines = complete_lines(r.out);
  if (lines.empty() || lines.front().rfind("$y$", 0) != 0) throw std::runtime_error("no yescrypt hash printed: " + r.out);
  if (!contains(r.out, "officers:") || !contains(r.out, "name: \"thanh\"")) throw std::runtime_error("no YAML snippet: " + r.out);
  return lines.front();
}

GatewayOptions with_officer() {
  GatewayOptions o;
  o.audit_extra = "  review: {officers: [{name: " + std::string(kOfficer) + ", password_hash: \"" + checked_officer_hash() + "\"}]}\n";
  return o;
}

std::string first_category(const json& decision) {
  for (const auto& f : decision.at("findings")) return f.value("category", "");
  return "";
}

}  // namespace

TEST_CASE("officers review, filter and triage violations in a browser", "[e2e][review]") {
  GatewayFixture gw(with_officer());
  INFO(gw.where_to_look());

  // Two violations through the gateway: a CCCD (redacted) and a secret stamp (blocked).
  auto m = gw.mark();
  REQUIRE(post(gw.url("/openai/v1/chat/completions"), chat_body(kCccdText)).status == 200);
  auto redacted = gw.decisions_since(m);
  REQUIRE(redacted.size() == 1);
  auto b = gw.mark();
  REQUIRE(post(gw.url("/openai/v1/chat/completions"), chat_body(kSecretLine)).status == 403);
  auto blocked = gw.decisions_since(b);
  REQUIRE(blocked.size() == 1);
  const std::string redact_id = redacted[0].value("event_id", ""), block_id = blocked[0].value("event_id", "");
  const std::string redact_category = first_category(redacted[0]), block_category = first_category(blocked[0]);
  REQUIRE_FALSE(redact_id.empty());
  REQUIRE(redact_category != block_category);

  // Without a session the page is not there, whatever the bearer token.
  auto unsigned_list = gw.admin("GET", "/review");
  CHECK(unsigned_list.status == 303);
  CHECK(unsigned_list.header("Location") == "/review/login");
  CHECK_FALSE(contains(unsigned_list.body, redact_id));

  const auto t0 = std::chrono::steady_clock::now();
  json r = run_node("review_browser.js",
                    {"--base", gw.admin_url(""), "--name", kOfficer, "--password", kOfficerPassword, "--event", redact_id,
                     "--category", redact_category},
                    std::chrono::seconds(40));
  const auto browser_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  INFO(r.dump(2));
  INFO("browser run: " << browser_ms << " ms");
  REQUIRE_FALSE(r.contains("harness_error"));
  REQUIRE_FALSE(r.contains("error"));

  CHECK(r["unsigned_url"] == "/review/login");
  CHECK(r["signed_in_url"] == "/review");
  CHECK(r["officer"] == kOfficer);

  auto ids = r["list_ids"].get<std::vector<std::string>>();
  CHECK(std::count(ids.begin(), ids.end(), redact_id) == 1);
  CHECK(std::count(ids.begin(), ids.end(), block_id) == 1);
  CHECK(r["list_total"].get<int>() == 2);  // the clean requests of record_clean are not violations
  auto filtered = r["filtered_ids"].get<std::vector<std::string>>();
  CHECK(filtered == std::vector<std::string>{redact_id});
  CHECK(r["filtered_total"].get<int>() == 1);
  CHECK(contains(r["filtered_query"].get<std::string>(), "category=" + redact_category));

  CHECK(r["detail_url"] == "/review/event/" + redact_id);
  REQUIRE(r["excerpts"].is_array());
  REQUIRE_FALSE(r["excerpts"].empty());
  for (const auto& excerpt : r["excerpts"]) {
    CHECK(contains(excerpt.get<std::string>(), "•"));
    CHECK_FALSE(contains(excerpt.get<std::string>(), kCccd));  // masked, never the number
  }
  CHECK(r["state_before"] == "Mới");
  CHECK(r["note_left"].get<int>() == 2000 - r["note_chars"].get<int>());  // the page's script ran under its CSP
  CHECK(r["after_save_url"] == "/review/event/" + redact_id);
  CHECK(r["state_after_reload"] == "Đã xác nhận");
  CHECK(r["history_notes"] == json::array({"Đã xác minh với anh Nam <b>thật</b>"}));
  CHECK(r["state_english"] == "Confirmed");
  CHECK(r["html_lang"] == "en");
  CHECK(r["usage_url"] == "/review/usage");
  CHECK(r["usage_heading"] == "Usage and violations by unit");
  CHECK(r["usage_drawn"] == true);
  CHECK(contains(r["time_zone"].get<std::string>(), "Asia/Ho_Chi_Minh (UTC+07:00)"));
  CHECK(contains(r["usage_csv_href"].get<std::string>(), "/review/usage.csv?from="));
  CHECK(r["usage_csv"]["status"] == 200);
  CHECK(r["usage_csv"]["type"] == "text/csv; charset=utf-8");
  CHECK(contains(r["usage_csv"]["head"].get<std::string>(), "\"week\",\"week_start\",\"unit\""));
  CHECK(r["console_errors"] == json::array());

  // The triage is an event of the trail, and the operational log says who did it (not the note).
  std::vector<json> triages;
  for (auto& rec : gw.audit_records())
    if (rec.value("type", "") == "triage") triages.push_back(rec);
  REQUIRE(triages.size() == 1);
  CHECK(triages[0].value("target", "") == redact_id);
  CHECK(triages[0].value("state", "") == "confirmed");
  CHECK(triages[0].value("officer", "") == kOfficer);
  const auto log = gw.log();
  CHECK(contains(log, "review: login of officer 'thanh'"));
  CHECK(contains(log, "review: officer 'thanh' from 127.0.0.1"));
  CHECK_FALSE(contains(log, "Đã xác minh"));
  CHECK(browser_ms < 20000);
}

TEST_CASE("the review page is off without officers", "[e2e][review]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  auto r = get(gw.admin_url("/review"));
  CHECK(r.status == 404);
  CHECK(contains(r.body, "audit.review.officers"));
}

TEST_CASE("a cross-site POST to the review page is refused, with or without the session cookie", "[e2e][review]") {
  GatewayFixture gw(with_officer());
  INFO(gw.where_to_look());
  auto m = gw.mark();
  REQUIRE(post(gw.url("/openai/v1/chat/completions"), chat_body(kCccdText)).status == 200);
  const auto decisions = gw.decisions_since(m);
  REQUIRE(decisions.size() == 1);
  const std::string event_id = decisions[0].value("event_id", "");
  const std::string login_form = "name=thanh&password=M%E1%BA%ADt-kh%E1%BA%A9u+e2e+7";  // kOfficerPassword
  const std::string own_origin = "Origin: " + gw.admin_url("");
  auto raw_post = [&](const std::string& path, const std::string& body, std::vector<std::string> headers) {
    return http(gw.admin_form(path, body, std::move(headers)));
  };

  // Another site's form posting the officer's password (login CSRF): refused, no session made.
  auto forged_login = raw_post("/review/login", login_form, {"Origin: https://evil.example", "Sec-Fetch-Site: cross-site"});
  CHECK(forged_login.status == 403);
  CHECK_FALSE(forged_login.has_header("Set-Cookie"));
  CHECK(contains(forged_login.body, "trang web khác"));
  CHECK(raw_post("/review/login", login_form, {"Origin: https://evil.example"}).status == 403);  // an older browser: Origin only

  // The page's own sign-in, as a browser sends it.
  auto login = raw_post("/review/login", login_form, {own_origin, "Sec-Fetch-Site: same-origin"});
  REQUIRE(login.status == 303);
  const auto set_cookie = login.header("Set-Cookie");
  CHECK(contains(set_cookie, "HttpOnly"));
  CHECK(contains(set_cookie, "SameSite=Strict"));
  const std::string cookie = "Cookie: " + set_cookie.substr(0, set_cookie.find(';'));

  const std::string triage = "/review/event/" + event_id + "/triage";
  // Another site's form with the officer's cookie attached (a browser ignoring SameSite): refused.
  CHECK(raw_post(triage, "state=closed", {cookie, "Origin: https://evil.example", "Sec-Fetch-Site: cross-site"}).status == 403);
  // Same origin but without the session's CSRF token: refused by the token.
  CHECK(raw_post(triage, "state=closed", {cookie, own_origin, "Sec-Fetch-Site: same-origin"}).status == 403);
  CHECK(raw_post(triage, "state=closed&csrf=" + std::string(64, '0'), {cookie, own_origin}).status == 403);
  for (const auto& rec : gw.audit_records()) CHECK(rec.value("type", "") != "triage");  // nothing was triaged

  // The pages themselves: CSP without inline code, no framing, no sniffing, no referrer, no cache.
  HttpRequest page;
  page.url = gw.admin_url("/review/event/" + event_id);
  page.headers = {cookie};
  auto detail = http(page);
  REQUIRE(detail.status == 200);
  CHECK(contains(detail.header("Content-Security-Policy"), "default-src 'none'"));
  CHECK(contains(detail.header("Content-Security-Policy"), "frame-ancestors 'none'"));
  CHECK_FALSE(contains(detail.header("Content-Security-Policy"), "unsafe-inline"));
  CHECK(detail.header("X-Content-Type-Options") == "nosniff");
  CHECK(detail.header("Referrer-Policy") == "no-referrer");
  CHECK(detail.header("Cache-Control") == "no-store");
}
