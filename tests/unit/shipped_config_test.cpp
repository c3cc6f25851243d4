// The configurations we ship parse as they are: the example (ops/examples/gateway.yaml) and the
// production configuration the package installs (ops/package/promptwall.yaml.in, with the paths
// the build fills in), whose values the unit file and the package scripts rely on.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

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

}  // namespace

TEST_CASE("the example configuration names two proxies for the PAC", "[config][pac]") {
  auto c = load_gateway_config(fs::path(PROMPTWALL_SOURCE_DIR) / "ops/examples/gateway.yaml");
  REQUIRE(c.pac.proxies.size() == 2);
  CHECK(c.pac.proxies[0].to_string() == "proxy1.office.vn:3128");
  CHECK(c.pac.proxies[1].to_string() == "proxy2.office.vn:3128");
}

TEST_CASE("the production configuration the package installs parses, on loopback, state in /var/lib", "[config]") {
  // As ops/package/CMakeLists.txt fills it in, with the configuration directory in a temporary
  // place holding the admin token the postinst would have made.
  const fs::path conf_dir = fs::temp_directory_path() / ("promptwall-shipped-" + std::to_string(::getpid()));
  fs::create_directories(conf_dir);
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

  GatewayConfig c = parse_gateway_config(text, "promptwall.yaml", conf_dir);
  fs::remove_all(conf_dir);
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
  CHECK(c.services.size() == 10);
}
