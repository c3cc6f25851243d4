#include "gateway/identity/ip_network.h"

#include <arpa/inet.h>

#include <charconv>

namespace promptwall::gateway {

namespace {

constexpr std::array<uint8_t, 12> kMappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  std::string s(text.substr(0, text.find('%')));
  IpAddress out;
  unsigned char v4[4];
  if (inet_pton(AF_INET, s.c_str(), v4) == 1) {
    std::copy(kMappedPrefix.begin(), kMappedPrefix.end(), out.bytes.begin());
    std::copy(v4, v4 + 4, out.bytes.begin() + 12);
    return out;
  }
  if (inet_pton(AF_INET6, s.c_str(), out.bytes.data()) == 1) return out;
  return std::nullopt;
}

bool IpAddress::is_v4() const { return std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), bytes.begin()); }

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  if (is_v4()) return inet_ntop(AF_INET, bytes.data() + 12, buf, sizeof buf);
  return inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
}

std::optional<IpNetwork> IpNetwork::parse(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<IpNetwork> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  const size_t slash = text.find('/');
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address || text.substr(0, slash).find('%') != std::string_view::npos)
    return fail(std::string("'").append(text.substr(0, slash)).append("' is not an IPv4 or IPv6 address"));
  const unsigned family_bits = address->is_v4() && text.substr(0, slash).find(':') == std::string_view::npos ? 32 : 128;
  unsigned prefix = family_bits;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || prefix > family_bits)
      return fail("the prefix length after '/' must be a number from 0 to " + std::to_string(family_bits));
  }
  IpNetwork out;
  out.base = *address;
  out.prefix = prefix + (128 - family_bits);
  out.text = std::string(text);
  for (unsigned bit = out.prefix; bit < 128; ++bit)
    if (out.base.bytes[bit / 8] & (0x80u >> (bit % 8)))
      return fail(std::string("'").append(text).append("' has bits set past its prefix; did you mean the block's first address?"));
  return out;
}

bool IpNetwork::contains(const IpAddress& address) const {
  const unsigned whole = prefix / 8, rest = prefix % 8;
  if (!std::equal(base.bytes.begin(), base.bytes.begin() + whole, address.bytes.begin())) return false;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff00u >> rest);
  return (base.bytes[whole] & mask) == (address.bytes[whole] & mask);
}

}  // namespace promptwall::gateway
