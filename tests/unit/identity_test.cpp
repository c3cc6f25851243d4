// Identity: the users and groups files, Basic credentials, the CIDR map, trusted headers, the
// verification cache and lockout.
#include <catch2/catch.hpp>

#include <argon2.h>
#include <crypt.h>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "audit/event.h"
#include "gateway/adapters/block_response.h"
#include "gateway/identity/authenticator.h"
#include "gateway/identity/credential_cache.h"
#include "gateway/identity/identity_file.h"
#include "gateway/identity/identity_resolver.h"
#include "gateway/identity/ip_network.h"

namespace promptwall::gateway {
namespace {

std::string bcrypt_hash(const std::string& password, const char* prefix = "$2b$") {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  REQUIRE(crypt_gensalt_rn(prefix, 4, nullptr, 0, salt, sizeof salt) != nullptr);  // cost 4: fast tests
  crypt_data data{};
  const char* out = crypt_r(password.c_str(), salt, &data);
  REQUIRE(out != nullptr);
  REQUIRE(out[0] == '$');
  return out;
}

std::string argon2_hash(const std::string& password, argon2_type type = Argon2_id) {
  const std::string salt = "saltsaltsalt1234";
  char encoded[256];
  const int rc = argon2_hash(1, 1024, 1, password.data(), password.size(), salt.data(), salt.size(), nullptr, 32,
                             encoded, sizeof encoded, type, ARGON2_VERSION_NUMBER);
  REQUIRE(rc == ARGON2_OK);
  return encoded;
}

std::string error_of(auto parse) {
  try {
    parse();
  } catch (const IdentityFileError& e) {
    return e.what();
  }
  return "(no error)";
}

IpAddress ip(std::string_view text) {
  auto a = IpAddress::parse(text);
  REQUIRE(a);
  return *a;
}

IpNetwork net(std::string_view text) {
  std::string why;
  auto n = IpNetwork::parse(text, &why);
  INFO(why);
  REQUIRE(n);
  return *n;
}

std::string basic(std::string_view user_password) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < user_password.size(); i += 3) {
    const uint32_t v = (uint8_t(user_password[i]) << 16) | (uint8_t(user_password[i + 1]) << 8) | uint8_t(user_password[i + 2]);
    for (int s : {18, 12, 6, 0}) out += kAlphabet[(v >> s) & 63];
  }
  if (i + 1 == user_password.size()) {
    const uint32_t v = uint8_t(user_password[i]) << 16;
    out += std::string{kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63]} + "==";
  } else if (i + 2 == user_password.size()) {
    const uint32_t v = (uint8_t(user_password[i]) << 16) | (uint8_t(user_password[i + 1]) << 8);
    out += std::string{kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63]} + "=";
  }
  return out;
}

}  // namespace

TEST_CASE("a users file verifies bcrypt and argon2 hashes", "[identity]") {
  const std::string text = "# proxy users\n\nan.nguyen:" + bcrypt_hash("mật khẩu 1") + "\nbinh:" +
                           bcrypt_hash("pw-2y", "$2y$") + "\r\nchi:" + argon2_hash("argon-pass") + "\ndung:" +
                           argon2_hash("argon-i", Argon2_i) + "\n";
  PasswordFile users = PasswordFile::parse(text, "users.htpasswd");
  CHECK(users.size() == 4);
  CHECK(users.verify("an.nguyen", "mật khẩu 1"));
  CHECK_FALSE(users.verify("an.nguyen", "mật khẩu 2"));
  CHECK_FALSE(users.verify("an.nguyen", ""));
  CHECK(users.verify("binh", "pw-2y"));
  CHECK(users.verify("chi", "argon-pass"));
  CHECK_FALSE(users.verify("chi", "argon-pass "));
  CHECK(users.verify("dung", "argon-i"));
  CHECK_FALSE(users.verify("dung", "argon-pass"));
  // An unknown name fails even with another user's password.
  CHECK_FALSE(users.verify("nobody", "mật khẩu 1"));
  CHECK_FALSE(users.contains("nobody"));
}

TEST_CASE("a users file refuses what it does not understand, naming file and line", "[identity]") {
  const std::string good = bcrypt_hash("x");
  std::string e = error_of([&] { PasswordFile::parse("a:" + good + "\nb:{SHA}abc=\n# ok\nc\nd:$apr1$xyz$abc\n", "u.txt"); });
  CHECK(e.find("u.txt:2: the hash of 'b' is not bcrypt") != std::string::npos);
  CHECK(e.find("u.txt:4: expected `name:hash`") != std::string::npos);
  CHECK(e.find("u.txt:5: the hash of 'd'") != std::string::npos);
  CHECK(e.find("abc") == std::string::npos);  // never quotes a hash
  e = error_of([&] { PasswordFile::parse("a:" + good + "\na:" + good + "\n", "u.txt"); });
  CHECK(e == "u.txt:2: user 'a' is listed twice");
  e = error_of([&] { PasswordFile::parse("an nguyen:" + good + "\n", "u.txt"); });
  CHECK(e.find("u.txt:1: 'an nguyen' is not a valid user name") != std::string::npos);
  // A bcrypt hash cut short is not one.
  e = error_of([&] { PasswordFile::parse("a:" + good.substr(0, 40) + "\n", "u.txt"); });
  CHECK(e.find("u.txt:1:") != std::string::npos);
  CHECK(error_of([] { PasswordFile::load("/nonexistent/users"); }).find("/nonexistent/users: cannot read") == 0);
}

TEST_CASE("a group file lists each user's groups", "[identity]") {
  GroupFile groups = GroupFile::parse("# groups\nlegal: an.nguyen binh\ninterns:  chi\tbinh \n\nempty:\n", "groups");
  CHECK(groups.groups_of("binh") == std::vector<std::string>{"interns", "legal"});
  CHECK(groups.groups_of("an.nguyen") == std::vector<std::string>{"legal"});
  CHECK(groups.groups_of("nobody").empty());
  CHECK(groups.has_group("empty"));
  CHECK_FALSE(groups.has_group("finance"));
  const std::string e = error_of([] { GroupFile::parse("legal: a\nno colon here\nlegal: b\n", "groups"); });
  CHECK(e.find("groups:2: expected `group: user1 user2 ...`") != std::string::npos);
  CHECK(e.find("groups:3: group 'legal' is listed twice") != std::string::npos);
}

TEST_CASE("CIDR blocks: IPv4, IPv6, IPv4-mapped clients, longest prefix", "[identity]") {
  NetworkMap<std::string> units({{net("10.0.0.0/8"), "hq"},
                                 {net("10.1.0.0/16"), "legal"},
                                 {net("10.1.2.0/24"), "legal-archive"},
                                 {net("2001:db8::/32"), "v6-office"},
                                 {net("192.168.5.7"), "one-host"}});
  auto unit = [&](std::string_view a) { const std::string* u = units.find(ip(a)); return u ? *u : std::string("-"); };
  CHECK(unit("10.9.9.9") == "hq");
  CHECK(unit("10.1.200.1") == "legal");
  CHECK(unit("10.1.2.3") == "legal-archive");
  CHECK(unit("::ffff:10.1.2.3") == "legal-archive");  // what a dual-stack socket reports
  CHECK(unit("2001:db8:1::5") == "v6-office");
  CHECK(unit("2001:db9::1") == "-");
  CHECK(unit("192.168.5.7") == "one-host");
  CHECK(unit("192.168.5.8") == "-");
  CHECK(unit("11.0.0.1") == "-");
  CHECK(net("0.0.0.0/0").contains(ip("203.0.113.9")));
  CHECK_FALSE(net("0.0.0.0/0").contains(ip("2001:db8::1")));  // an IPv4 block holds no IPv6 address

  std::string why;
  CHECK_FALSE(IpNetwork::parse("10.1.0.1/16", &why));
  CHECK(why.find("bits set past its prefix") != std::string::npos);
  CHECK_FALSE(IpNetwork::parse("10.1.0.0/33", &why));
  CHECK_FALSE(IpNetwork::parse("2001:db8::/129", &why));
  CHECK_FALSE(IpNetwork::parse("10.1.0.0/", &why));
  CHECK_FALSE(IpNetwork::parse("phap-che/8", &why));
  CHECK(ip("::ffff:10.0.0.1").to_string() == "10.0.0.1");
}

TEST_CASE("Basic credentials are checked against the users file", "[identity]") {
  auto users = std::make_shared<const PasswordFile>(PasswordFile::parse("an:" + bcrypt_hash("s3cret:with colon") + "\n", "u"));
  BasicFileAuthenticator auth(users);
  CHECK(auth.challenge("promptwall \"HQ\"") == "Basic realm=\"promptwall \\\"HQ\\\"\", charset=\"UTF-8\"");
  AuthResult ok = auth.authenticate(basic("an:s3cret:with colon"));
  CHECK(ok.status == AuthResult::Status::ok);
  CHECK(ok.user == "an");
  CHECK(auth.authenticate(basic("an:wrong")).status == AuthResult::Status::bad_credentials);
  CHECK(auth.authenticate(basic("nobody:s3cret:with colon")).status == AuthResult::Status::bad_credentials);
  CHECK(auth.authenticate("not base64!").status == AuthResult::Status::malformed);
  CHECK(auth.authenticate(basic("no-colon")).status == AuthResult::Status::malformed);
  CHECK(auth.claimed_user(basic("an:whatever")) == std::optional<std::string>("an"));

  auto header = parse_authorization("Basic  YW46eA== ");
  REQUIRE(header);
  CHECK(header->scheme == "Basic");
  CHECK(header->credentials == "YW46eA==");
  CHECK_FALSE(parse_authorization("Basic"));
  CHECK_FALSE(parse_authorization(""));
}

TEST_CASE("verified credentials are cached for a while under a keyed hash", "[identity]") {
  AuthClock::time_point now{};
  CredentialCache cache({std::chrono::seconds(300), 2, [&] { return now; }});
  CHECK_FALSE(cache.find("Basic", "YW46eA=="));
  cache.remember("Basic", "YW46eA==", "an");
  CHECK(cache.find("basic", "YW46eA==") == std::optional<std::string>("an"));
  CHECK_FALSE(cache.find("Basic", "YW46eQ=="));
  now += std::chrono::seconds(301);
  CHECK_FALSE(cache.find("Basic", "YW46eA=="));
  cache.remember("Basic", "a", "1");
  now += std::chrono::seconds(1);
  cache.remember("Basic", "b", "2");
  now += std::chrono::seconds(1);
  cache.remember("Basic", "c", "3");  // over max_entries: the oldest goes
  CHECK(cache.find("Basic", "b"));
  CHECK_FALSE(cache.find("Basic", "a"));
  CHECK(cache.find("Basic", "c"));
  cache.clear();
  CHECK_FALSE(cache.find("Basic", "c"));
}

TEST_CASE("a name is locked out after repeated failures, for a while", "[identity]") {
  AuthClock::time_point now{};
  FailureLockout lockout({3, std::chrono::minutes(15), std::chrono::minutes(10), [&] { return now; }});
  CHECK_FALSE(lockout.failed("an"));
  CHECK_FALSE(lockout.failed("an"));
  CHECK_FALSE(lockout.locked("an"));
  CHECK(lockout.failed("an"));
  CHECK(lockout.locked("an"));
  CHECK_FALSE(lockout.locked("binh"));
  lockout.succeeded("an");  // a success does not lift a lockout
  CHECK(lockout.locked("an"));
  now += std::chrono::minutes(11);
  CHECK_FALSE(lockout.locked("an"));
  // Failures spread wider than the window never lock.
  for (int i = 0; i < 5; ++i) {
    CHECK_FALSE(lockout.failed("binh"));
    now += std::chrono::minutes(8);
  }
}

TEST_CASE("identity headers count only from trusted addresses", "[identity]") {
  IdentityConfig config;
  config.trusted_header = TrustedHeaderConfig{"X-Forwarded-User", "X-Forwarded-Groups", "X-Forwarded-Unit", {net("10.0.0.10/32")}};
  config.units = {{net("10.1.0.0/16"), "phap-che"}, {net("10.0.0.0/24"), "it"}};
  config.user_units = {{"an.nguyen", "van-phong"}};
  IdentityResolver resolver(config);
  const GroupFile groups = GroupFile::parse("legal: an.nguyen\n", "groups");

  CHECK(resolver.header_names() == std::vector<std::string>{"X-Forwarded-User", "X-Forwarded-Groups", "X-Forwarded-Unit"});
  CHECK_FALSE(resolver.from_headers(ip("10.1.0.5"), {"mallory", "legal", "phap-che"}, &groups));

  auto trusted = resolver.from_headers(ip("::ffff:10.0.0.10"), {"binh", "interns, legal,legal", ""}, &groups);
  REQUIRE(trusted);
  CHECK(trusted->source == Identity::Source::trusted_header);
  CHECK(trusted->user == "binh");
  CHECK(trusted->groups == std::vector<std::string>{"interns", "legal"});
  CHECK(trusted->unit == "it");  // no unit header: the address's

  // No groups header: the groups file; user_units wins over the address; the unit header over both.
  auto an = resolver.from_headers(ip("10.0.0.10"), {"an.nguyen", "", ""}, &groups);
  REQUIRE(an);
  CHECK(an->groups == std::vector<std::string>{"legal"});
  CHECK(an->unit == "van-phong");
  CHECK(resolver.from_headers(ip("10.0.0.10"), {"an.nguyen", "", "phap-che"}, &groups)->unit == "phap-che");
  CHECK_FALSE(resolver.from_headers(ip("10.0.0.10"), {"", "legal", ""}, &groups));
  CHECK_FALSE(resolver.from_headers(ip("10.0.0.10"), {"two words", "", ""}, &groups));

  Identity by_address = resolver.for_address(ip("10.1.4.4"));
  CHECK(by_address.source == Identity::Source::address);
  CHECK(by_address.unit == "phap-che");
  CHECK(by_address.user.empty());
  CHECK(resolver.for_address(ip("172.16.0.1")).source == Identity::Source::none);

  Identity basic_user = resolver.for_user("an.nguyen", Identity::Source::proxy_basic, ip("10.1.4.4"), &groups);
  CHECK(basic_user.unit == "van-phong");
  CHECK(basic_user.groups == std::vector<std::string>{"legal"});
}

TEST_CASE("identity refusals: 407 for the proxy, a service denied for a group, in both languages", "[identity]") {
  Refusal auth{Refusal::Reason::proxy_auth_required, {}, {}, "", "req-9"};
  CHECK(status_code(auth) == 407);
  CHECK(to_string(auth.reason) == "proxy_auth_required");
  const std::string m = refusal_message(auth);
  CHECK(m.find("đăng nhập proxy") != std::string::npos);
  CHECK(m.find("sign in to the proxy") != std::string::npos);
  CHECK(m.find("req-9") != std::string::npos);
  CHECK(render_refusal(Schema::gemini, false, auth).body.find("UNAUTHENTICATED") != std::string::npos);
  CHECK(render_refusal(Schema::anthropic, false, auth).body.find("authentication_error") != std::string::npos);

  Refusal denied{Refusal::Reason::unapproved_service, {}, {}, "gemini", "req-9"};
  denied.scope_kind = "group";
  denied.scope_name = "interns";
  CHECK(status_code(denied) == 403);
  const std::string d = refusal_message(denied);
  CHECK(d.find("dịch vụ AI \"gemini\" không được phép sử dụng đối với nhóm \"interns\"") != std::string::npos);
  CHECK(d.find("the AI service \"gemini\" is not allowed for the group \"interns\"") != std::string::npos);
  denied.scope_kind = "unit";
  denied.scope_name = "van-phong";
  CHECK(refusal_message(denied).find("the unit \"van-phong\"") != std::string::npos);
  denied.scope_kind.clear();  // simply not approved: the usual wording
  CHECK(refusal_message(denied).find("is not approved by your organisation") != std::string::npos);
}

TEST_CASE("a decision event records the requester's groups when there are any", "[identity][audit]") {
  audit::DecisionEvent e;
  e.event_id = "01JD3K7Z9X4Q8W2M5N6P7R8S9T";
  e.user = "an.nguyen";
  e.unit = "phap-che";
  std::string text = audit::to_json_object(e);
  CHECK(text.find("\"groups\"") == std::string::npos);  // records without groups are as before
  e.groups = {"interns", "legal"};
  text = audit::to_json_object(e);
  CHECK(text.find("\"unit\":\"phap-che\",\"groups\":[\"interns\",\"legal\"]") != std::string::npos);
  const audit::DecisionEvent back = audit::decision_from_json(nlohmann::json::parse(text));
  CHECK(back.groups == e.groups);
  CHECK(back.user == "an.nguyen");
}

}  // namespace promptwall::gateway
