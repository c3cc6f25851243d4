// The officers' review page without sockets: OfficerAuth (passwords, lockout, sessions, CSRF) and
// ReviewSite over a real trail written with AuditWriter.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <cctype>
#include <string>
#include <vector>

#include "audit/audit_writer.h"
#include "audit/event.h"
#include "audit/officer_auth.h"
#include "audit/review_site.h"
#include "audit/signing_key.h"
#include "../support/temp_dir.h"

using namespace promptwall::audit;
using promptwall::test::TempDir;
namespace fs = std::filesystem;

namespace {

// One hash for the whole run: yescrypt is slow on purpose.
const std::string& officer_hash() {
  static const std::string hash = hash_password("đúng-mật-khẩu 42");
  return hash;
}
constexpr const char* kPassword = "đúng-mật-khẩu 42";

// A clock the test moves by hand.
struct FakeClock {
  OfficerAuthOptions::Clock::time_point now = OfficerAuthOptions::Clock::time_point(std::chrono::hours(1000));
};

OfficerAuthOptions auth_options(FakeClock* clock = nullptr) {
  OfficerAuthOptions o;
  o.officers = {{"thanh", officer_hash()}, {"hoa", officer_hash()}};
  o.session_lifetime = std::chrono::minutes(60);
  if (clock) o.now = [clock] { return clock->now; };
  return o;
}

size_t occurrences(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

bool has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// OfficerAuth

TEST_CASE("passwords are checked against crypt(3) hashes", "[audit][review][auth]") {
  CHECK(officer_hash().rfind("$y$", 0) == 0);
  CHECK(password_matches(kPassword, officer_hash()));
  CHECK_FALSE(password_matches("sai", officer_hash()));
  CHECK_FALSE(password_matches(std::string("đúng-mật-khẩu 42\0x", 20), officer_hash()));  // NUL never matches
  // Another method libxcrypt knows works too (sha512crypt, as `mkpasswd -m sha-512` makes).
  const auto sha = hash_password("pw", "$6$");
  CHECK(sha.rfind("$6$", 0) == 0);
  CHECK(password_matches("pw", sha));

  OfficerAuth auth(auth_options());
  CHECK(auth.enabled());
  auto ok = auth.login("thanh", kPassword, "10.0.0.1");
  REQUIRE(ok.outcome == OfficerAuth::LoginOutcome::ok);
  REQUIRE(ok.session);
  CHECK(ok.session->officer == "thanh");
  CHECK(ok.session->id.size() == 64);
  CHECK(ok.session->csrf_token.size() == 64);
  CHECK(ok.session->id != ok.session->csrf_token);
  CHECK(auth.session(ok.session->id).has_value());
  CHECK(auth.login("thanh", "sai mật khẩu", "10.0.0.1").outcome == OfficerAuth::LoginOutcome::bad_credentials);
  CHECK(auth.login("không-có-ai", kPassword, "10.0.0.1").outcome == OfficerAuth::LoginOutcome::bad_credentials);
  CHECK_FALSE(auth.login("thanh", "sai", "10.0.0.1").session);

  const auto cookie = auth.session_cookie(*ok.session);
  CHECK(cookie.rfind("pw_review=" + ok.session->id + ";", 0) == 0);
  CHECK(has(cookie, "HttpOnly"));
  CHECK(has(cookie, "SameSite=Strict"));
  CHECK(has(cookie, "Path=/review"));
}

TEST_CASE("a hash crypt(3) cannot use is refused at start", "[audit][review][auth]") {
  OfficerAuthOptions o;
  o.officers = {{"thanh", "plaintext-password"}};
  CHECK_THROWS_AS(OfficerAuth(o), std::invalid_argument);
  CHECK_FALSE(OfficerAuth(OfficerAuthOptions{}).enabled());
}

TEST_CASE("five failures lock a name, or an address, for fifteen minutes", "[audit][review][auth]") {
  FakeClock clock;
  OfficerAuth auth(auth_options(&clock));
  using Outcome = OfficerAuth::LoginOutcome;

  SECTION("by name, from any address") {
    for (int i = 0; i < 5; ++i) CHECK(auth.login("thanh", "sai", "10.0.0." + std::to_string(i)).outcome == Outcome::bad_credentials);
    CHECK(auth.login("thanh", kPassword, "10.9.9.9").outcome == Outcome::locked_out);  // the right password too
    CHECK(auth.login("hoa", kPassword, "10.9.9.9").outcome == Outcome::ok);           // another name is not locked
    clock.now += std::chrono::minutes(14);
    CHECK(auth.login("thanh", kPassword, "10.9.9.9").outcome == Outcome::locked_out);
    clock.now += std::chrono::minutes(1);
    CHECK(auth.login("thanh", kPassword, "10.9.9.9").outcome == Outcome::ok);
  }
  SECTION("by address, whatever the names") {
    for (int i = 0; i < 5; ++i) CHECK(auth.login("name" + std::to_string(i), "sai", "10.0.0.7").outcome == Outcome::bad_credentials);
    CHECK(auth.login("thanh", kPassword, "10.0.0.7").outcome == Outcome::locked_out);
    CHECK(auth.login("thanh", kPassword, "10.0.0.8").outcome == Outcome::ok);
  }
  SECTION("failures older than the window do not count") {
    for (int i = 0; i < 4; ++i) auth.login("thanh", "sai", "10.0.0.1");
    clock.now += std::chrono::minutes(16);
    CHECK(auth.login("thanh", "sai", "10.0.0.1").outcome == Outcome::bad_credentials);
    CHECK(auth.login("thanh", kPassword, "10.0.0.1").outcome == Outcome::ok);
  }
}

TEST_CASE("sessions expire, end at logout, and carry their own CSRF token", "[audit][review][auth]") {
  FakeClock clock;
  OfficerAuth auth(auth_options(&clock));
  auto a = auth.login("thanh", kPassword, "10.0.0.1").session;
  auto b = auth.login("hoa", kPassword, "10.0.0.2").session;
  REQUIRE(a);
  REQUIRE(b);
  CHECK(OfficerAuth::csrf_matches(*a, a->csrf_token));
  CHECK_FALSE(OfficerAuth::csrf_matches(*a, b->csrf_token));
  CHECK_FALSE(OfficerAuth::csrf_matches(*a, ""));
  CHECK_FALSE(OfficerAuth::csrf_matches(*a, a->csrf_token.substr(1)));

  clock.now += std::chrono::minutes(59);
  CHECK(auth.session(a->id));
  CHECK(auth.logout(b->id));
  CHECK_FALSE(auth.session(b->id));
  CHECK_FALSE(auth.logout(b->id));
  clock.now += std::chrono::minutes(1);
  CHECK_FALSE(auth.session(a->id));  // lifetime reached, used or not
  CHECK_FALSE(auth.session(""));
  CHECK_FALSE(auth.session(std::string(64, '0')));
}

// ---------------------------------------------------------------------------------------------
// ReviewSite over a real trail

namespace {

DecisionEvent violation(std::string user, std::string unit, std::string service, std::string decision, std::string rule,
                        std::string category, std::string severity, Clock::time_point time) {
  static uint8_t counter = 0;
  uint8_t random[10] = {++counter, 7, 7, 7, 7, 7, 7, 7, 7, 7};
  DecisionEvent e;
  e.time = time;
  e.event_id = new_event_id(time, random);
  e.request_id = "req-" + std::to_string(counter);
  e.client = "10.1.2.3:40000";
  e.user = std::move(user);
  e.unit = std::move(unit);
  e.service = std::move(service);
  e.method = "POST";
  e.path = "/v1/chat/completions";
  e.decision = std::move(decision);
  e.mode = "enforce";
  e.forwarded = e.decision != "block";
  e.ruleset = "abc123";
  e.bytes_in = 321;
  if (!rule.empty()) {
    EventFinding f;
    f.rule_id = std::move(rule);
    f.category = std::move(category);
    f.severity = std::move(severity);
    f.action = e.decision;
    f.count = 1;
    f.locations = {"messages[0].content"};
    f.evidence = {{"messages[0].content", "Số CCCD 00••••••••67 của", std::string(64, 'a')}};
    e.findings.push_back(std::move(f));
  }
  return e;
}

// A trail, its writer and a site over it, signed in as "thanh".
struct Bench {
  TempDir dir;
  std::unique_ptr<AuditWriter> writer;
  std::unique_ptr<ReviewSite> site;
  std::string cookie;  // "pw_review=..."
  std::string csrf;

  explicit Bench(OfficerAuthOptions auth = auth_options()) {
    AuditWriterOptions o;
    o.dir = dir.path() / "trail";
    o.signing_key = std::make_shared<const SigningKey>(SigningKey::load_or_create(dir.path() / "signing.pem"));
    writer = std::make_unique<AuditWriter>(std::move(o));
    site = std::make_unique<ReviewSite>(std::move(auth), dir.path() / "trail", dir.path() / "index.sqlite", *writer);
  }

  void add(const DecisionEvent& e) { REQUIRE(writer->append_and_wait(to_json_object(e))); }

  ReviewResponse get(const std::string& target, const std::string& extra_cookie = "") {
    std::string c = cookie;
    if (!extra_cookie.empty()) c += (c.empty() ? "" : "; ") + extra_cookie;
    return site->handle({"GET", target, c, "", "127.0.0.1:5000"});
  }
  ReviewResponse post(const std::string& target, const std::string& body) {
    return site->handle({"POST", target, cookie, body, "127.0.0.1:5000"});
  }

  void sign_in() {
    auto r = site->handle({"POST", "/review/login", "", std::string("name=thanh&password=") + "%C4%91%C3%BAng-m%E1%BA%ADt-kh%E1%BA%A9u+42",
                           "127.0.0.1:5000"});
    REQUIRE(r.status == 303);
    REQUIRE(r.header("Location") == "/review");
    const auto set = r.header("Set-Cookie");
    REQUIRE(set.rfind("pw_review=", 0) == 0);
    cookie = set.substr(0, set.find(';'));
    auto page = get("/review");
    REQUIRE(page.status == 200);
    // (not std::regex: GCC 12 under the sanitizers warns falsely inside it)
    const std::string marker = "name=\"csrf\" value=\"";
    const size_t at = page.body.find(marker);
    REQUIRE(at != std::string::npos);
    csrf = page.body.substr(at + marker.size(), 64);
    REQUIRE(std::all_of(csrf.begin(), csrf.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }));
    REQUIRE(page.body.compare(at + marker.size() + 64, 1, "\"") == 0);
  }
};

}  // namespace

TEST_CASE("the review page is never reachable without signing in", "[audit][review][site]") {
  Bench b;
  const auto now = Clock::now();
  const auto e = violation("an", "ke-toan", "openai", "redact", "vn.pii.cccd", "national_id", "high", now);
  b.add(e);
  for (const std::string& target : std::vector<std::string>{"/review", "/review/", "/review/charts", "/review/event/" + e.event_id,
                                                           "/review/nothing", "/review?user=an", "/review/usage",
                                                           "/review/usage.csv"}) {
    auto r = b.get(target, "pw_review=" + std::string(64, 'f'));
    INFO(target);
    CHECK(r.status == 303);
    CHECK(r.header("Location") == "/review/login");
    CHECK_FALSE(has(r.body, e.event_id));
  }
  for (const std::string& target : std::vector<std::string>{"/review/logout", "/review/event/" + e.event_id + "/triage"}) {
    auto r = b.post(target, "state=closed");
    INFO(target);
    CHECK(r.status == 303);
    CHECK(r.header("Location") == "/review/login");
  }

  auto login = b.get("/review/login");
  CHECK(login.status == 200);
  CHECK(has(login.body, "<form method=\"post\" action=\"/review/login\">"));
  CHECK(has(login.header("Content-Security-Policy"), "default-src 'none'"));
  CHECK(login.header("X-Frame-Options") == "DENY");
  CHECK(login.header("Cache-Control") == "no-store");
  CHECK_FALSE(has(login.body, "http://"));  // nothing loaded from elsewhere
  CHECK_FALSE(has(login.body, "https://"));

  auto wrong = b.site->handle({"POST", "/review/login", "", "name=thanh&password=sai", "127.0.0.1:5000"});
  CHECK(wrong.status == 401);
  CHECK(wrong.header("Set-Cookie").empty());
  REQUIRE(wrong.activity);
  CHECK(wrong.activity->kind == ReviewActivity::Kind::login_failed);
  CHECK(has(wrong.body, "Tên đăng nhập hoặc mật khẩu không đúng."));

  b.sign_in();
  CHECK(b.get("/review/login").status == 303);  // already signed in
  auto out = b.post("/review/logout", "csrf=" + b.csrf);
  CHECK(out.status == 303);
  CHECK(out.header("Location") == "/review/login");
  REQUIRE(out.activity);
  CHECK(out.activity->kind == ReviewActivity::Kind::logout);
  CHECK(has(out.header("Set-Cookie"), "Max-Age=0"));
  CHECK(b.get("/review").status == 303);  // the old cookie no longer opens anything
}

TEST_CASE("no officer configured: the page is off and says how to turn it on", "[audit][review][site]") {
  Bench b{OfficerAuthOptions{}};
  CHECK_FALSE(b.site->enabled());
  auto r = b.get("/review");
  CHECK(r.status == 404);
  CHECK(has(r.body, "audit.review.officers"));
}

TEST_CASE("the list shows violations newest first, and the filters narrow it", "[audit][review][site]") {
  Bench b;
  const auto now = Clock::now();
  const auto cccd = violation("an", "ke-toan", "openai", "redact", "vn.pii.cccd", "national_id", "high", now - std::chrono::hours(3));
  const auto secret = violation("<script>alert(1)</script>", "ban-giam-doc", "gemini", "block", "vn.secret.degree-field",
                                "state_secret", "critical", now - std::chrono::hours(2));
  const auto clean = violation("binh", "ke-toan", "openai", "allow", "", "", "", now - std::chrono::hours(1));
  b.add(cccd);
  b.add(secret);
  b.add(clean);
  b.sign_in();

  auto all = b.get("/review");
  REQUIRE(all.status == 200);
  CHECK(has(all.body, "<span id=\"total\">2</span>"));
  CHECK(occurrences(all.body, "<tr class=\"event\"") == 2);
  CHECK_FALSE(has(all.body, clean.event_id));  // an allowed request is not a violation
  CHECK(all.body.find(secret.event_id) < all.body.find(cccd.event_id));  // newest first
  CHECK(has(all.body, "<option value=\"vn.pii.cccd\">"));               // drop-downs from the index

  SECTION("by category") {
    auto r = b.get("/review?category=state_secret");
    CHECK(has(r.body, "<span id=\"total\">1</span>"));
    CHECK(has(r.body, secret.event_id));
    CHECK_FALSE(has(r.body, "data-event-id=\"" + cccd.event_id));
    CHECK(has(r.body, "<option value=\"state_secret\" selected>"));
  }
  SECTION("by user, unit, service, decision, severity, rule") {
    for (const std::string q : {"user=an", "unit=ke-toan", "service=openai", "decision=redact", "rule=vn.pii.cccd"}) {
      auto r = b.get("/review?" + q);
      INFO(q);
      CHECK(has(r.body, "<span id=\"total\">1</span>"));
      CHECK(has(r.body, "data-event-id=\"" + cccd.event_id));
    }
  }
  SECTION("by severity, at least the one chosen") {
    CHECK(has(b.get("/review?severity=critical").body, "<span id=\"total\">1</span>"));
    CHECK(has(b.get("/review?severity=high").body, "<span id=\"total\">2</span>"));
    CHECK(has(b.get("/review?severity=bogus&triage=bogus").body, "<span id=\"total\">2</span>"));
  }
  SECTION("by time") {
    const std::string tomorrow = format_time(now + std::chrono::hours(48)).substr(0, 10);
    CHECK(has(b.get("/review?from=" + tomorrow).body, "<span id=\"total\">0</span>"));
    CHECK(has(b.get("/review?to=" + tomorrow).body, "<span id=\"total\">2</span>"));
    CHECK(has(b.get("/review?from=not-a-date").body, "<span id=\"total\">2</span>"));
  }
  SECTION("a hostile user name is shown as text") {
    CHECK(has(all.body, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    CHECK_FALSE(has(all.body, "<script>alert"));
    auto filtered = b.get("/review?user=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    CHECK(has(filtered.body, "<span id=\"total\">1</span>"));
    CHECK_FALSE(has(filtered.body, "<script>alert"));
  }
}

TEST_CASE("justified requests: shown with their reason and who gave it, and filtered", "[audit][review][site][coaching]") {
  Bench b;
  const auto now = Clock::now();
  auto justified = violation("an", "phap-che", "openai", "justify", "vn.pii.phone", "phone", "medium", now - std::chrono::hours(2));
  justified.forwarded = true;
  justified.justification = {"0123456789abcdef01234567", "Khách <b>hàng</b> «09••••••78» đồng ý", "an", "header", ""};
  auto coached = violation("binh", "ke-toan", "openai", "warn", "vn.doc.admin-number", "doc_number", "low",
                           now - std::chrono::hours(1));
  coached.justification = {"89abcdef0123456789abcdef", "", "", "", "expired"};
  b.add(justified);
  b.add(coached);
  b.sign_in();

  const auto all = b.get("/review");
  CHECK(has(all.body, "<span id=\"total\">2</span>"));
  CHECK(occurrences(all.body, "<span class=\"justified\">") == 1);
  CHECK(has(all.body, "<option value=\"justify\">"));  // the decision filter knows justify
  const auto only = b.get("/review?justified=yes");
  CHECK(has(only.body, "<span id=\"total\">1</span>"));
  CHECK(has(only.body, "data-event-id=\"" + justified.event_id));
  CHECK(has(b.get("/review?decision=justify").body, "<span id=\"total\">1</span>"));
  CHECK(has(b.get("/review?justified=no").body, "<span id=\"total\">2</span>"));  // not a filter value

  const auto detail = b.get("/review/event/" + justified.event_id);
  CHECK(has(detail.body, "<span id=\"justification\">Khách &lt;b&gt;hàng&lt;/b&gt; «09••••••78» đồng ý</span>"));
  CHECK(has(detail.body, "<span id=\"justified-by\">an</span>"));
  CHECK(has(detail.body, "0123456789abcdef01234567"));
  CHECK(has(b.get("/review/event/" + coached.event_id).body, "expired"));
}

TEST_CASE("the list pages by 50", "[audit][review][site]") {
  Bench b;
  const auto start = Clock::now() - std::chrono::hours(1);
  for (int i = 0; i < 55; ++i) {
    std::string user = "u";
    user += std::to_string(i);  // not "u" + ...: GCC 12 warns falsely (-Wrestrict) on that
    b.add(violation(user, "", "openai", "warn", "vn.doc.admin-number", "document_number", "low",
                    start + std::chrono::seconds(i)));
  }
  b.sign_in();
  auto first = b.get("/review?service=openai");
  CHECK(occurrences(first.body, "<tr class=\"event\"") == 50);
  CHECK(has(first.body, "<span id=\"total\">55</span>"));
  CHECK(has(first.body, "id=\"next\" href=\"/review?service=openai&amp;page=2\""));
  CHECK_FALSE(has(first.body, "id=\"prev\""));
  auto second = b.get("/review?service=openai&page=2");
  CHECK(occurrences(second.body, "<tr class=\"event\"") == 5);
  CHECK(has(second.body, "id=\"prev\""));
  CHECK(has(second.body, ">u0<"));  // the oldest is last
  CHECK(occurrences(b.get("/review?page=99").body, "<tr class=\"event\"") == 5);  // clamped to the last page
}

TEST_CASE("an event's detail and its triage", "[audit][review][site]") {
  Bench b;
  const auto e = violation("an", "ke-toan", "openai", "redact", "vn.pii.cccd", "national_id", "high", Clock::now());
  b.add(e);
  b.sign_in();
  const std::string detail_url = "/review/event/" + e.event_id;

  auto d = b.get(detail_url);
  REQUIRE(d.status == 200);
  CHECK(has(d.body, "Số CCCD 00••••••••67 của"));  // the masked excerpt
  CHECK(has(d.body, "aaaaaaaaaaaa</span>"));        // the HMAC, shortened
  CHECK_FALSE(has(d.body, std::string(13, 'a') + "</span>"));
  CHECK(has(d.body, "messages[0].content"));
  CHECK(has(d.body, "req-"));
  CHECK(has(d.body, "<span id=\"triage-state\">Mới</span>"));
  CHECK(b.get("/review/event/01NOSUCHEVENT").status == 404);

  const auto seq_before = b.writer->durable_seq();
  SECTION("a triage without the CSRF token is refused and changes nothing") {
    CHECK(b.post(detail_url + "/triage", "state=confirmed&note=x").status == 403);
    CHECK(b.post(detail_url + "/triage", "state=confirmed&note=x&csrf=" + std::string(64, '0')).status == 403);
    CHECK(b.writer->durable_seq() == seq_before);
    CHECK(has(b.get(detail_url).body, "<span id=\"triage-state\">Mới</span>"));
  }
  SECTION("bad states and overlong notes are refused") {
    CHECK(b.post(detail_url + "/triage", "state=deleted&csrf=" + b.csrf).status == 400);
    std::string note;
    for (int i = 0; i < 2001; ++i) note += "%C3%A2";  // 2001 × "â": 2001 characters, 4002 bytes
    CHECK(b.post(detail_url + "/triage", "state=closed&csrf=" + b.csrf + "&note=" + note).status == 400);
    std::string fits;
    for (int i = 0; i < 2000; ++i) fits += "%C3%A2";
    CHECK(b.post(detail_url + "/triage", "state=closed&csrf=" + b.csrf + "&note=" + fits).status == 303);
    CHECK(b.post("/review/event/01NOSUCHEVENT/triage", "state=closed&csrf=" + b.csrf).status == 404);
  }
  SECTION("a triage is recorded in the trail and shows at once") {
    auto r = b.post(detail_url + "/triage", "state=confirmed&note=%C4%90%C3%A3+g%E1%BB%8Di+%3Cb%3Eanh+An%3C%2Fb%3E&csrf=" + b.csrf);
    REQUIRE(r.status == 303);
    CHECK(r.header("Location") == detail_url);
    REQUIRE(r.activity);
    CHECK(r.activity->kind == ReviewActivity::Kind::triage);
    CHECK(r.activity->officer == "thanh");
    CHECK(r.activity->event_id == e.event_id);
    CHECK(r.activity->state == "confirmed");
    CHECK(b.writer->durable_seq() == seq_before + 1);

    auto after = b.get(detail_url);
    CHECK(has(after.body, "<span id=\"triage-state\">Đã xác nhận</span>"));
    CHECK(has(after.body, "Đã gọi &lt;b&gt;anh An&lt;/b&gt;"));  // the note, escaped
    CHECK(has(after.body, "<td>thanh</td>"));
    CHECK(has(b.get("/review?triage=confirmed").body, "<span id=\"total\">1</span>"));
    CHECK(has(b.get("/review?triage=new").body, "<span id=\"total\">0</span>"));

    // A fresh site (a restarted gateway) reads the same state from the trail.
    ReviewSite again(auth_options(), b.dir.path() / "trail", b.dir.path() / "index2.sqlite", *b.writer);
    auto in = again.handle({"POST", "/review/login", "", "name=hoa&password=%C4%91%C3%BAng-m%E1%BA%ADt-kh%E1%BA%A9u+42", "::1"});
    const auto set = in.header("Set-Cookie");
    auto page = again.handle({"GET", detail_url, set.substr(0, set.find(';')), "", "::1"});
    CHECK(has(page.body, "<span id=\"triage-state\">Đã xác nhận</span>"));
  }
}

TEST_CASE("charts of violations per day, top rules and users", "[audit][review][site]") {
  Bench b;
  const auto now = Clock::now();
  b.add(violation("an", "ke-toan", "openai", "redact", "vn.pii.cccd", "national_id", "high", now - std::chrono::hours(49)));
  b.add(violation("an", "ke-toan", "openai", "redact", "vn.pii.cccd", "national_id", "high", now - std::chrono::hours(1)));
  b.add(violation("chi", "ban-giam-doc", "gemini", "block", "vn.secret.degree-field", "state_secret", "critical",
                  now - std::chrono::hours(1)));
  b.sign_in();
  auto r = b.get("/review/charts");
  REQUIRE(r.status == 200);
  CHECK(has(r.body, "<svg id=\"chart-category\""));
  CHECK(has(r.body, "<svg id=\"chart-unit\""));
  CHECK(occurrences(r.body, "<rect class=\"bar\"") >= 4);  // two days × at least one series, in each chart
  CHECK(has(r.body, "id=\"top-rules\""));
  CHECK(has(r.body, ">vn.pii.cccd</td><td>2</td>"));
  CHECK(has(r.body, ">an</td><td>2</td>"));
  CHECK(has(r.body, "Vi phạm mỗi ngày theo loại dữ liệu"));
  const std::string far = "/review/charts?from=2001-01-01&to=2001-01-31";
  CHECK(has(b.get(far).body, "Không có dữ liệu trong khoảng thời gian này."));
}

TEST_CASE("usage per unit and week from this trail's traffic counts: did the training work", "[audit][review][site][usage]") {
  Bench b;
  using namespace std::chrono;
  // Monday 2 November 2026, 09:00 in Vietnam; four weeks of counts for two units.
  const Clock::time_point monday = Clock::time_point(sys_days(year{2026} / 11 / 2)) + hours(2);
  auto traffic = [&](int week, const std::string& unit, uint64_t requests, uint64_t with_findings) {
    const auto hour = monday + days{7 * week};
    REQUIRE(b.writer->append_and_wait(to_json_object(TrafficEvent{hour, hour, hour, {{hour, unit, "openai", requests, with_findings}}})));
  };
  traffic(0, "ke-toan", 100, 20);
  traffic(3, "ke-toan", 100, 5);   // 20% → 5%: better
  traffic(0, "ban-giam-doc", 50, 5);
  traffic(3, "ban-giam-doc", 50, 10);  // 10% → 20%: worse
  b.add(violation("an", "ke-toan", "openai", "block", "vn.pii.cccd", "national_id", "high", monday + hours(1)));
  b.sign_in();
  auto r = b.get("/review/usage?from=2026-11-02&to=2026-11-29");
  REQUIRE(r.status == 200);
  CHECK(has(r.body, "<svg id=\"chart-usage\""));
  CHECK(occurrences(r.body, "<polyline class=\"rate-line\"") >= 3);  // all units and the two
  CHECK(has(r.body, "Việc tập huấn có hiệu quả không?"));
  CHECK(has(r.body, "<tr class=\"usage-unit\" data-verdict=\"better\"><td>ke-toan</td><td>200</td><td>25</td><td>1</td><td>20,0%</td><td>5,0%</td>"));
  CHECK(has(r.body, "<tr class=\"usage-unit\" data-verdict=\"worse\"><td>ban-giam-doc</td>"));
  CHECK(has(r.body, "Asia/Ho_Chi_Minh (UTC+07:00)"));
  CHECK_FALSE(has(r.body, "style=\""));  // the CSP allows no inline style attributes
  CHECK(has(r.body, "href=\"/review/usage.csv?from=2026-11-02&amp;to=2026-11-29\""));
  auto csv = b.get("/review/usage.csv?from=2026-11-02&to=2026-11-29");
  REQUIRE(csv.status == 200);
  CHECK(csv.content_type == "text/csv; charset=utf-8");
  CHECK(csv.header("Content-Disposition") == "attachment; filename=\"promptwall-usage-2026-11-02-2026-11-29.csv\"");
  CHECK(csv.body.rfind("\xEF\xBB\xBF\"week\",\"week_start\",\"unit\"", 0) == 0);
  CHECK(has(csv.body, "\"2026-W45\",\"02/11/2026\",\"ke-toan\",\"100\",\"20\",\"0.2000\",\"1\",\"1\""));
  CHECK(has(csv.body, "\"2026-W48\",\"23/11/2026\",\"ban-giam-doc\",\"50\",\"10\",\"0.2000\",\"0\",\"0\""));
  // Narrowed to one unit; nothing in another range.
  CHECK_FALSE(has(b.get("/review/usage?from=2026-11-02&to=2026-11-29&unit=ke-toan").body, ">ban-giam-doc</td>"));
  CHECK(has(b.get("/review/usage?from=2001-01-01&to=2001-01-31").body, "id=\"usage-none\""));
  CHECK(b.post("/review/usage", "").status == 405);
}

TEST_CASE("Vietnamese by default, English on request and remembered", "[audit][review][site]") {
  Bench b;
  b.sign_in();
  auto vi = b.get("/review");
  CHECK(has(vi.body, "<html lang=\"vi\">"));
  CHECK(has(vi.body, "Danh sách vi phạm"));
  CHECK(has(vi.body, "Đăng xuất"));
  CHECK(has(vi.body, "id=\"lang-switch\" href=\"/review?lang=en\""));

  auto en = b.get("/review?lang=en");
  CHECK(has(en.body, "<html lang=\"en\">"));
  CHECK(has(en.body, "Violations"));
  CHECK(has(en.body, "Log out"));
  CHECK_FALSE(has(en.body, "Đăng xuất"));
  CHECK(has(en.header("Set-Cookie"), "pw_lang=en"));
  CHECK(has(b.get("/review/charts", "pw_lang=en").body, "Violations per day by category"));
  CHECK(has(b.site->handle({"GET", "/review/login?lang=en", "", "", "::1"}).body, "Sign-in for review officers"));
  CHECK(has(b.get("/review/charts?lang=vi", "pw_lang=en").body, "Biểu đồ vi phạm"));

  // Every message has both languages (the table is also checked at compile time).
  for (int m = 0; m < static_cast<int>(Msg::count_); ++m) {
    CHECK_FALSE(message(static_cast<Msg>(m), Lang::vi).empty());
    CHECK_FALSE(message(static_cast<Msg>(m), Lang::en).empty());
  }
}

TEST_CASE("an event's detail names the signed rule bundle that decided it, when there was one", "[audit][review][site][bundle]") {
  Bench b;
  auto with_bundle = violation("an", "ke-toan", "openai", "block", "custom.heron", "custom_term", "high", Clock::now());
  with_bundle.rules_bundle = "2026.12.07-2";
  const auto without = violation("an", "ke-toan", "openai", "block", "custom.heron", "custom_term", "high", Clock::now());
  b.add(with_bundle);
  b.add(without);
  b.sign_in();
  const auto d = b.get("/review/event/" + with_bundle.event_id);
  REQUIRE(d.status == 200);
  CHECK(has(d.body, "<span id=\"rules-bundle\" class=\"mono\">2026.12.07-2</span>"));
  CHECK(has(d.body, "Gói quy tắc đã ký"));
  CHECK_FALSE(has(b.get("/review/event/" + without.event_id).body, "rules-bundle"));
}
