// Identity and policy by unit and group: proxy authentication (Basic against a bcrypt users
// file), the CIDR → unit map (clients connect from 127.0.0.2 and 127.0.0.3), a trusted identity
// header (believed from 127.0.0.1 only), scoped packs, services per group, and the audit trail
// recording who sent what.
#include <crypt.h>

#include <csignal>

#include "expectations.h"

using namespace promptwall::e2e;

namespace {

constexpr const char* kVanPhong = "127.0.0.2";  // identity.units: monitor
constexpr const char* kPhapChe = "127.0.0.3";   // identity.units: strict-legal pack
constexpr const char* kCaseFile = "Gửi hồ sơ hosovuan số 12 cho luật sư";  // strict-legal's rule

std::string bcrypt(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!crypt_gensalt_rn("$2b$", 5, nullptr, 0, salt, sizeof salt)) throw std::runtime_error("crypt_gensalt_rn");
  crypt_data data{};
  const char* hash = crypt_r(password.c_str(), salt, &data);
  if (!hash || hash[0] != '$') throw std::runtime_error("crypt_r");
  return hash;
}

// The identity files live beside the gateway, written before it starts.
struct IdentityBench {
  TempDir files;
  GatewayFixture gw;

  static GatewayOptions options(const fs::path& dir) {
    write_text(dir / "users", "# proxy users\nan.nguyen:" + bcrypt("đúng-mật-khẩu") + "\nbinh.tran:" + bcrypt("pw-binh") +
                                "\nkhoa.vu:" + bcrypt("pw-khoa") + "\n");
    write_text(dir / "groups", "legal: an.nguyen\ninterns: binh.tran\n");
    write_text(dir / "strict-legal.yaml",
               "pack: strict-legal\nversion: '1'\nrules:\n  - id: legal.case-file\n    description: case file code word\n"
               "    category: custom_term\n    severity: high\n    action: block\n"
               "    message: {vi: 'Mã hồ sơ vụ án', en: 'Case file code word'}\n    patterns: ['hosovuan']\n"
               "    examples: {match: ['hosovuan 12'], ignore: ['hồ sơ']}\n");
    GatewayOptions o;
    o.rules_extra = ", scoped_packs: [" + (dir / "strict-legal.yaml").string() + "]";
    o.extra_services =
        "  - {name: claude, prefix: /claude, hosts: [claude.e2e.test], upstream: \"{UPSTREAM}\", schema: anthropic,"
        " approved: false}\n";
    o.extra_config =
        "identity:\n"
        "  users_file: " + (dir / "users").string() + "\n"
        "  groups_file: " + (dir / "groups").string() + "\n"
        "  proxy_auth: required\n"
        "  realm: promptwall e2e\n"
        "  trusted_header: {user: X-Forwarded-User, groups: X-Forwarded-Groups, unit: X-Forwarded-Unit, from: [127.0.0.1/32]}\n"
        "  units: {'127.0.0.2/32': van-phong, '127.0.0.3/32': phap-che}\n"
        "  user_units: {an.nguyen: phap-che}\n"
        "policy:\n"
        "  units: {van-phong: {mode: monitor}, phap-che: {packs: [strict-legal]}}\n"
        "  groups: {legal: {services: {allow: [claude]}}, interns: {services: {deny: [gemini]}}}\n";
    return o;
  }
  IdentityBench() : gw(options(files.path())) {}
};

IdentityBench& bench() {
  static IdentityBench b;
  return b;
}

HttpResponse via_proxy(const GatewayFixture& gw, const std::string& url, const std::string& proxy_user,
                       const std::string& cacert = "") {
  HttpRequest req;
  req.method = "POST";
  req.url = url;
  req.proxy = gw.proxy();
  req.proxy_user = proxy_user;
  req.cacert = cacert;
  req.body = chat_body(kClean);
  req.headers = {"Content-Type: application/json", "Authorization: Bearer sk-e2e-test"};
  return http(req);
}

int via_proxy_of(const GatewayFixture& gw, const std::string& url, const std::string& proxy_user) {
  return via_proxy(gw, url, proxy_user).status;
}

HttpResponse post_from(const std::string& from, const std::string& path, const std::string& body,
                       std::vector<std::string> headers = {}) {
  HttpRequest req;
  req.method = "POST";
  req.url = bench().gw.url(path);
  req.body = body;
  req.interface = from;
  headers.push_back("Content-Type: application/json");
  req.headers = std::move(headers);
  return http(req);
}

std::string claude_body() {
  return json{{"model", "claude-x"}, {"max_tokens", 8}, {"messages", {{{"role", "user"}, {"content", kClean}}}}}.dump();
}

std::string gemini_path() { return "/gemini/v1beta/models/gemini-2.0-flash:generateContent"; }
std::string gemini_body(const std::string& text) { return json{{"contents", {{{"parts", {{{"text", text}}}}}}}}.dump(); }

}  // namespace

TEST_CASE("proxy authentication: 407 without or with wrong credentials, the user with right ones", "[e2e][identity]") {
  GatewayFixture& gw = bench().gw;
  INFO(gw.where_to_look());
  const std::string url = "http://api.openai.com/v1/chat/completions";

  SECTION("no credentials: a challenge, nothing forwarded, nothing audited") {
    auto m = gw.mark();
    auto r = via_proxy(gw, url, "");
    CHECK(r.status == 407);
    CHECK(r.header("Proxy-Authenticate") == "Basic realm=\"promptwall e2e\", charset=\"UTF-8\"");
    const std::string message = r.json_body()["error"]["message"].get<std::string>();
    CHECK(contains(message, "đăng nhập proxy"));
    CHECK(contains(message, "sign in to the proxy"));
    check_nothing_forwarded(gw, m);
    CHECK(gw.decisions_since(m, 0).empty());
  }
  SECTION("wrong password: 407 again, logged by name only and audited as a refusal") {
    auto m = gw.mark();
    auto r = via_proxy(gw, url, "an.nguyen:sai-mật-khẩu");
    CHECK(r.status == 407);
    check_nothing_forwarded(gw, m);
    auto events = gw.decisions_since(m);
    REQUIRE(events.size() == 1);
    CHECK(events[0]["decision"] == "refused");
    CHECK(events[0]["reason"] == "proxy_auth_required");
    CHECK(events[0]["user"] == "an.nguyen");
    const std::string log = gw.log();
    CHECK(contains(log, "proxy authentication failed for user 'an.nguyen'"));
    CHECK_FALSE(contains(log, "sai-mật-khẩu"));
    CHECK_FALSE(contains(gw.audit_text(), "sai-mật-khẩu"));
  }
  SECTION("right password: forwarded without the credentials, recorded with user and unit") {
    auto m = gw.mark();
    auto r = via_proxy(gw, url, "an.nguyen:đúng-mật-khẩu");
    REQUIRE(r.status == 200);
    json forwarded = single_forward(gw, m);
    CHECK_FALSE(forwarded["headers"].contains("proxy-authorization"));
    auto events = gw.decisions_since(m);
    REQUIRE(events.size() == 1);
    CHECK(events[0]["user"] == "an.nguyen");
    CHECK(events[0]["unit"] == "phap-che");  // identity.user_units wins over the address
    CHECK(events[0]["decision"] == "allow");
  }
  SECTION("repeated failures lock the name out, right password or not") {
    for (int i = 0; i < 5; ++i) CHECK(via_proxy(gw, url, "khoa.vu:guess-" + std::to_string(i)).status == 407);
    auto m = gw.mark();
    CHECK(via_proxy(gw, url, "khoa.vu:pw-khoa").status == 407);
    check_nothing_forwarded(gw, m);
    CHECK(contains(gw.log(), "user 'khoa.vu' is locked out"));
    CHECK(via_proxy(gw, url, "binh.tran:pw-binh").status == 200);  // only that name
  }
  SECTION("CONNECT: the tunnel's inner requests carry the CONNECT's user") {
    auto m = gw.mark();
    CHECK(via_proxy(gw, "https://api.openai.com/v1/chat/completions", "", gw.certs().org_ca_crt.string()).status == 407);
    auto r = via_proxy(gw, "https://api.openai.com/v1/chat/completions", "binh.tran:pw-binh", gw.certs().org_ca_crt.string());
    REQUIRE(r.status == 200);
    CHECK(r.tls_issuer.find("promptwall") != std::string::npos);  // intercepted, not tunnelled
    auto events = gw.decisions_since(m);
    REQUIRE(events.size() == 1);
    CHECK(events[0]["user"] == "binh.tran");
    CHECK(events[0]["method"] == "POST");
    CHECK(events[0]["path"] == "/v1/chat/completions");
  }
}

TEST_CASE("a service allowed for one group, through an intercepted CONNECT", "[e2e][identity]") {
  IdentityBench& b = bench();
  GatewayFixture& gw = b.gw;
  INFO(gw.where_to_look());
  const std::string url = "https://claude.e2e.test/v1/messages";
  auto m = gw.mark();
  // an.nguyen is in group legal, which may use the unapproved service: the tunnel is intercepted
  // and the request goes on to the service's upstream.
  auto legal = via_proxy(gw, url, "an.nguyen:đúng-mật-khẩu", gw.certs().org_ca_crt.string());
  CHECK(legal.status == 200);
  CHECK(legal.tls_issuer.find("promptwall") != std::string::npos);
  // binh.tran's groups do not allow it: the CONNECT itself is refused.
  auto other = via_proxy(gw, url, "binh.tran:pw-binh", gw.certs().org_ca_crt.string());
  CHECK(other.status == 403);
  auto events = gw.decisions_since(m, 2);
  REQUIRE(events.size() == 2);
  CHECK(events[0]["user"] == "an.nguyen");
  CHECK(events[0]["service"] == "claude");
  CHECK(events[0]["forwarded"] == true);
  CHECK(events[1]["user"] == "binh.tran");
  CHECK(events[1]["reason"] == "unapproved_service");
  CHECK(gw.forwarded_since(m).size() == 1);
}

TEST_CASE("policy by unit and group", "[e2e][identity]") {
  GatewayFixture& gw = bench().gw;
  INFO(gw.where_to_look());

  SECTION("a unit in monitor forwards what another unit's request is blocked for") {
    auto m = gw.mark();
    auto monitored = post_from(kVanPhong, "/openai/v1/chat/completions", chat_body(kSecretLine));
    CHECK(monitored.status == 200);
    CHECK(monitored.header("X-Promptwall-Mode") == "monitor");
    auto blocked = post_from(kPhapChe, "/openai/v1/chat/completions", chat_body(kSecretLine));
    CHECK(blocked.status == 403);
    auto events = gw.decisions_since(m, 2);
    REQUIRE(events.size() == 2);
    CHECK(events[0]["unit"] == "van-phong");
    CHECK(events[0]["mode"] == "monitor");
    CHECK(events[0]["forwarded"] == true);
    CHECK(events[1]["unit"] == "phap-che");
    CHECK(events[1]["decision"] == "block");
    CHECK(events[1]["forwarded"] == false);
    CHECK(gw.forwarded_since(m).size() == 1);
    CHECK(gw.log_eventually_contains(" @phap-che openai POST /openai/v1/chat/completions -> 403 block"));
  }
  SECTION("a scoped pack fires only for the unit that names it") {
    auto m = gw.mark();
    auto legal = post_from(kPhapChe, "/openai/v1/chat/completions", chat_body(kCaseFile));
    CHECK(legal.status == 403);
    CHECK(legal.header("X-Promptwall-Rules") == "legal.case-file");
    auto office = post_from(kVanPhong, "/openai/v1/chat/completions", chat_body(kCaseFile));
    CHECK(office.status == 200);
    CHECK(office.header("X-Promptwall-Decision") == "allow");
    auto events = gw.decisions_since(m, 2);
    REQUIRE(events.size() == 2);
    REQUIRE(events[0]["findings"].size() == 1);
    CHECK(events[0]["findings"][0]["rule"] == "legal.case-file");
    CHECK(events[1]["findings"].empty());
  }
  SECTION("a service allowed for one group is refused for another") {
    auto m = gw.mark();
    auto legal = post_from("127.0.0.1", "/claude/v1/messages", claude_body(),
                           {"X-Forwarded-User: an.nguyen", "X-Forwarded-Groups: legal"});
    CHECK(legal.status == 200);
    auto plain = post_from("127.0.0.1", "/claude/v1/messages", claude_body(), {"X-Forwarded-User: binh.tran"});
    CHECK(plain.status == 403);  // not approved, and binh's group does not allow it
    auto interns = post_from("127.0.0.1", gemini_path(), gemini_body(kClean),
                             {"X-Forwarded-User: binh.tran", "X-Forwarded-Groups: interns"});
    CHECK(interns.status == 403);
    const std::string message = interns.json_body()["error"]["message"].get<std::string>();
    CHECK(contains(message, "nhóm \"interns\""));
    CHECK(contains(message, "the group \"interns\""));
    auto events = gw.decisions_since(m, 3);
    REQUIRE(events.size() == 3);
    CHECK(events[0]["user"] == "an.nguyen");
    CHECK(events[0]["groups"] == json::array({"legal"}));
    CHECK(events[0]["service"] == "claude");
    CHECK(events[0]["forwarded"] == true);
    CHECK(events[1]["reason"] == "unapproved_service");
    CHECK(events[2]["reason"] == "unapproved_service");
    CHECK(events[2]["user"] == "binh.tran");
    CHECK(gw.forwarded_since(m).size() == 1);
  }
  SECTION("identity headers from an untrusted address are ignored, and never forwarded") {
    auto m = gw.mark();
    const std::vector<std::string> forged = {"X-Forwarded-User: an.nguyen", "X-Forwarded-Groups: legal",
                                             "X-Forwarded-Unit: bogus"};
    auto refused = post_from(kVanPhong, "/claude/v1/messages", claude_body(), forged);
    CHECK(refused.status == 403);  // the forged group would have allowed it
    auto r = post_from(kVanPhong, gemini_path(), gemini_body(kClean), forged);
    REQUIRE(r.status == 200);
    auto trusted = post_from("127.0.0.1", gemini_path(), gemini_body(kClean), {"X-Forwarded-User: an.nguyen"});
    REQUIRE(trusted.status == 200);
    auto forwarded = gw.forwarded_since(m);
    REQUIRE(forwarded.size() == 2);
    for (const auto& record : forwarded) {
      CHECK_FALSE(record["headers"].contains("x-forwarded-user"));
      CHECK_FALSE(record["headers"].contains("x-forwarded-groups"));
      CHECK_FALSE(record["headers"].contains("x-forwarded-unit"));
    }
    auto events = gw.decisions_since(m, 3);
    REQUIRE(events.size() == 3);
    CHECK(events[1]["user"] == "");
    CHECK(events[1]["unit"] == "van-phong");
    CHECK(events[2]["user"] == "an.nguyen");
    CHECK(events[2]["unit"] == "phap-che");
  }
}

TEST_CASE("SIGHUP reloads the users file, a broken one keeps the old", "[e2e][identity]") {
  IdentityBench b;
  GatewayFixture& gw = b.gw;
  INFO(gw.where_to_look());
  const std::string url = "http://api.openai.com/v1/chat/completions";
  auto wait_for_log = [&](const std::string& text, size_t occurrences) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      const std::string log = gw.log();
      size_t count = 0;
      for (size_t at = 0; (at = log.find(text, at)) != std::string::npos; at += text.size()) ++count;
      if (count >= occurrences) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  };
  CHECK(via_proxy_of(gw, url, "chi.le:pw-chi") == 407);
  write_text(b.files.path() / "users", read_text(b.files.path() / "users") + "chi.le:" + bcrypt("pw-chi") + "\n");
  gw.process().signal(SIGHUP);
  REQUIRE(wait_for_log("identity files reloaded", 1));
  CHECK(via_proxy_of(gw, url, "chi.le:pw-chi") == 200);

  write_text(b.files.path() / "users", "chi.le:not-a-hash\n");
  gw.process().signal(SIGHUP);
  REQUIRE(wait_for_log("identity files not reloaded", 1));
  CHECK(contains(gw.log(), (b.files.path() / "users").string() + ":1: the hash of 'chi.le'"));
  CHECK(via_proxy_of(gw, url, "chi.le:pw-chi") == 200);  // still the old file
}
