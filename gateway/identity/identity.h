// Identity: who sent a request, as far as the gateway can tell, and how it knows.
//
// Invariants: `user` is set only when the source is proxy_basic (a verified password) or
// trusted_header (a header from an address the configuration trusts), except in the record of a
// refused proxy authentication, which names the user that was tried (source none); `unit` may
// come from the address alone. `groups` are sorted and distinct. An Identity never holds a
// credential.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace promptwall::gateway {

struct Identity {
  enum class Source : uint8_t {
    none,            // nothing known (no unit matched the address)
    proxy_basic,     // Proxy-Authorization: Basic, verified against the users file
    trusted_header,  // the identity headers of a trusted client (an authenticating proxy, an SSO front)
    address,         // only the client address, through the CIDR → unit map
  };
  std::string user;
  std::string unit;
  std::vector<std::string> groups;
  Source source = Source::none;
};

std::string_view to_string(Identity::Source source);

}  // namespace promptwall::gateway
