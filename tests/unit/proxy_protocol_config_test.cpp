// gateway/config: `listen.proxy_protocol` (which listeners take a PROXY header, and from whom).
#include <catch2/catch.hpp>

#include <string>

#include "gateway/config/config.h"

namespace promptwall::gateway {
namespace {

GatewayConfig parse(const std::string& yaml) { return parse_gateway_config(yaml, "test.yaml", "/base"); }

std::string error_of(const std::string& yaml) {
  try {
    parse(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("config: listen.proxy_protocol names listeners and the balancers believed", "[config][proxy_protocol]") {
  const auto c = parse(
      "listen:\n"
      "  proxy_protocol:\n"
      "    listeners: [gateway, admin]\n"
      "    from: [10.0.0.0/8, \"2001:db8::/32\", 192.168.1.5]\n"
      "  gateway: 0.0.0.0:8080\n"
      "  proxy: 0.0.0.0:3128\n");
  CHECK(c.proxy_protocol.gateway);
  CHECK(c.proxy_protocol.admin);  // the default admin listener counts
  CHECK_FALSE(c.proxy_protocol.proxy);
  CHECK_FALSE(c.proxy_protocol.transparent);
  REQUIRE(c.proxy_protocol.from.size() == 3);
  CHECK(c.proxy_protocol.from[0].contains(*IpAddress::parse("10.20.30.40")));
  CHECK_FALSE(c.proxy_protocol.from[0].contains(*IpAddress::parse("11.0.0.1")));
  CHECK(c.proxy_protocol.from[2].contains(*IpAddress::parse("192.168.1.5")));
}

TEST_CASE("config: no proxy_protocol, no header read anywhere", "[config][proxy_protocol]") {
  const auto c = parse("listen: {gateway: 127.0.0.1:8080}\n");
  CHECK_FALSE(c.proxy_protocol.any());
  CHECK(c.proxy_protocol.from.empty());
}

TEST_CASE("config: listen.proxy_protocol mistakes are errors with their line", "[config][proxy_protocol]") {
  // Listeners without `from`: every peer would be a direct client, silently. Refused.
  CHECK_THAT(error_of("listen:\n  gateway: 127.0.0.1:8080\n  proxy_protocol:\n    listeners: [gateway]\n"),
             Catch::Contains("test.yaml:4:") && Catch::Contains("listen.proxy_protocol.from") &&
                 Catch::Contains("missing"));
  CHECK_THAT(error_of("listen:\n  gateway: 127.0.0.1:8080\n  proxy_protocol:\n    listeners: [gateway]\n    from: []\n"),
             Catch::Contains("at least one address block"));
  CHECK_THAT(error_of("listen:\n  gateway: 127.0.0.1:8080\n  proxy_protocol:\n    listeners: [gatway]\n    from: [10.0.0.0/8]\n"),
             Catch::Contains("test.yaml:4:") && Catch::Contains("unknown listener 'gatway'"));
  CHECK_THAT(error_of("listen:\n  gateway: 127.0.0.1:8080\n  proxy_protocol:\n    listeners: [proxy]\n    from: [10.0.0.0/8]\n"),
             Catch::Contains("no `listen.proxy`"));
  CHECK_THAT(error_of("listen:\n  gateway: 127.0.0.1:8080\n  admin: off\n  proxy_protocol:\n    listeners: [admin]\n"
                      "    from: [10.0.0.0/8]\n"),
             Catch::Contains("no `listen.admin`"));
  CHECK_THAT(error_of("listen:\n  gateway: 127.0.0.1:8080\n  proxy_protocol:\n    listeners: [gateway]\n    from: [10.0.0.1/8]\n"),
             Catch::Contains("test.yaml:5:") && Catch::Contains("address block"));
  CHECK_THAT(error_of("listen:\n  gateway: 127.0.0.1:8080\n  proxy_protocol:\n    from: [10.0.0.0/8]\n"),
             Catch::Contains("listen.proxy_protocol.listeners") && Catch::Contains("missing"));
  CHECK_THAT(error_of("listen:\n  gateway: 127.0.0.1:8080\n  proxy_protocol:\n    listeners: [gateway, gateway]\n"
                      "    from: [10.0.0.0/8]\n"),
             Catch::Contains("named twice"));
  CHECK_THAT(error_of("listen:\n  gateway: 127.0.0.1:8080\n  proxy_protocol:\n    listeners: [gateway]\n"
                      "    from: [10.0.0.0/8]\n    trust: all\n"),
             Catch::Contains("trust"));
}

}  // namespace promptwall::gateway
