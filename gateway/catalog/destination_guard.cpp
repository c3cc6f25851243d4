#include "gateway/catalog/destination_guard.h"

#include <algorithm>
#include <array>
#include <utility>

namespace promptwall::gateway {
namespace {

struct SpecialBlock {
  const char* cidr;
  const char* what;
};

// IPv4 blocks are matched in their IPv4-mapped form (ip_network.h), so [::ffff:127.0.0.1] is
// loopback too.
constexpr std::array<SpecialBlock, 6> kSpecialBlocks{{
    {"127.0.0.0/8", "a loopback address"},
    {"::1", "a loopback address"},
    {"0.0.0.0/8", "an unspecified (this-host) address"},
    {"::/96", "an unspecified or IPv4-compatible IPv6 address"},
    {"169.254.0.0/16", "a link-local address (cloud metadata services live here)"},
    {"fe80::/10", "a link-local address"},
}};

const std::vector<IpNetwork>& special_networks() {
  static const std::vector<IpNetwork> networks = [] {
    std::vector<IpNetwork> out;
    for (const auto& block : kSpecialBlocks) out.push_back(*IpNetwork::parse(block.cidr, nullptr));
    return out;
  }();
  return networks;
}

}  // namespace

std::optional<std::string> special_use_block(const IpAddress& address) {
  const auto& networks = special_networks();
  for (size_t i = 0; i < networks.size(); ++i)
    if (networks[i].contains(address)) return std::string(kSpecialBlocks[i].what);
  return std::nullopt;
}

DestinationGuard::DestinationGuard(std::vector<IpNetwork> forbidden_networks, std::vector<OwnListener> own_listeners,
                                   std::vector<IpAddress> local_addresses)
    : forbidden_networks_(std::move(forbidden_networks)),
      own_listeners_(std::move(own_listeners)),
      local_addresses_(std::move(local_addresses)) {}

std::optional<std::string> DestinationGuard::forbidden_host(const HostName& host, uint16_t port) const {
  if (host.kind == HostName::Kind::name) {
    if (host.text == "localhost" || host.text.ends_with(".localhost")) return "the name '" + host.text + "' is loopback";
    return std::nullopt;
  }
  const auto address = IpAddress::parse(host.text);
  if (!address) return "'" + host.text + "' is not an address";  // cannot happen for a parsed literal
  return forbidden_address(*address, port);
}

std::optional<std::string> DestinationGuard::forbidden_address(const IpAddress& address, uint16_t port) const {
  if (auto special = special_use_block(address)) return address.to_string() + " is " + *special;
  for (const auto& network : forbidden_networks_)
    if (network.contains(address))
      return address.to_string() + " is in destinations.forbidden_networks (" + network.text + ")";
  const bool local = std::find(local_addresses_.begin(), local_addresses_.end(), address) != local_addresses_.end();
  for (const auto& listener : own_listeners_) {
    if (listener.port != port) continue;
    if (listener.address ? *listener.address == address : local)
      return address.to_string() + ":" + std::to_string(port) + " is one of the gateway's own listeners";
  }
  return std::nullopt;
}

}  // namespace promptwall::gateway
