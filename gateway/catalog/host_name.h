// HostName: the one reading of a host name or an authority (`host`, `host:port`, `[v6]:port`) that
// every part of the gateway uses: the configuration's service hosts, listeners and upstreams, the
// catalog's lookup, the CONNECT target, an absolute-form URL's authority, the Host header and the
// TLS SNI. Which host counts as an AI service is a security decision; two parsers that disagree
// on `API.OpenAI.com.`, a full-width `ａｐｉ.openai.com` or `user@api.openai.com` are a way around
// it, so there is one, with one table test (tests/unit/host_name_test.cpp).
//
// The normal form (HostName::text), the only form compared anywhere:
//   - a name: lower-case ASCII, internationalised labels as A-labels (`bücher.de` →
//     `xn--bcher-kva.de`) through ICU's UTS #46 processing, nontransitional as browsers are (so
//     `straße.de` is `xn--strae-oqa.de`, not `strasse.de`), which also maps full-width letters and
//     the ideographic full stop as browsers do; one trailing dot removed; dot-separated labels of
//     1..63 bytes of [a-z0-9_-], no '-' at either end, 253 bytes in all (underscores are accepted:
//     some internal names carry them); a label `xn--...` must be punycode that decodes to a valid
//     label;
//   - an IPv4 address: the dotted quad. A name whose last label is a number is an address, read as
//     the WHATWG URL standard (browsers) and inet_aton(3) read it: `127.1`, `2130706433`,
//     `0x7f.0.0.1` and `0177.0.0.1` are all 127.0.0.1, `0` is 0.0.0.0. Every spelling a client or
//     resolver could mean as an address comes out as the one address the gateway checks
//     (catalog/destination_guard.h) and connects to; what is not a valid address (`1.2.300.4`,
//     `09.1.1.1`, five parts) is rejected;
//   - an IPv6 address: as inet_ntop writes it, without brackets (`2001:db8::1`); no zone id.
// Everything else is rejected, never repaired: an empty label (`a..b`, `.a`), spaces, control
// bytes, '%' escapes, '/', a bad or empty port, an over-long name or label.
//
// Userinfo (`user@host`) is rejected, wherever it appears: HTTP forbids it in a CONNECT target and
// a Host header, RFC 9110 §4.2.4 tells recipients to treat it as an error in http(s) URIs, and a
// host hidden behind an '@' is the classic way to make a filter and a client read different hosts.
//
// Callers refuse what does not parse (400, a refused CONNECT, a closed connection); they never fall
// back to treating the raw text as "not an AI service".
//
// Threads: pure functions; safe from any thread (the ICU converter is made once and is immutable).
// Errors: nullopt, with an English reason in `*error` when it is given (for configuration errors);
// nothing throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace promptwall::gateway {

struct HostName {
  enum class Kind : uint8_t { name, ipv4, ipv6 };
  std::string text;  // the normal form (above)
  Kind kind = Kind::name;

  bool is_ip_literal() const { return kind != Kind::name; }
};

struct Authority {
  HostName host;
  uint16_t port = 0;  // the port given, else the default
};

// A host alone: a name, an IPv4 address, or an IPv6 address (bare, as SNI or a catalog key would
// carry it, or in brackets). No port, no userinfo.
std::optional<HostName> parse_host(std::string_view text, std::string* error = nullptr);

// `host`, `host:port`, `[v6]` or `[v6]:port`; an IPv6 address must be in brackets. The port is
// 1..65535 in decimal; without one, `default_port`, and when that is 0 a port is required.
std::optional<Authority> parse_authority(std::string_view text, uint16_t default_port, std::string* error = nullptr);

}  // namespace promptwall::gateway
