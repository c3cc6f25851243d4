#include "gateway/catalog/host_name.h"

#include <arpa/inet.h>
#include <unicode/uidna.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace promptwall::gateway {
namespace {

constexpr size_t kMaxName = 253;  // RFC 1035: 255 octets on the wire, 253 characters written
constexpr size_t kMaxLabel = 63;

std::nullopt_t fail(std::string* error, std::string why) {
  if (error) *error = std::move(why);
  return std::nullopt;
}

// For messages: the text as given, cut short and with control bytes shown as '?', so an error line
// stays one line whatever a client sent.
std::string quoted(std::string_view text) {
  std::string out = "'";
  for (char c : text.substr(0, 80)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  if (text.size() > 80) out += "...";
  return out + "'";
}

// The UTS #46 converter, made once: nontransitional (as browsers are), with the bidi and
// CONTEXTJ checks IDNA2008 requires. Not STD3: underscores must pass; the ASCII result is checked
// by our own label rules afterwards.
const UIDNA* uts46() {
  static const UIDNA* const idna = [] {
    UErrorCode status = U_ZERO_ERROR;
    UIDNA* made = uidna_openUTS46(UIDNA_NONTRANSITIONAL_TO_ASCII | UIDNA_NONTRANSITIONAL_TO_UNICODE |
                                      UIDNA_CHECK_BIDI | UIDNA_CHECK_CONTEXTJ,
                                  &status);
    return U_SUCCESS(status) ? made : nullptr;
  }();
  return idna;
}

// ICU flags a label with "--" in its third and fourth places; ASCII names such as
// r3---sn-abc.googlevideo.com are real, and our label rules judge hyphens.
constexpr uint32_t kIgnoredIdnaErrors = UIDNA_ERROR_HYPHEN_3_4;

// A name with non-ASCII bytes (UTF-8) → its A-label form; nullopt when UTS #46 refuses it.
std::optional<std::string> to_ascii(std::string_view name) {
  const UIDNA* idna = uts46();
  if (!idna || name.size() > 4 * kMaxName) return std::nullopt;
  std::array<char, 4 * kMaxName + 8> out{};
  UIDNAInfo info = UIDNA_INFO_INITIALIZER;
  UErrorCode status = U_ZERO_ERROR;
  const int32_t n = uidna_nameToASCII_UTF8(idna, name.data(), static_cast<int32_t>(name.size()), out.data(),
                                           static_cast<int32_t>(out.size()), &info, &status);
  if (U_FAILURE(status) || (info.errors & ~kIgnoredIdnaErrors) != 0 || n < 0) return std::nullopt;
  return std::string(out.data(), static_cast<size_t>(n));
}

// An "xn--" label must be punycode that UTS #46 accepts (and would write the same way).
bool valid_a_label(std::string_view label) {
  const UIDNA* idna = uts46();
  if (!idna) return false;
  std::array<char, 4 * kMaxLabel + 8> out{};
  UIDNAInfo info = UIDNA_INFO_INITIALIZER;
  UErrorCode status = U_ZERO_ERROR;
  uidna_labelToUnicodeUTF8(idna, label.data(), static_cast<int32_t>(label.size()), out.data(),
                           static_cast<int32_t>(out.size()), &info, &status);
  return U_SUCCESS(status) && (info.errors & ~kIgnoredIdnaErrors) == 0;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }

// What WHATWG's URL parser reads as a number, and so resolvers as an IPv4 address: "127", "0x7f".
bool is_number(std::string_view label) {
  if (label.starts_with("0x")) return std::all_of(label.begin() + 2, label.end(), is_hex);
  return !label.empty() && std::all_of(label.begin(), label.end(), is_digit);
}

// One part of a WHATWG IPv4 address: "0x7f" hexadecimal ("0x" alone is 0), "0177" octal, "127"
// decimal. nullopt for anything else (an octal part with an 8 or 9) and past 2^32.
std::optional<uint64_t> ipv4_part(std::string_view part) {
  unsigned base = 10;
  if (part.starts_with("0x")) {
    base = 16;
    part.remove_prefix(2);
    if (part.empty()) return 0;
  } else if (part.size() > 1 && part.front() == '0') {
    base = 8;
    part.remove_prefix(1);
  }
  // Leading zeros do not change the value; without them, 11 digits of any base exceed 2^32.
  while (part.size() > 1 && part.front() == '0') part.remove_prefix(1);
  if (part.empty() || part.size() > 11) return std::nullopt;
  uint64_t value = 0;
  for (char c : part) {
    const unsigned digit = is_digit(c) ? static_cast<unsigned>(c - '0') : static_cast<unsigned>(c - 'a' + 10);
    if (!is_hex(c) || digit >= base) return std::nullopt;
    value = value * base + digit;
  }
  return value;
}

// `name` (lower case, no trailing dot, last label a number) read as the WHATWG URL standard's IPv4
// parser reads it, as browsers and inet_aton(3) do: one to four parts, each decimal, octal or hex,
// the last filling the remaining bytes ("127.1" is 127.0.0.1, "2130706433" too). The dotted quad,
// or nullopt when it is not an address (a part too large, more than four parts, a bad digit).
std::optional<std::string> whatwg_ipv4(std::string_view name) {
  std::array<uint64_t, 4> parts{};
  size_t count = 0;
  for (size_t start = 0; start <= name.size();) {
    const size_t dot = std::min(name.find('.', start), name.size());
    if (count == parts.size()) return std::nullopt;
    auto value = ipv4_part(name.substr(start, dot - start));
    if (!value) return std::nullopt;
    parts[count++] = *value;
    start = dot + 1;
  }
  uint64_t address = 0;
  for (size_t i = 0; i + 1 < count; ++i) {
    if (parts[i] > 255) return std::nullopt;
    address |= parts[i] << (8 * (3 - i));
  }
  const unsigned last_bits = 8 * static_cast<unsigned>(5 - count);
  if (parts[count - 1] >= (uint64_t{1} << last_bits)) return std::nullopt;
  address |= parts[count - 1];
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 255) + "." +
         std::to_string((address >> 8) & 255) + "." + std::to_string(address & 255);
}

std::optional<HostName> ipv6(std::string_view text) {
  std::array<unsigned char, 16> address{};
  std::array<char, INET6_ADDRSTRLEN> canonical{};
  if (text.size() >= canonical.size()) return std::nullopt;
  // inet_pton reads a C string: a NUL (or anything after it) would never be seen. Only the
  // characters an IPv6 address is written with may stand here; a zone id ('%') is refused too.
  for (char c : text)
    if (!(is_hex(c) || (c >= 'A' && c <= 'F') || c == ':' || c == '.')) return std::nullopt;
  if (inet_pton(AF_INET6, std::string(text).c_str(), address.data()) != 1) return std::nullopt;
  if (!inet_ntop(AF_INET6, address.data(), canonical.data(), canonical.size())) return std::nullopt;
  return HostName{canonical.data(), HostName::Kind::ipv6};
}

// `name`: lower-case ASCII, trailing dot already removed.
std::optional<HostName> checked_name(std::string name, std::string_view original, std::string* error) {
  auto bad = [&](std::string_view why) {
    return fail(error, quoted(original) + " is not a valid host name or IPv4 address" + std::string(why));
  };
  if (name.empty()) return fail(error, "the host is missing");
  if (name.size() > kMaxName) return bad(": longer than 253 characters");
  std::string_view last;
  for (size_t start = 0; start <= name.size();) {
    const size_t dot = std::min(name.find('.', start), name.size());
    const std::string_view label = std::string_view(name).substr(start, dot - start);
    if (label.empty()) return bad(": an empty label");
    if (label.size() > kMaxLabel) return bad(": a label longer than 63 characters");
    if (label.front() == '-' || label.back() == '-') return bad(": a label starts or ends with '-'");
    for (char c : label)
      if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_'))
        return bad(": only letters, digits, '-' and '_' may appear between the dots");
    if (label.starts_with("xn--") && !valid_a_label(label)) return bad(": a label is not valid punycode");
    last = label;
    start = dot + 1;
  }
  if (is_number(last)) {
    auto dotted = whatwg_ipv4(name);
    if (!dotted) return bad("");
    return HostName{std::move(*dotted), HostName::Kind::ipv4};
  }
  return HostName{std::move(name), HostName::Kind::name};
}

// A host without brackets or port.
std::optional<HostName> host_only(std::string_view text, std::string* error) {
  if (text.empty()) return fail(error, "the host is missing");
  if (text.find(':') != std::string_view::npos) {
    if (auto v6 = ipv6(text)) return v6;
    return fail(error, quoted(text) + " is not a valid IPv6 address");
  }
  if (text.find('@') != std::string_view::npos) return fail(error, "user info (user@host) is not allowed");
  bool ascii = true;
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= ' ' || b == 0x7f) return fail(error, quoted(text) + ": spaces and control characters are not allowed");
    if (b >= 0x80) ascii = false;
  }
  std::string name;
  if (ascii) {
    name.assign(text);
    for (char& c : name)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  } else {
    auto converted = to_ascii(text);
    if (!converted) return fail(error, quoted(text) + " is not a valid internationalised host name");
    name = std::move(*converted);
  }
  if (name.ends_with('.')) name.pop_back();
  return checked_name(std::move(name), text, error);
}

}  // namespace

std::optional<HostName> parse_host(std::string_view text, std::string* error) {
  if (text.starts_with('[')) {
    if (!text.ends_with(']')) return fail(error, "unclosed '[' in an IPv6 address");
    if (auto v6 = ipv6(text.substr(1, text.size() - 2))) return v6;
    return fail(error, quoted(text) + " is not a valid IPv6 address");
  }
  return host_only(text, error);
}

std::optional<Authority> parse_authority(std::string_view text, uint16_t default_port, std::string* error) {
  if (text.empty()) return fail(error, "the host is missing");
  if (text.find('@') != std::string_view::npos) return fail(error, "user info (user@host) is not allowed");
  Authority out;
  std::string_view port_text;
  bool has_port = false;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return fail(error, "unclosed '[' in an IPv6 address");
    auto v6 = ipv6(text.substr(1, close - 1));
    if (!v6) return fail(error, quoted(text.substr(1, close - 1)) + " is not an IPv6 address");
    out.host = std::move(*v6);
    const std::string_view after = text.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail(error, "expected ':' and a port after ']'");
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    const size_t colon = text.rfind(':');
    const std::string_view host = text.substr(0, colon);
    if (colon != std::string_view::npos) {
      if (host.find(':') != std::string_view::npos) return fail(error, "put an IPv6 address in brackets, like [::1]:8080");
      port_text = text.substr(colon + 1);
      has_port = true;
    }
    auto name = host_only(host, error);
    if (!name) return std::nullopt;
    out.host = std::move(*name);
  }
  if (!has_port) {
    if (default_port == 0) return fail(error, "the port is missing");
    out.port = default_port;
    return out;
  }
  unsigned port = 0;
  const char* end = port_text.data() + port_text.size();
  const bool digits = !port_text.empty() && port_text.size() <= 5 && std::all_of(port_text.begin(), port_text.end(), is_digit);
  if (!digits || std::from_chars(port_text.data(), end, port).ptr != end || port < 1 || port > 65535)
    return fail(error, "the port must be a number from 1 to 65535");
  out.port = static_cast<uint16_t>(port);
  return out;
}

}  // namespace promptwall::gateway
