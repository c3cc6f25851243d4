// PacFile: the proxy auto-config script (FindProxyForURL) browsers fetch as /proxy.pac or
// /wpad.dat, generated from the service catalog: the hosts the gateway must see go through the
// forward proxy, every other host DIRECT.
//
// Invariants of the script render() returns:
//   - it decides a host exactly as ServiceCatalog::by_host() does (case and one trailing dot
//     ignored, exact host first, then the longest "*.x" wildcard), and sends it through the proxies
//     when that service is inspected or not approved (so its requests reach our refusal), DIRECT
//     otherwise: a non-inspected service's hosts carve holes in an inspected wildcard;
//   - hosts that go through the proxy never fall back to DIRECT: when every proxy is down the
//     browser shows an error rather than reaching an AI service unseen (fail closed);
//   - plain host names and IP literals not listed as exact hosts are DIRECT: no wildcard can
//     name them;
//   - it calls no DNS function (dnsResolve, isInNet on a name, isResolvable, myIpAddress), so a
//     browser never stalls on it;
//   - every configured string enters the script as a JSON string literal, ASCII only, so no host
//     or proxy name can break out of it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/catalog/service.h"
#include "gateway/config/config.h"

namespace promptwall::gateway {

class PacFile {
 public:
  explicit PacFile(const std::vector<Service>& services);

  // The script, with `proxies` ("PROXY host:port", in failover order). Throws std::invalid_argument
  // when `proxies` is empty: a PAC without a proxy would send AI hosts DIRECT.
  std::string render(const std::vector<Endpoint>& proxies) const;

  static constexpr std::string_view kContentType = "application/x-ns-proxy-autoconfig";

 private:
  struct HostRoute {
    std::string host;  // exact: "api.openai.com"; wildcard: its suffix ".openai.com"
    bool through_proxy;
  };
  std::vector<HostRoute> exact_;
  std::vector<HostRoute> wildcards_;  // longest suffix first
};

// The proxies a PAC served by this gateway names: `pac.proxy` when configured; else the forward
// proxy listener when it listens on a specific address; else the host the PAC was requested under
// (`host_header`, "name[:port]" or "[v6][:port]") with the proxy listener's port. nullopt, with the
// reason in `error`, when there is no forward proxy to name or the Host header is not a host.
std::optional<std::vector<Endpoint>> pac_proxies(const GatewayConfig& config, std::string_view host_header,
                                                 std::string* error);

}  // namespace promptwall::gateway
