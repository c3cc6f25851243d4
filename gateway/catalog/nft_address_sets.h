// NftAddressSets: the nft commands that (re)fill the AI-service address sets of
// ops/nftables/promptwall.nft (ai_ipv4, ai_ipv6), which its QUIC rule drops UDP 443 to.
// `promptwall nft-set` resolves the hosts and prints these; ops/ pipes them into `nft -f -`.
//
// Invariants: pure; the output is one nft transaction (nft -f applies a file atomically). When every
// host resolved, the sets are flushed and refilled exactly; when some did not, nothing is flushed
// and what did resolve is only added: a DNS failure never empties the sets (which would let QUIC to
// the AI services through, unseen by the gateway). Addresses are sorted and unique.
#pragma once

#include <string>
#include <vector>

#include "gateway/catalog/service.h"

namespace promptwall::gateway {

// The hosts whose addresses the sets hold: every host of an inspected or unapproved service
// ("*.example.com" counts as its base name, example.com), lower case, sorted, unique.
std::vector<std::string> nft_set_hosts(const std::vector<Service>& services);

struct ResolvedAddresses {
  std::vector<std::string> ipv4, ipv6;  // textual addresses, any order, duplicates allowed
  bool complete = true;                 // false: some host did not resolve
};

// `table`: family and name, "inet promptwall".
std::string nft_set_commands(const ResolvedAddresses& addresses, const std::string& table);

}  // namespace promptwall::gateway
