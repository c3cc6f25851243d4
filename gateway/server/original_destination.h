// OriginalDestination: where a connection the firewall redirected to the transparent listener was
// really going, and whether that is the gateway itself. No Asio here: plain file descriptors, so
// the unit tests use it on real sockets.
//
//   REDIRECT / DNAT: the kernel rewrote the destination; conntrack remembers the original, which
//     getsockopt(SO_ORIGINAL_DST) (IPv4) / (IP6T_SO_ORIGINAL_DST) (IPv6) returns.
//   TPROXY: nothing was rewritten; the listener holds IP_TRANSPARENT, so it accepts connections
//     for any address, and the accepted socket's local address IS the original destination.
//
// Invariants: lookup() never guesses: without an answer from the kernel it returns nullopt with the
// reason, and the caller refuses the connection (there is nowhere safe to send it).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace promptwall::gateway::server {

class OriginalDestination {
 public:
  // `accepted_fd`: a socket accepted on the transparent listener.
  static std::optional<OriginalDestination> lookup(int accepted_fd, bool tproxy, std::string* why);

  // Asks for IP_TRANSPARENT (and IPV6_TRANSPARENT on an IPv6 socket) on a listener before bind.
  // Needs CAP_NET_ADMIN; false with the reason otherwise.
  static bool make_listener_transparent(int listener_fd, bool ipv6, std::string* why);

  OriginalDestination(std::string address, uint16_t port) : address_(std::move(address)), port_(port) {}

  const std::string& address() const { return address_; }  // "10.0.2.20", "2001:db8::1"
  uint16_t port() const { return port_; }
  std::string to_string() const;  // "10.0.2.20:443", "[2001:db8::1]:443"

  // The loop guard: true when this destination is one of the gateway's own listeners (one of
  // `listener_ports` on an address of this host), as when someone connects to the transparent
  // port directly. Such a connection must never be spliced back to ourselves.
  bool is_gateway_itself(std::span<const uint16_t> listener_ports) const;

 private:
  std::string address_;
  uint16_t port_ = 0;
};

}  // namespace promptwall::gateway::server
