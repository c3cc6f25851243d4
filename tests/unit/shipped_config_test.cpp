// The configurations we ship parse as they are: the example (ops/examples/gateway.yaml) and the
// production configuration the package installs (ops/package/promptwall.yaml.in, with the paths
// the build fills in), whose values the unit file and the package scripts rely on. And they cannot
// drift from the embedded default (gateway/config/default.yaml), the one source of the service
// catalog: which hosts are AI services, where they go and how their bodies are read.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "../support/temp_dir.h"
#include "gateway/config/config.h"

using namespace promptwall::gateway;
namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// The packaged template as ops/package/CMakeLists.txt fills it in, with the configuration
// directory in a temporary place holding the admin token the postinst would have made.
GatewayConfig packaged_config() {
  const promptwall::test::TempDir scratch("shipped");
  const fs::path conf_dir = scratch.path();
  std::ofstream(conf_dir / "admin-token") << "0123456789abcdef0123456789abcdef0123456789abcdef\n";
  std::string text = read(fs::path(PROMPTWALL_SOURCE_DIR) / "ops/package/promptwall.yaml.in");
  REQUIRE_FALSE(text.empty());
  // What CMake's configure_file(@ONLY) does to the template.
  auto substitute = [&text](const std::string& variable, const std::string& value) {
    for (size_t at; (at = text.find(variable)) != std::string::npos;) text.replace(at, variable.size(), value);
  };
  substitute("@PROMPTWALL_SYSCONF_DIR@", conf_dir.string());
  substitute("@PROMPTWALL_CONFIG_FILE@", (conf_dir / "promptwall.yaml").string());
  substitute("@PROMPTWALL_DOC_DIR@", "/usr/share/doc/promptwall");
  CHECK(text.find('@') == std::string::npos);
  return parse_gateway_config(text, "promptwall.yaml", conf_dir);
}

GatewayConfig embedded_default() {
  return parse_gateway_config(default_gateway_config_yaml(), "<embedded default>", "/");
}

// A service as the catalog sees it: what makes a host an AI service, where its requests go and how
// their bodies are read. `unparseable` and `policy` are left out: an installation's policy, which
// the example shows off on purpose.
std::string catalog_entry(const Service& s) {
  std::string out = "prefix=" + (s.prefix.empty() ? std::string("-") : s.prefix) + " hosts=";
  for (const auto& h : s.hosts) out += h + ",";
  out += " upstream=";
  if (s.upstream)
    out += std::string(s.upstream->tls ? "https://" : "http://") + s.upstream->host + ":" +
           std::to_string(s.upstream->port) + s.upstream->base_path;
  else
    out += "-";
  out += " schema=" + std::string(to_string(s.schema));
  out += s.approved ? " approved" : " refused";
  out += s.inspect ? " inspected" : " untouched";
  return out;
}

std::map<std::string, std::string> catalog_of(const GatewayConfig& c) {
  std::map<std::string, std::string> out;
  for (const Service& s : c.services) out.emplace(s.name, catalog_entry(s));
  return out;
}

}  // namespace

TEST_CASE("the example configuration names two proxies for the PAC", "[config][pac]") {
  auto c = load_gateway_config(fs::path(PROMPTWALL_SOURCE_DIR) / "ops/examples/gateway.yaml");
  REQUIRE(c.pac.proxies.size() == 2);
  CHECK(c.pac.proxies[0].to_string() == "proxy1.office.vn:3128");
  CHECK(c.pac.proxies[1].to_string() == "proxy2.office.vn:3128");
}

TEST_CASE("the production configuration the package installs parses, on loopback, state in /var/lib", "[config]") {
  GatewayConfig c = packaged_config();
  // Nothing is exposed until the administrator opens it.
  CHECK(c.gateway_listen->to_string() == "127.0.0.1:8080");
  CHECK(c.proxy_listen->to_string() == "127.0.0.1:3128");
  CHECK(c.admin.listen->to_string() == "127.0.0.1:9090");
  CHECK(c.admin.token.size() == 48);
  // The only writable places the unit grants: StateDirectory= and CacheDirectory=.
  CHECK(c.audit.dir == fs::path("/var/lib/promptwall/audit"));
  CHECK(c.audit.signing_key == fs::path("/var/lib/promptwall/audit-signing.pem"));
  CHECK(c.audit.evidence_key == fs::path("/var/lib/promptwall/audit-evidence.key"));
  CHECK(c.rules.cache_dir == "/var/cache/promptwall");
  // No CA configured: the default place, or CONNECT to AI hosts refused (never let through).
  CHECK(c.tls.ca_cert.empty());
  CHECK(c.policy.mode == promptwall::Mode::enforce);
  CHECK(c.services.size() == 21);  // the catalog, and last the unlisted-AI list as one unapproved service
  CHECK(c.services.back().name == kUnlistedAiService);
  CHECK_FALSE(c.services.back().approved);
}

TEST_CASE("the packaged and example configurations list the same services, hosts, upstreams and schemas as the embedded default",
          "[config][catalog]") {
  const auto reference = catalog_of(embedded_default());
  REQUIRE(reference.size() >= 10);
  const auto packaged = catalog_of(packaged_config());
  const auto example = catalog_of(load_gateway_config(fs::path(PROMPTWALL_SOURCE_DIR) / "ops/examples/gateway.yaml"));
  for (const auto& [name, entry] : reference) {
    INFO("service '" << name << "' (gateway/config/default.yaml is the reference)");
    CHECK(packaged.contains(name));
    if (packaged.contains(name)) CHECK(packaged.at(name) == entry);
    CHECK(example.contains(name));
    if (example.contains(name)) CHECK(example.at(name) == entry);
  }
  // The packaged configuration is the default's catalog exactly: an AI service added there alone
  // would be one more copy to drift.
  for (const auto& [name, entry] : packaged) {
    INFO("service '" << name << "' is in ops/package/promptwall.yaml.in but not in gateway/config/default.yaml");
    CHECK(reference.contains(name));
  }
  // The example may add only its illustrations of keys the default does not use.
  const std::set<std::string> illustrations{"local-llm", "company-intranet"};
  for (const auto& [name, entry] : example) {
    INFO("service '" << name << "' is in ops/examples/gateway.yaml but not in gateway/config/default.yaml");
    CHECK((reference.contains(name) || illustrations.contains(name)));
  }
}

TEST_CASE("docs/configuration.md's table of the embedded default matches it", "[config][catalog]") {
  // The rows under "## The embedded default": | name | prefix | hosts | upstream | schema | approved |
  const std::string doc = read(fs::path(PROMPTWALL_SOURCE_DIR) / "docs/configuration.md");
  const size_t section = doc.find("## The embedded default");
  REQUIRE(section != std::string::npos);
  std::istringstream lines(doc.substr(section, doc.find("\n## ", section + 1) - section));
  auto trim = [](std::string s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '`')) s.erase(0, 1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '`')) s.pop_back();
    return s;
  };
  std::map<std::string, std::string> documented;
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("| ") || line.starts_with("| name") || line.starts_with("| ---")) continue;
    std::vector<std::string> cells;
    for (size_t at = 1, bar; (bar = line.find('|', at)) != std::string::npos; at = bar + 1)
      cells.push_back(trim(line.substr(at, bar - at)));
    REQUIRE(cells.size() == 6);
    std::string upstream = cells[3].substr(0, cells[3].find(' '));
    documented[cells[0]] = "prefix=" + (cells[1] == "—" ? "-" : cells[1]) + " hosts=" + cells[2] +
                           " upstream=" + (upstream == "—" ? "-" : upstream) + " schema=" + cells[4] +
                           (cells[5] == "yes" ? " approved" : " refused");
  }
  std::map<std::string, std::string> expected;
  for (const Service& s : embedded_default().services) {
    std::string hosts;
    for (const auto& h : s.hosts) hosts += (hosts.empty() ? "" : ", ") + h;
    expected[s.name] = "prefix=" + (s.prefix.empty() ? std::string("-") : s.prefix) + " hosts=" + hosts +
                       " upstream=" + (s.upstream ? "https://" + s.upstream->host : std::string("-")) +
                       " schema=" + std::string(to_string(s.schema)) + (s.approved ? " approved" : " refused");
  }
  for (const auto& [name, entry] : expected) {
    INFO("service '" << name << "' of gateway/config/default.yaml, in docs/configuration.md's table");
    CHECK(documented[name] == entry);
  }
  CHECK(documented.size() == expected.size());
}
