#include "gateway/server/original_destination.h"

#include <arpa/inet.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace promptwall::gateway::server {
namespace {

std::optional<OriginalDestination> from_sockaddr(const sockaddr_storage& storage) {
  char text[INET6_ADDRSTRLEN] = {};
  if (storage.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(storage);
    if (!inet_ntop(AF_INET, &a.sin_addr, text, sizeof text)) return std::nullopt;
    return OriginalDestination(text, ntohs(a.sin_port));
  }
  if (storage.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(storage);
    // An IPv4 client on a dual-stack listener: the plain IPv4 address is what to connect to.
    if (IN6_IS_ADDR_V4MAPPED(&a.sin6_addr)) {
      if (!inet_ntop(AF_INET, &a.sin6_addr.s6_addr[12], text, sizeof text)) return std::nullopt;
    } else if (!inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof text)) {
      return std::nullopt;
    }
    return OriginalDestination(text, ntohs(a.sin6_port));
  }
  return std::nullopt;
}

void set_why(std::string* why, std::string text) {
  if (why) *why = std::move(text);
}

}  // namespace

std::optional<OriginalDestination> OriginalDestination::lookup(int fd, bool tproxy, std::string* why) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    set_why(why, std::string("getsockname: ") + std::strerror(errno));
    return std::nullopt;
  }
  if (!tproxy) {
    const bool v6 = storage.ss_family == AF_INET6 &&
                    !IN6_IS_ADDR_V4MAPPED(&reinterpret_cast<const sockaddr_in6&>(storage).sin6_addr);
    length = sizeof storage;
    const int result = v6 ? getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &storage, &length)
                          : getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &storage, &length);
    if (result != 0) {
      set_why(why, std::string(v6 ? "IP6T_SO_ORIGINAL_DST" : "SO_ORIGINAL_DST") + ": " + std::strerror(errno) +
                       " (was the connection redirected by the firewall? with TPROXY set transparent.tproxy)");
      return std::nullopt;
    }
  }
  auto out = from_sockaddr(storage);
  if (!out) set_why(why, "the original destination is not an IPv4 or IPv6 address");
  return out;
}

bool OriginalDestination::make_listener_transparent(int fd, bool ipv6, std::string* why) {
  const int on = 1;
  if (setsockopt(fd, SOL_IP, IP_TRANSPARENT, &on, sizeof on) != 0 && !ipv6) {
    set_why(why, std::string("IP_TRANSPARENT: ") + std::strerror(errno) + " (TPROXY needs CAP_NET_ADMIN)");
    return false;
  }
  if (ipv6 && setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &on, sizeof on) != 0) {
    set_why(why, std::string("IPV6_TRANSPARENT: ") + std::strerror(errno) + " (TPROXY needs CAP_NET_ADMIN)");
    return false;
  }
  return true;
}

std::string OriginalDestination::to_string() const {
  const bool v6 = address_.find(':') != std::string::npos;
  return (v6 ? "[" + address_ + "]" : address_) + ":" + std::to_string(port_);
}

bool OriginalDestination::is_gateway_itself(std::span<const uint16_t> listener_ports) const {
  if (std::find(listener_ports.begin(), listener_ports.end(), port_) == listener_ports.end()) return false;
  // An address is this host's when a socket can bind to it (without IP_TRANSPARENT): the kernel's
  // own answer, loopback and every interface address included, with no list to keep up to date.
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
  if (address_.find(':') != std::string::npos) {
    family = AF_INET6;
    auto& a = reinterpret_cast<sockaddr_in6&>(storage);
    a.sin6_family = AF_INET6;
    if (inet_pton(AF_INET6, address_.c_str(), &a.sin6_addr) != 1) return false;
    length = sizeof a;
  } else {
    auto& a = reinterpret_cast<sockaddr_in&>(storage);
    a.sin_family = AF_INET;
    if (inet_pton(AF_INET, address_.c_str(), &a.sin_addr) != 1) return false;
    length = sizeof a;
  }
  const int probe = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return true;  // cannot tell: treat as ourselves (refusing is the safe side)
  const bool local = bind(probe, reinterpret_cast<const sockaddr*>(&storage), length) == 0 || errno == EADDRINUSE;
  close(probe);
  return local;
}

}  // namespace promptwall::gateway::server
