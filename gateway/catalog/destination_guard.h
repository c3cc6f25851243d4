// DestinationGuard: where a client of the forward proxy may not make the gateway connect (SSRF).
// A CONNECT target or an absolute-form URL names a host, and the gateway opens the connection from
// its own address: without this guard a LAN client reaches what only the gateway host can reach,
// such as the admin listener and review page on 127.0.0.1, or a cloud metadata service.
//
// Forbidden, in every spelling host_name.h reads (127.1, 2130706433, 0x7f.0.0.1, [::ffff:127.0.0.1],
// LOCALHOST., ...), since it compares the one normal form:
//   - the names `localhost` and `*.localhost` (RFC 6761: always loopback);
//   - loopback (127.0.0.0/8, ::1), unspecified ("this host": 0.0.0.0/8, ::), link-local
//     (169.254.0.0/16 with the metadata services, fe80::/10), IPv4-compatible IPv6 (::/96, which
//     some stacks route to the IPv4 address); IPv4-mapped IPv6 is the IPv4 address (ip_network.h);
//   - the gateway's own listeners: a listener's address and port, and for a listener on every
//     address (0.0.0.0, ::, or a name), its port on any of this host's addresses;
//   - the configured `destinations.forbidden_networks` (internal networks; empty by default).
// A name is judged twice: here before anything is resolved, and then each address it resolves to
// (forbidden_address), right before the connection is made to that very address, so a name that
// resolves to loopback (or changes to it, DNS rebinding) is refused too.
//
// Threads: immutable after construction; const calls are safe from any thread.
// Errors: none; the answer is why it is forbidden (English, for the log), or nullopt.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/catalog/host_name.h"
#include "gateway/identity/ip_network.h"

namespace promptwall::gateway {

// One of the gateway's own listeners, as the guard needs it.
struct OwnListener {
  std::optional<IpAddress> address;  // unset: it listens on every address (0.0.0.0, ::, or a name)
  uint16_t port = 0;
};

class DestinationGuard {
 public:
  DestinationGuard() = default;
  // `local_addresses`: this host's interface addresses (for listeners on every address).
  DestinationGuard(std::vector<IpNetwork> forbidden_networks, std::vector<OwnListener> own_listeners,
                   std::vector<IpAddress> local_addresses);

  // A host as a client named it. Names other than localhost pass here; their addresses are
  // judged by forbidden_address() once resolved.
  std::optional<std::string> forbidden_host(const HostName& host, uint16_t port) const;
  std::optional<std::string> forbidden_address(const IpAddress& address, uint16_t port) const;

 private:
  std::vector<IpNetwork> forbidden_networks_;
  std::vector<OwnListener> own_listeners_;
  std::vector<IpAddress> local_addresses_;
};

// The special-use blocks every guard refuses (loopback, unspecified, link-local, IPv4-compatible),
// with what each is, for messages.
std::optional<std::string> special_use_block(const IpAddress& address);

}  // namespace promptwall::gateway
