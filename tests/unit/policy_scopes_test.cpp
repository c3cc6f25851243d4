// Policy by unit and group: layers after the service's, scoped packs, services per scope, and the
// configuration that names them.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <crypt.h>

#include <filesystem>
#include <fstream>

#include "classifiers/scanner.h"
#include "gateway/adapters/request_inspector.h"
#include "gateway/config/config.h"
#include "gateway/identity/policy_scopes.h"
#include "../support/temp_dir.h"
#include "test_support.h"

namespace promptwall::gateway {
namespace {

namespace fs = std::filesystem;

std::string pack_yaml(const std::string& name, const std::string& id, const std::string& word, const std::string& action) {
  return "pack: " + name + "\nversion: '1'\nrules:\n  - id: " + id +
         "\n    description: d\n    category: custom_term\n    severity: high\n    action: " + action +
         "\n    message: {vi: 'Thông báo', en: 'Message'}\n    patterns: ['" + word + "']\n"
         "    examples: {match: ['" + word + "'], ignore: ['y']}\n";
}

std::shared_ptr<const RuleSet> two_packs() {
  std::vector<RulePack> packs;
  for (const auto& [name, yaml] : {std::pair{"base", pack_yaml("base", "base.codeword", "codeword", "warn")},
                                   std::pair{"strict-legal", pack_yaml("strict-legal", "legal.case-file", "hosovuan", "block")}}) {
    LoadedPack loaded = PackLoader::load_text(std::string(name) + ".yaml", yaml);
    REQUIRE(loaded.pack);
    packs.push_back(*loaded.pack);
  }
  auto compiled = RuleSetCompiler(test::shared_normalizer()).compile(std::move(packs));
  for (const auto& d : compiled.diagnostics) UNSCOPED_INFO(to_string(d));
  REQUIRE(compiled.ruleset);
  return compiled.ruleset;
}

Identity member(std::string unit, std::vector<std::string> groups = {}) {
  Identity id;
  id.user = "someone";
  id.unit = std::move(unit);
  id.groups = std::move(groups);
  id.source = Identity::Source::trusted_header;
  return id;
}

ScopedPolicy office_scopes() {
  ScopedPolicy s;
  s.units["van-phong"].layer.mode = Mode::monitor;
  s.units["phap-che"].packs = {"strict-legal"};
  s.units["phap-che"].layer.floor = Action::warn;
  s.groups["legal"].allow_services = {"claude"};
  s.groups["legal"].layer.overrides = {{"base.codeword", Action::redact}};
  s.groups["interns"].deny_services = {"gemini"};
  s.groups["interns"].layer.overrides = {{"base.codeword", Action::block}};
  return s;
}

Service service(std::string name, bool approved) {
  Service s;
  s.name = std::move(name);
  s.approved = approved;
  s.schema = Schema::text;
  return s;
}

// The decision for `body` sent by `who` to a text service, with the office's scopes.
Inspection inspect_as(const Identity& who, const std::string& body, const std::shared_ptr<const RuleSet>& rules) {
  static const PolicyScopes scopes(office_scopes(), {"/etc/promptwall/packs/strict-legal.yaml"});
  static const RequestInspector inspector(InspectorLimits{});
  static const PolicyLayer global{Mode::enforce, {}, {}, {}};
  const Service svc = service("openai", true);
  Scanner scanner(rules);
  const std::vector<const PolicyLayer*> base{&global};
  const auto layers = scopes.layers_for(who);
  const auto hidden = scopes.hidden_packs(who);
  InspectionRequest in{&svc, "/v1/x", "text/plain", "", body};
  in.scope_layers = layers;
  in.hidden_packs = hidden;
  return inspector.inspect(in, scanner, base, "req-1");
}

std::string error_of(const std::string& yaml, const fs::path& base) {
  try {
    parse_gateway_config(yaml, "test.yaml", base);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("scope layers come after the service's: unit, then each group", "[scopes]") {
  const PolicyScopes scopes(office_scopes(), {});
  const auto layers = scopes.layers_for(member("phap-che", {"interns", "legal"}));
  REQUIRE(layers.size() == 3);
  CHECK(layers[0]->floor == Action::warn);
  CHECK(layers[1]->overrides.at("base.codeword") == Action::block);
  CHECK(layers[2]->overrides.at("base.codeword") == Action::redact);
  CHECK(scopes.layers_for(member("")).empty());
  CHECK(scopes.layers_for(member("unknown-unit", {"unknown-group"})).empty());
}

TEST_CASE("a unit in monitor forwards what an enforcing unit blocks", "[scopes]") {
  auto rules = test::builtin_ruleset();
  const std::string secret = "Độ mật: TUYỆT MẬT";  // vn.secret.degree-field, block
  Inspection enforced = inspect_as(member("phap-che"), secret, rules);
  CHECK(enforced.outcome == Inspection::Outcome::refuse);
  CHECK(enforced.decision.mode == Mode::enforce);
  Inspection monitored = inspect_as(member("van-phong"), secret, rules);
  CHECK(monitored.outcome == Inspection::Outcome::forward);
  CHECK(monitored.decision.mode == Mode::monitor);
  CHECK(monitored.decision.verdict == Verdict::block);  // decided and recorded, not acted on
}

TEST_CASE("a scoped pack counts only for the scopes that name it", "[scopes]") {
  auto rules = two_packs();
  Inspection legal = inspect_as(member("phap-che"), "xem hosovuan so 7", rules);
  REQUIRE(legal.findings.size() == 1);
  CHECK(legal.findings[0].finding.rule_id == "legal.case-file");
  CHECK(legal.outcome == Inspection::Outcome::refuse);
  Inspection office = inspect_as(member("van-phong"), "xem hosovuan so 7", rules);
  CHECK(office.findings.empty());
  CHECK(office.outcome == Inspection::Outcome::forward);
  Inspection nobody = inspect_as(Identity{}, "xem hosovuan so 7", rules);
  CHECK(nobody.findings.empty());
  // Unscoped packs count for everyone, adjusted by each requester's groups.
  CHECK(inspect_as(member("", {"legal"}), "the codeword", rules).outcome == Inspection::Outcome::forward_rewritten);
  CHECK(inspect_as(member("", {"interns"}), "the codeword", rules).outcome == Inspection::Outcome::refuse);
  CHECK(inspect_as(member(""), "the codeword", rules).decision.verdict == Verdict::warn);
}

TEST_CASE("services per scope: allow an unapproved one, deny an approved one, deny wins", "[scopes]") {
  const PolicyScopes scopes(office_scopes(), {});
  const Service claude = service("claude", false), gemini = service("gemini", true), openai = service("openai", true);
  CHECK(scopes.access(claude, member("", {"legal"})).allowed);
  CHECK_FALSE(scopes.access(claude, member("phap-che")).allowed);
  CHECK(scopes.access(claude, member("phap-che")).scope_kind.empty());  // simply not approved
  CHECK(scopes.access(gemini, member("", {"legal"})).allowed);
  ServiceAccess denied = scopes.access(gemini, member("", {"interns", "legal"}));
  CHECK_FALSE(denied.allowed);
  CHECK(denied.scope_kind == "group");
  CHECK(denied.scope_name == "interns");
  CHECK(scopes.access(openai, member("", {"interns"})).allowed);

  ScopedPolicy both = office_scopes();
  both.groups["legal"].deny_services = {"claude"};
  both.units["phap-che"].allow_services = {"claude"};
  const PolicyScopes strict(both, {});
  ServiceAccess a = strict.access(claude, member("phap-che", {"legal"}));
  CHECK_FALSE(a.allowed);
  CHECK(a.scope_name == "legal");
}

TEST_CASE("identity and scope configuration: names must exist, errors carry file:line", "[scopes][config]") {
  const promptwall::test::TempDir scratch;
  const fs::path& dir = scratch.path();
  std::ofstream(dir / "groups") << "legal: an.nguyen\ninterns: binh\n";
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  REQUIRE(crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof salt));
  crypt_data data{};
  std::ofstream(dir / "users") << "an.nguyen:" << crypt_r("pw", salt, &data) << "\n";
  const std::string head = "listen: {proxy: 127.0.0.1:3128}\n"
                           "services:\n"
                           "  - {name: claude, hosts: [claude.ai], upstream: 'https://claude.ai'}\n"
                           "  - {name: deepseek, hosts: [api.deepseek.com], approved: false}\n"
                           "rules: {scoped_packs: [packs/strict-legal.yaml]}\n";
  const std::string identity = "identity:\n"
                               "  users_file: users\n"
                               "  groups_file: groups\n"
                               "  proxy_auth: required\n"
                               "  trusted_header: {user: X-Forwarded-User, from: [127.0.0.1/32, '::1']}\n"
                               "  units: {'10.1.0.0/16': phap-che, '10.2.0.0/16': van-phong}\n"
                               "  user_units: {an.nguyen: phap-che}\n";

  GatewayConfig ok = parse_gateway_config(head + identity +
                                              "policy:\n"
                                              "  units: {van-phong: {mode: monitor}, phap-che: {packs: [strict-legal], floor: warn}}\n"
                                              "  groups: {legal: {services: {allow: [claude]}}, interns: {services: {deny: [claude]}, ceiling: redact}}\n",
                                          "test.yaml", dir);
  CHECK(ok.identity.users_file == dir / "users");
  CHECK(ok.identity.proxy_auth == ProxyAuthMode::required);
  CHECK(ok.identity.realm == "promptwall");
  REQUIRE(ok.identity.trusted_header);
  CHECK(ok.identity.trusted_header->from.size() == 2);
  CHECK(ok.identity.units.size() == 2);
  CHECK(ok.identity.user_units.at("an.nguyen") == "phap-che");
  CHECK(ok.rules.scoped_packs == std::vector<std::string>{(dir / "packs/strict-legal.yaml").string()});
  CHECK(ok.scopes.units.at("van-phong").layer.mode == Mode::monitor);
  CHECK(ok.scopes.units.at("phap-che").packs == std::vector<std::string>{"strict-legal"});
  CHECK(ok.scopes.groups.at("legal").allow_services == std::vector<std::string>{"claude"});
  CHECK(ok.scopes.groups.at("interns").layer.ceiling == Action::redact);

  std::string e = error_of(head + identity +
                               "policy:\n"
                               "  units: {finance: {mode: monitor}}\n"
                               "  groups: {auditors: {packs: [lenient]}}\n"
                               "  mode: enforce\n"
                               "  floor: warn\n"
                               "  overrides: {secret: block}\n",
                           dir);
  CHECK(e.find("test.yaml:14: key `policy.units.finance`: unknown unit 'finance'") != std::string::npos);
  CHECK(e.find("test.yaml:15: key `policy.groups.auditors`: unknown group 'auditors'") != std::string::npos);
  CHECK(e.find("test.yaml:15: key `policy.groups.auditors.packs`: unknown pack 'lenient'") != std::string::npos);

  e = error_of(head + identity + "policy:\n  groups:\n    legal: {services: {allow: [deepseek, nothing]}}\n", dir);
  CHECK(e.find("test.yaml:15: key `policy.groups.legal.services.allow`: service 'deepseek' has no upstream") != std::string::npos);
  CHECK(e.find("unknown service 'nothing'") != std::string::npos);

  e = error_of(head + "identity: {proxy_auth: always, trusted_header: {user: X-User}, units: {'10.1.0.1/16': x}}\n", dir);
  CHECK(e.find("key `identity.proxy_auth`: expected off, optional or required, got 'always'") != std::string::npos);
  CHECK(e.find("key `identity.trusted_header.from`: missing") != std::string::npos);
  CHECK(e.find("bits set past its prefix") != std::string::npos);

  e = error_of(head + "identity: {proxy_auth: optional}\n", dir);
  CHECK(e.find("test.yaml:6: key `identity.users_file`: missing") != std::string::npos);

  std::ofstream(dir / "bad-users") << "# users\nan.nguyen:plaintext\n";
  e = error_of(head + "identity:\n  users_file: bad-users\n", dir);
  CHECK(e.find("test.yaml:7: key `identity.users_file`: " + (dir / "bad-users").string() + ":2: the hash of 'an.nguyen'") !=
        std::string::npos);
}

}  // namespace promptwall::gateway
