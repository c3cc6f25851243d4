// Where the forward proxy may not be made to connect (catalog/destination_guard.h), and which AI
// service an address belongs to (catalog/ai_address_map.h): the SSRF spellings of issue 12, each
// read by the one host parser and refused; the address snapshot a CONNECT to an IP and a redirected
// TLS connection without a name are judged by.
#include <catch2/catch.hpp>

#include <string>

#include "gateway/catalog/ai_address_map.h"
#include "gateway/catalog/destination_guard.h"
#include "gateway/catalog/host_name.h"
#include "gateway/catalog/transparent_route.h"

namespace promptwall::gateway {
namespace {

IpAddress ip(std::string_view text) { return *IpAddress::parse(text); }

DestinationGuard office_guard() {
  std::string why;
  return DestinationGuard({*IpNetwork::parse("10.20.0.0/16", &why)},
                          {{ip("10.1.1.1"), 3128}, {std::nullopt, 9090}, {ip("127.0.0.1"), 8080}},
                          {ip("10.1.1.1"), ip("192.0.2.7"), ip("127.0.0.1")});
}

// The CONNECT target as the proxy reads it, judged by the guard: the reason, or "" when allowed.
std::string judge(const DestinationGuard& guard, std::string_view authority) {
  auto parsed = parse_authority(authority, 443);
  REQUIRE(parsed);
  return guard.forbidden_host(parsed->host, parsed->port).value_or("");
}

}  // namespace

TEST_CASE("SSRF: every spelling of loopback, unspecified and link-local is refused", "[destination_guard]") {
  const DestinationGuard guard = office_guard();
  const char* forbidden[] = {
      "127.0.0.1:9090", "127.1:9090",      "2130706433:9090", "0x7f.0.0.1:9090", "0177.0.0.1:9090",
      "127.0.0.2:80",   "localhost:9090",  "LOCALHOST.:9090", "a.localhost:443", "[::1]:9090",
      "[::ffff:127.0.0.1]:9090", "[::ffff:7f00:1]:443", "[::]:9090", "0.0.0.0:9090", "0:9090",
      "169.254.169.254:80", "[fe80::1]:443", "[::127.0.0.1]:443", "0x7f000001:443",
  };
  for (const char* target : forbidden) {
    INFO(target);
    CHECK_FALSE(judge(guard, target).empty());
  }
  CHECK(judge(guard, "127.1:9090") == "127.0.0.1 is a loopback address");
  CHECK(judge(guard, "169.254.169.254:80").find("link-local") != std::string::npos);
  // Ordinary destinations pass (names are judged again once resolved).
  for (const char* target : {"www.example.com:443", "93.184.216.34:443", "[2606:2800:220:1::1]:443", "10.1.1.1:443",
                             "192.0.2.7:443", "localhost.example.com:443", "10.21.0.1:443"}) {
    INFO(target);
    CHECK(judge(guard, target).empty());
  }
}

TEST_CASE("SSRF: the gateway's own listeners and the configured internal networks", "[destination_guard]") {
  const DestinationGuard guard = office_guard();
  // A listener on a specific address: that address and port.
  CHECK(judge(guard, "10.1.1.1:3128") == "10.1.1.1:3128 is one of the gateway's own listeners");
  CHECK(judge(guard, "10.1.1.1:443").empty());
  // A listener on every address: its port on any of this host's addresses.
  CHECK_FALSE(judge(guard, "192.0.2.7:9090").empty());
  CHECK_FALSE(judge(guard, "10.1.1.1:9090").empty());
  CHECK(judge(guard, "192.0.2.8:9090").empty());  // another machine
  // forbidden_networks
  CHECK(judge(guard, "10.20.3.4:443") == "10.20.3.4 is in destinations.forbidden_networks (10.20.0.0/16)");
  // What a name resolved to is judged the same way.
  CHECK(guard.forbidden_address(ip("127.0.0.53"), 53));
  CHECK(guard.forbidden_address(ip("::ffff:169.254.169.254"), 80));
  CHECK_FALSE(guard.forbidden_address(ip("198.51.100.1"), 443));
  // With nothing configured only the special-use blocks are refused.
  const DestinationGuard bare;
  CHECK(bare.forbidden_address(ip("::1"), 1));
  CHECK_FALSE(bare.forbidden_address(ip("10.20.3.4"), 443));
}

namespace {

ServiceCatalog address_catalog() {
  std::vector<Service> services(4);
  services[0].name = "chatgpt-web";
  services[0].hosts = {"chatgpt.com", "*.oaiusercontent.com"};
  services[0].upstream = UpstreamTarget{true, "chatgpt.com", 443, ""};
  services[1].name = "deepseek";
  services[1].hosts = {"chat.deepseek.com", "203.0.113.9"};
  services[1].approved = false;
  services[2].name = "intranet";
  services[2].hosts = {"wiki.example.vn"};
  services[2].upstream = UpstreamTarget{true, "wiki.example.vn", 443, ""};
  services[2].inspect = false;
  services[3].name = "claude-web";
  services[3].hosts = {"claude.ai"};
  services[3].upstream = UpstreamTarget{true, "claude.ai", 443, ""};
  return ServiceCatalog(std::move(services));
}

}  // namespace

TEST_CASE("AI addresses: the catalog's inspected and unapproved hosts, resolved, name their service", "[ai_addresses]") {
  const ServiceCatalog catalog = address_catalog();
  std::vector<std::string> names;
  for (const auto& host : AiAddressMap::hosts_to_resolve(catalog)) names.push_back(host.name);
  // Wildcards by their base name; a non-inspected approved service is not an AI service.
  CHECK(names == std::vector<std::string>{"chatgpt.com", "oaiusercontent.com", "chat.deepseek.com", "203.0.113.9", "claude.ai"});

  const AiAddressMap map = AiAddressMap::build(
      catalog, {{"chatgpt.com", {ip("198.51.100.10"), ip("2001:db8::10")}},
                {"chat.deepseek.com", {ip("198.51.100.20")}},
                {"claude.ai", {ip("198.51.100.10"), ip("198.51.100.30")}},  // shares a CDN address with chatgpt.com
                {"wiki.example.vn", {ip("198.51.100.40")}}});
  REQUIRE(map.service_at(ip("198.51.100.10")));
  CHECK(map.service_at(ip("198.51.100.10"))->name == "chatgpt-web");  // first in catalog order
  CHECK(map.service_at(ip("2001:db8::10"))->name == "chatgpt-web");
  CHECK(map.service_at(ip("::ffff:198.51.100.20"))->name == "deepseek");
  CHECK(map.service_at(ip("198.51.100.30"))->name == "claude-web");
  CHECK(map.service_at(ip("203.0.113.9"))->name == "deepseek");  // a literal counts unresolved
  CHECK_FALSE(map.service_at(ip("198.51.100.40")));                // not an AI service
  CHECK_FALSE(map.service_at(ip("192.0.2.1")));
  CHECK(AiAddressMap().size() == 0);
}

TEST_CASE("transparent TLS naming no host, or hiding it with ECH, to an AI address is refused", "[transparent][ai_addresses]") {
  const ServiceCatalog catalog = address_catalog();
  const Service* chatgpt = catalog.by_host("chatgpt.com");
  using Action = TransparentRoute::Action;
  using Protocol = TransparentRoute::Protocol;
  // No SNI to an AI address: refused, naming the service; to another address: spliced as before.
  auto r = route_transparent(catalog, Protocol::tls, TransparentTarget{"", false, chatgpt}, true);
  CHECK(r.action == Action::refuse);
  CHECK(r.service == chatgpt);
  CHECK(route_transparent(catalog, Protocol::tls, TransparentTarget{"", false, nullptr}, true).action == Action::splice);
  // ECH: the outer SNI is a public name, not the host; the address decides.
  CHECK(route_transparent(catalog, Protocol::tls, TransparentTarget{"cloudflare-ech.com", true, chatgpt}, true).action ==
        Action::refuse);
  CHECK(route_transparent(catalog, Protocol::tls, TransparentTarget{"cloudflare-ech.com", true, nullptr}, true).action ==
        Action::splice);
  // An outer name that is itself an AI host is intercepted as always.
  CHECK(route_transparent(catalog, Protocol::tls, TransparentTarget{"chatgpt.com", true, chatgpt}, true).action ==
        Action::intercept);
  // SNI naming a non-AI host: unchanged, whatever the address.
  CHECK(route_transparent(catalog, Protocol::tls, TransparentTarget{"www.example.com", false, chatgpt}, true).action ==
        Action::splice);
  // `destinations.ai_addresses: tunnel`: spliced.
  CHECK(route_transparent(catalog, Protocol::tls, TransparentTarget{"", false, chatgpt}, true, false).action ==
        Action::splice);
  CHECK(to_string(Action::refuse) == "refuse");
}

TEST_CASE("a host under a service's wildcard goes to itself when the service's hosts are public names", "[catalog]") {
  const ServiceCatalog catalog = address_catalog();
  const Service* chatgpt = catalog.by_host("sdmntprwestus.oaiusercontent.com");
  REQUIRE(chatgpt);
  CHECK(upstream_for_host(*chatgpt, "sdmntprwestus.oaiusercontent.com").host == "sdmntprwestus.oaiusercontent.com");
  CHECK(upstream_for_host(*chatgpt, "chatgpt.com").host == "chatgpt.com");
  CHECK(upstream_for_host(*chatgpt, "oaiusercontent.com").host == "chatgpt.com");  // the bare domain is not under it
}

}  // namespace promptwall::gateway
