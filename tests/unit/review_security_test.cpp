// The review page's defences as headers and refusals (issue 15; audit/README.md "Security of the
// review page"): a POST another site made the browser send is refused before anything else, the
// sign-in included; the cookies are HttpOnly, SameSite=Strict, Secure over HTTPS; every page says
// CSP without inline code, nosniff, no-referrer, no-store.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "audit/audit_writer.h"
#include "audit/officer_auth.h"
#include "audit/review_site.h"
#include "audit/signing_key.h"
#include "../support/temp_dir.h"

using namespace promptwall::audit;
using promptwall::test::TempDir;

namespace {

constexpr const char* kPasswordForm = "name=thanh&password=m%E1%BA%ADt-kh%E1%BA%A9u+review+9";

struct Site {
  TempDir dir;
  std::unique_ptr<AuditWriter> writer;
  std::unique_ptr<ReviewSite> site;

  Site() {
    OfficerAuthOptions auth;
    static const std::string hash = hash_password("mật-khẩu review 9");
    auth.officers = {{"thanh", hash}};
    AuditWriterOptions o;
    o.dir = dir.path() / "trail";
    o.signing_key = std::make_shared<const SigningKey>(SigningKey::load_or_create(dir.path() / "signing.pem"));
    writer = std::make_unique<AuditWriter>(std::move(o));
    site = std::make_unique<ReviewSite>(std::move(auth), dir.path() / "trail", dir.path() / "index.sqlite", *writer);
  }

  // A sign-in POST as a browser sends it, with the given fetch metadata and origin.
  ReviewResponse login(const std::string& sec_fetch_site, const std::string& origin, bool secure = false,
                       const std::string& target = "/review/login") {
    ReviewRequest r{"POST", target, "", kPasswordForm, "127.0.0.1:5000"};
    r.host = "gw.example.vn:9090";
    r.sec_fetch_site = sec_fetch_site;
    r.origin = origin;
    r.secure = secure;
    return site->handle(r);
  }
};

bool has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("a POST another site made is refused, the sign-in included", "[audit][review][security]") {
  Site s;
  struct Case {
    std::string sec_fetch_site, origin;
    bool refused;
  };
  const std::vector<Case> cases = {
      {"same-origin", "http://gw.example.vn:9090", false},
      {"none", "", false},                               // the officer's own action (a bookmark)
      {"", "", false},                                   // neither header: a script, an old browser
      {"", "http://gw.example.vn:9090", false},          // Origin alone, the same host
      {"", "https://GW.example.vn:9090", false},         // host names ignore case
      {"cross-site", "https://evil.example", true},
      {"same-site", "http://other.example.vn:9090", true},  // a sibling host is another origin
      {"cross-site", "", true},
      {"", "https://evil.example", true},                // Origin alone, another host
      {"", "http://gw.example.vn:9091", true},           // another port
      {"", "null", true},                                // a sandboxed frame, a data: URL
  };
  for (const auto& c : cases) {
    INFO("Sec-Fetch-Site: '" << c.sec_fetch_site << "', Origin: '" << c.origin << "'");
    const auto r = s.login(c.sec_fetch_site, c.origin);
    if (c.refused) {
      CHECK(r.status == 403);
      CHECK(r.header("Set-Cookie").empty());  // not signed in
      CHECK(has(r.body, "trang web khác"));  // Vietnamese by default
      CHECK_FALSE(r.activity);  // refused before the password was looked at
    } else {
      CHECK(r.status == 303);
      CHECK(has(r.header("Set-Cookie"), "pw_review="));
    }
  }
  const auto english = s.login("cross-site", "https://evil.example", false, "/review/login?lang=en");
  CHECK(english.status == 403);
  CHECK(has(english.body, "This request was sent from another web site, so it was refused."));
}

TEST_CASE("a signed-in officer's cross-site triage or logout is refused even with the session cookie", "[audit][review][security]") {
  Site s;
  const auto in = s.login("same-origin", "http://gw.example.vn:9090");
  REQUIRE(in.status == 303);
  const auto set = in.header("Set-Cookie");
  const std::string cookie = set.substr(0, set.find(';'));
  for (const std::string& target : {std::string("/review/logout"), std::string("/review/event/01ANYEVENT/triage")}) {
    INFO(target);
    ReviewRequest r{"POST", target, cookie, "state=closed", "127.0.0.1:5000"};
    r.host = "gw.example.vn:9090";
    r.sec_fetch_site = "cross-site";
    r.origin = "https://evil.example";
    CHECK(s.site->handle(r).status == 403);
    // The same POST from the page itself but without the session's token: refused by the token.
    r.sec_fetch_site = "same-origin";
    r.origin = "http://gw.example.vn:9090";
    CHECK(s.site->handle(r).status == 403);
  }
  ReviewRequest page{"GET", "/review", cookie, "", "127.0.0.1:5000"};
  CHECK(s.site->handle(page).status == 200);  // still signed in: the refused logout did nothing
}

TEST_CASE("cookies are HttpOnly and SameSite=Strict, and Secure when reached over HTTPS", "[audit][review][security]") {
  Site s;
  const auto plain = s.login("same-origin", "http://gw.example.vn:9090");
  const auto session = plain.header("Set-Cookie");
  CHECK(has(session, "; HttpOnly"));
  CHECK(has(session, "; SameSite=Strict"));
  CHECK(has(session, "; Path=/review"));
  CHECK_FALSE(has(session, "Secure"));  // over plain HTTP the browser would drop a Secure cookie

  const auto tls = s.login("same-origin", "https://gw.example.vn:9090", /*secure=*/true);
  CHECK(tls.status == 303);
  CHECK(has(tls.header("Set-Cookie"), "; Secure"));

  ReviewRequest lang{"GET", "/review/login?lang=en", "", "", "127.0.0.1:5000"};
  lang.secure = true;
  const auto remembered = s.site->handle(lang).header("Set-Cookie");
  CHECK(has(remembered, "pw_lang=en"));
  CHECK(has(remembered, "; HttpOnly"));
  CHECK(has(remembered, "; SameSite=Strict"));
  CHECK(has(remembered, "; Secure"));
}

TEST_CASE("every page forbids inline code, framing, sniffing, referrers and caching", "[audit][review][security]") {
  Site s;
  const auto in = s.login("same-origin", "http://gw.example.vn:9090");
  const auto set = in.header("Set-Cookie");
  const std::string cookie = set.substr(0, set.find(';'));
  for (const auto& [target, session] : std::vector<std::pair<std::string, std::string>>{
           {"/review/login", ""}, {"/review", cookie}, {"/review/charts", cookie}, {"/review/event/01NOSUCHEVENT", cookie}}) {
    INFO(target);
    const auto r = s.site->handle({"GET", target, session, "", "127.0.0.1:5000"});
    const auto csp = r.header("Content-Security-Policy");
    CHECK(has(csp, "default-src 'none'"));
    CHECK(has(csp, "frame-ancestors 'none'"));
    CHECK(has(csp, "form-action 'self'"));
    CHECK(has(csp, "base-uri 'none'"));
    CHECK_FALSE(has(csp, "unsafe-inline"));
    CHECK_FALSE(has(csp, "unsafe-eval"));
    // The one style and script carry the response's nonce; no other inline code exists.
    const auto at = csp.find("script-src 'nonce-");
    REQUIRE(at != std::string::npos);
    const std::string nonce = csp.substr(at + 18, csp.find('\'', at + 18) - (at + 18));
    CHECK(nonce.size() >= 32);
    size_t scripts = 0, styles = 0;
    for (size_t p = r.body.find("<script"); p != std::string::npos; p = r.body.find("<script", p + 1), ++scripts)
      CHECK(r.body.compare(p, 7 + 9 + nonce.size(), "<script nonce=\"" + nonce + "\"") == 0);
    for (size_t p = r.body.find("<style"); p != std::string::npos; p = r.body.find("<style", p + 1), ++styles)
      CHECK(r.body.compare(p, 6 + 9 + nonce.size(), "<style nonce=\"" + nonce + "\"") == 0);
    CHECK_FALSE(has(r.body, " onclick="));
    CHECK_FALSE(has(r.body, " onload="));
    CHECK_FALSE(has(r.body, " style=\""));
    CHECK(r.header("X-Content-Type-Options") == "nosniff");
    CHECK(r.header("Referrer-Policy") == "no-referrer");
    CHECK(r.header("Cache-Control") == "no-store");
    CHECK(r.header("X-Frame-Options") == "DENY");
  }
}
