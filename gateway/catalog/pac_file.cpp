#include "gateway/catalog/pac_file.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace promptwall::gateway {

namespace {

// A JavaScript string literal: JSON's escaping, every non-ASCII character as \uXXXX (JSON is a
// subset of JavaScript once U+2028/U+2029 are escaped, which ASCII-only output guarantees).
std::string js_string(std::string_view text) {
  return nlohmann::json(std::string(text)).dump(-1, ' ', /*ensure_ascii=*/true);
}

void append_routes(std::string& out, const char* name, const std::vector<std::string>& entries) {
  out += "var ";
  out += name;
  out += " = [";
  for (size_t i = 0; i < entries.size(); ++i) out += (i ? ",\n  " : "\n  ") + entries[i];
  out += entries.empty() ? "];\n" : "\n];\n";
}

bool is_unspecified(const std::string& host) {
  std::array<unsigned char, 16> address{};
  const bool v4 = inet_pton(AF_INET, host.c_str(), address.data()) == 1;
  const bool v6 = !v4 && inet_pton(AF_INET6, host.c_str(), address.data()) == 1;
  return (v4 || v6) && std::all_of(address.begin(), address.end(), [](unsigned char b) { return b == 0; });
}

// "name:9090" → "name", "[::1]:9090" → "[::1]", "name" → "name": the host part of a Host header,
// brackets kept for parse_endpoint().
std::string_view host_part(std::string_view host_header) {
  if (host_header.starts_with('[')) return host_header.substr(0, host_header.find(']') + 1);
  const size_t colon = host_header.find(':');
  return colon == std::string_view::npos || host_header.find(':', colon + 1) != std::string_view::npos
             ? host_header
             : host_header.substr(0, colon);
}

}  // namespace

PacFile::PacFile(const std::vector<Service>& services) {
  for (const auto& service : services) {
    // Unapproved services go through the proxy too: that is where their refusal is.
    const bool through_proxy = service.inspect || !service.approved;
    for (const auto& host : service.hosts) {
      if (host.starts_with("*.")) wildcards_.push_back({host.substr(1), through_proxy});
      else exact_.push_back({host, through_proxy});
    }
  }
  // The longest wildcard wins, as in ServiceCatalog::by_host(): try them longest first.
  std::stable_sort(wildcards_.begin(), wildcards_.end(),
                   [](const HostRoute& a, const HostRoute& b) { return a.host.size() > b.host.size(); });
}

std::string PacFile::render(const std::vector<Endpoint>& proxies) const {
  if (proxies.empty()) throw std::invalid_argument("a PAC file needs at least one proxy");
  std::string directive;
  for (const auto& proxy : proxies) directive += (directive.empty() ? "PROXY " : "; PROXY ") + proxy.to_string();

  auto entries = [](const std::vector<HostRoute>& routes) {
    std::vector<std::string> out;
    for (const auto& r : routes) {
      // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "[" + std::string&&.
      std::string entry = "[";
      entry += js_string(r.host);
      entry += r.through_proxy ? ", true]" : ", false]";
      out.push_back(std::move(entry));
    }
    return out;
  };

  std::string out =
      "// promptwall proxy auto-config, generated from the gateway's service catalog.\n"
      "// Hosts of AI services go through the proxy with no DIRECT fallback: if the proxy is down,\n"
      "// they fail rather than bypass the inspection. Every other host goes DIRECT.\n"
      "var PROXY = " + js_string(directive) + ";\n"
      "// [host, through the proxy?]: exact hosts first, then \"*.x\" wildcards (as \".x\"), longest first.\n";
  append_routes(out, "EXACT", entries(exact_));
  append_routes(out, "WILDCARDS", entries(wildcards_));
  out +=
      "\n"
      "function FindProxyForURL(url, host) {\n"
      "  host = String(host).toLowerCase();\n"
      "  if (host.charAt(host.length - 1) == \".\") host = host.substring(0, host.length - 1);\n"
      "  var i;\n"
      "  for (i = 0; i < EXACT.length; i++)\n"
      "    if (host == EXACT[i][0]) return EXACT[i][1] ? PROXY : \"DIRECT\";\n"
      "  // Plain names (the intranet), IPv4 and IPv6 literals: no wildcard names them.\n"
      "  if (isPlainHostName(host) || /^[0-9.]+$/.test(host) || host.indexOf(\":\") >= 0) return \"DIRECT\";\n"
      "  for (i = 0; i < WILDCARDS.length; i++)\n"
      "    if (dnsDomainIs(host, WILDCARDS[i][0])) return WILDCARDS[i][1] ? PROXY : \"DIRECT\";\n"
      "  return \"DIRECT\";\n"
      "}\n";
  return out;
}

std::optional<std::vector<Endpoint>> pac_proxies(const GatewayConfig& config, std::string_view host_header,
                                                 std::string* error) {
  auto fail = [&](std::string why) -> std::optional<std::vector<Endpoint>> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (!config.pac.proxies.empty()) return config.pac.proxies;
  if (!config.proxy_listen) return fail("no forward proxy to name: set listen.proxy or pac.proxy");
  if (!is_unspecified(config.proxy_listen->host)) return std::vector<Endpoint>{*config.proxy_listen};
  // Listening on every address: the name the browser reached us under is one it can resolve.
  const std::string_view host = host_part(host_header);
  std::string why;
  auto endpoint = parse_endpoint(std::string(host) + ":" + std::to_string(config.proxy_listen->port), &why);
  if (host.empty() || !endpoint)
    return fail("the request's Host header does not name this gateway (" + why +
                "); set pac.proxy to the address browsers should use");
  return std::vector<Endpoint>{std::move(*endpoint)};
}

}  // namespace promptwall::gateway
