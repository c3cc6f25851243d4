// AiAddressMap: which AI service an IP address belongs to, from the addresses the catalog's hosts
// resolve to. It judges the connections that name no host the catalog could read: a CONNECT to a
// literal IP address, and a redirected TLS connection whose ClientHello carries no SNI or hides the
// real one with Encrypted Client Hello. Such a connection to an AI service's address follows
// `destinations.ai_addresses` (refuse by default: uninspectable_connection).
//
// Why not intercept by address: AI services sit behind CDNs (Cloudflare, Azure Front Door, Google
// front ends) whose addresses serve many sites and several AI services at once, so an address rarely
// names one service, and a client that sends no name would not accept a certificate for one anyway.
//
// Invariants: a snapshot, immutable once built; the server builds a new one in the background (at
// start, then every `destinations.ai_address_refresh`) and swaps it in atomically, so a lookup
// never waits for DNS. Which hosts count: every host of an inspected or unapproved service (the
// unlisted-AI list included), a wildcard "*.x" as its base name x, as nft_set_hosts() chooses;
// IPv4 literals among the hosts count without resolving. When several services share an address
// the first in catalog order owns it. Pointers returned live as long as the catalog.
// Threads: const calls are safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gateway/catalog/service_catalog.h"
#include "gateway/identity/ip_network.h"

namespace promptwall::gateway {

class AiAddressMap {
 public:
  AiAddressMap() = default;

  // The names to resolve for `catalog`, each with the service it belongs to (catalog order).
  struct Host {
    std::string name;
    const Service* service;
  };
  static std::vector<Host> hosts_to_resolve(const ServiceCatalog& catalog);

  // `resolved`: name → its addresses (a name missing or empty adds nothing).
  static AiAddressMap build(const ServiceCatalog& catalog,
                            const std::map<std::string, std::vector<IpAddress>, std::less<>>& resolved);

  // The service whose host resolves to `address`, or null.
  const Service* service_at(const IpAddress& address) const;
  size_t size() const { return by_address_.size(); }

 private:
  std::map<std::array<uint8_t, 16>, const Service*> by_address_;
};

}  // namespace promptwall::gateway
