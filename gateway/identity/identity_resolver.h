// IdentityResolver: turns what a request carries (the client address, verified credentials, the
// identity headers of a trusted front) into an Identity, by the configuration's rules:
//
//   user   verified Basic credentials (the caller verifies), else the trusted user header
//   unit   the trusted unit header, else identity.user_units[user], else the CIDR map
//   groups the trusted groups header (comma-separated), else the groups file
//
// Invariants: identity headers count only from clients inside trusted_header.from; from anyone
// else they are ignored (and the caller strips them, as it strips them always, before forwarding).
// Pure and immutable; safe to share between threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/identity/identity.h"
#include "gateway/identity/identity_file.h"
#include "gateway/identity/ip_network.h"

namespace promptwall::gateway {

// The identity headers' values as received ("" when absent).
struct IdentityHeaders {
  std::string_view user, groups, unit;
};

class IdentityResolver {
 public:
  explicit IdentityResolver(const IdentityConfig& config);

  // From the address alone: Source::address with the unit of the longest matching block, or
  // Source::none when no block matches. What transparent-mode connections and unauthenticated
  // clients get.
  Identity for_address(const IpAddress& client) const;

  // A user the caller verified (proxy_basic), completed with unit and groups.
  Identity for_user(std::string user, Identity::Source source, const IpAddress& client, const GroupFile* groups) const;

  // From the trusted headers, when `client` is trusted and the user header is a valid name;
  // nullopt otherwise (the headers are then to be ignored).
  std::optional<Identity> from_headers(const IpAddress& client, const IdentityHeaders& headers,
                                       const GroupFile* groups) const;

  bool trusts(const IpAddress& client) const;
  // The configured identity header names (never forwarded upstream).
  const std::vector<std::string>& header_names() const { return header_names_; }

 private:
  std::optional<TrustedHeaderConfig> trusted_;
  NetworkMap<std::string> units_;
  std::map<std::string, std::string, std::less<>> user_units_;
  std::vector<std::string> header_names_;
};

}  // namespace promptwall::gateway
