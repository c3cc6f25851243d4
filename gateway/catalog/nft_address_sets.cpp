#include "gateway/catalog/nft_address_sets.h"

#include <algorithm>
#include <set>

namespace promptwall::gateway {
namespace {

void add_set(std::string& out, const std::string& table, const std::string& set, std::vector<std::string> addresses,
             bool flush) {
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  if (flush) out += "flush set " + table + " " + set + "\n";
  if (addresses.empty()) return;
  out += "add element " + table + " " + set + " { ";
  for (size_t i = 0; i < addresses.size(); ++i) out += (i ? ", " : "") + addresses[i];
  out += " }\n";
}

}  // namespace

std::vector<std::string> nft_set_hosts(const std::vector<Service>& services) {
  std::set<std::string> hosts;
  for (const auto& service : services) {
    if (service.approved && !service.inspect) continue;  // known, not an AI service: QUIC may pass
    for (const auto& host : service.hosts) hosts.insert(host.starts_with("*.") ? host.substr(2) : host);
  }
  return {hosts.begin(), hosts.end()};
}

std::string nft_set_commands(const ResolvedAddresses& addresses, const std::string& table) {
  std::string out;
  add_set(out, table, "ai_ipv4", addresses.ipv4, addresses.complete);
  add_set(out, table, "ai_ipv6", addresses.ipv6, addresses.complete);
  return out;
}

}  // namespace promptwall::gateway
