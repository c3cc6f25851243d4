#include "gateway/catalog/ai_address_map.h"

#include <set>

#include "gateway/catalog/host_name.h"

namespace promptwall::gateway {

std::vector<AiAddressMap::Host> AiAddressMap::hosts_to_resolve(const ServiceCatalog& catalog) {
  std::vector<Host> out;
  std::set<std::string, std::less<>> seen;
  for (const Service& service : catalog.services()) {
    if (service.approved && !service.inspect) continue;  // known and not an AI service
    for (const auto& host : service.hosts) {
      std::string name = host.starts_with("*.") ? host.substr(2) : host;
      if (seen.insert(name).second) out.push_back({std::move(name), &service});
    }
  }
  return out;
}

AiAddressMap AiAddressMap::build(const ServiceCatalog& catalog,
                                 const std::map<std::string, std::vector<IpAddress>, std::less<>>& resolved) {
  AiAddressMap map;
  for (const Host& host : hosts_to_resolve(catalog)) {
    // An IPv4 literal is its own address, resolved or not.
    if (auto literal = parse_host(host.name); literal && literal->is_ip_literal())
      if (auto address = IpAddress::parse(literal->text)) map.by_address_.emplace(address->bytes, host.service);
    auto it = resolved.find(host.name);
    if (it == resolved.end()) continue;
    for (const IpAddress& address : it->second) map.by_address_.emplace(address.bytes, host.service);  // first wins
  }
  return map;
}

const Service* AiAddressMap::service_at(const IpAddress& address) const {
  auto it = by_address_.find(address.bytes);
  return it == by_address_.end() ? nullptr : it->second;
}

}  // namespace promptwall::gateway
