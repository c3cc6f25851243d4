// IpAddress, IpNetwork and NetworkMap: client addresses matched against configured CIDR blocks
// (the unit map, the addresses trusted to send identity headers).
//
// Invariants: every address is held as 16 bytes, an IPv4 address as its IPv4-mapped IPv6 form
// (::ffff:a.b.c.d), and an IPv4 block "a.b.c.d/n" as the mapped block of prefix 96 + n. So an
// IPv4-mapped client address (what a dual-stack socket reports) matches IPv4 entries, and one
// comparison serves both families. A network's bits past its prefix are zero (parse rejects
// "10.0.0.1/8": a typo there would silently widen or move the block).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace promptwall::gateway {

struct IpAddress {
  std::array<uint8_t, 16> bytes{};

  // "10.1.2.3", "::1", "::ffff:10.1.2.3", "fe80::1%eth0" (the zone is ignored). nullopt otherwise.
  static std::optional<IpAddress> parse(std::string_view text);
  bool is_v4() const;  // an IPv4(-mapped) address
  std::string to_string() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

struct IpNetwork {
  IpAddress base;
  unsigned prefix = 0;  // 0..128, in the 16-byte space
  std::string text;     // as configured, for messages

  // "10.1.0.0/16", "2001:db8::/32", or a single address ("10.0.0.10" = /32, "::1" = /128).
  // On failure returns nullopt and, when `error` is given, says why.
  static std::optional<IpNetwork> parse(std::string_view text, std::string* error);
  bool contains(const IpAddress& address) const;
};

// CIDR block → value, longest prefix wins. Small (tens of entries): a scan over blocks sorted
// longest first beats a trie at this size and is obviously right.
template <class T>
class NetworkMap {
 public:
  NetworkMap() = default;
  explicit NetworkMap(std::vector<std::pair<IpNetwork, T>> entries) : entries_(std::move(entries)) {
    std::stable_sort(entries_.begin(), entries_.end(),
                     [](const auto& a, const auto& b) { return a.first.prefix > b.first.prefix; });
  }
  // The value of the longest block containing `address`, or null.
  const T* find(const IpAddress& address) const {
    for (const auto& [network, value] : entries_)
      if (network.contains(address)) return &value;
    return nullptr;
  }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<std::pair<IpNetwork, T>> entries_;
};

}  // namespace promptwall::gateway
