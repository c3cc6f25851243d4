// The one host parser (gateway/catalog/host_name.h), as one table: what every listener, the
// catalog and the configuration read a host or an authority as, and what they refuse.
#include <catch2/catch.hpp>

#include <string>

#include "gateway/catalog/host_name.h"
#include "gateway/catalog/service_catalog.h"

namespace promptwall::gateway {
namespace {

using Kind = HostName::Kind;

struct HostCase {
  std::string input;
  const char* text;  // nullptr: rejected
  Kind kind = Kind::name;
};

struct AuthorityCase {
  std::string input;
  const char* host;  // nullptr: rejected
  uint16_t port = 0;
  Kind kind = Kind::name;
};

}  // namespace

TEST_CASE("host names: one normal form, garbage rejected", "[host_name]") {
  const std::string label63(63, 'a'), label64(64, 'a');
  // 4 labels of 63 and dots: 255 bytes; trimmed to exactly 253.
  const std::string name253 = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
  const std::string long_label_name = label63 + ".com";
  const HostCase cases[] = {
      // ASCII names: lower case, one trailing dot removed
      {"api.openai.com", "api.openai.com"},
      {"API.OpenAI.COM", "api.openai.com"},
      {"api.openai.com.", "api.openai.com"},
      {"localhost", "localhost"},
      {"under_score.internal", "under_score.internal"},
      {"r3---sn-abc.googlevideo.com", "r3---sn-abc.googlevideo.com"},  // "--" in places 3-4 of an ASCII label
      {"1.2.3.4a", "1.2.3.4a"},                                        // ends in a label, not a number
      // IDNs: U-labels to A-labels (UTS #46, nontransitional); punycode kept, checked, lower-cased
      {"bücher.de", "xn--bcher-kva.de"},
      {"BÜCHER.DE.", "xn--bcher-kva.de"},
      {"xn--bcher-kva.de", "xn--bcher-kva.de"},
      {"XN--BCHER-KVA.de", "xn--bcher-kva.de"},
      {"straße.de", "xn--strae-oqa.de"},
      {"日本語.jp", "xn--wgv71a119e.jp"},
      {"ｂｏｏｋ.example", "book.example"},           // full-width letters, as browsers map them
      {"ａｐｉ.openai.com", "api.openai.com"},         // so a full-width AI host is the AI host
      {"api。openai。com", "api.openai.com"},          // ideographic full stop
      {"xn--a.de", nullptr},                            // punycode that decodes to a control character
      {"xn--.de", nullptr},
      {"bücher..de", nullptr},
      {"\xff\xfe.com", nullptr},                        // not UTF-8
      // IP literals
      {"10.0.0.5", "10.0.0.5", Kind::ipv4},
      {"::1", "::1", Kind::ipv6},
      {"[::1]", "::1", Kind::ipv6},
      {"[2001:DB8::1]", "2001:db8::1", Kind::ipv6},
      {"2001:db8:0:0:0:0:0:1", "2001:db8::1", Kind::ipv6},
      {"::ffff:10.1.2.3", "::ffff:10.1.2.3", Kind::ipv6},
      {"300.0.0.1", nullptr},
      // Every spelling a browser or inet_aton(3) reads as an IPv4 address is that address
      // (WHATWG), so the destination guard sees the one address it would connect to.
      {"01.02.03.04", "1.2.3.4", Kind::ipv4},  // octal
      {"127.1", "127.0.0.1", Kind::ipv4},
      {"1.2.3", "1.2.0.3", Kind::ipv4},
      {"2130706433", "127.0.0.1", Kind::ipv4},
      {"0x7f000001", "127.0.0.1", Kind::ipv4},
      {"0X7F.0.0.1", "127.0.0.1", Kind::ipv4},
      {"0x7f.0.0.1", "127.0.0.1", Kind::ipv4},
      {"0177.0.0.1", "127.0.0.1", Kind::ipv4},
      {"127.000.000.001", "127.0.0.1", Kind::ipv4},
      {"0", "0.0.0.0", Kind::ipv4},
      {"0x", "0.0.0.0", Kind::ipv4},
      {"127.0.0.1.", "127.0.0.1", Kind::ipv4},
      {"4294967295", "255.255.255.255", Kind::ipv4},
      {"4294967296", nullptr},                 // past 32 bits
      {"1.16777216", nullptr},                 // the last part overflows its 24 bits
      {"256.1", nullptr},
      {"09.1.1.1", nullptr},                   // 9 is not an octal digit
      {"1.2.3.4.5", nullptr},
      {"0xg.1.1.1", nullptr},
      {"00000000000000000000000000000001.2.3.4", "1.2.3.4", Kind::ipv4},
      {"fe80::1%eth0", nullptr},
      {"[::1", nullptr},
      {":::", nullptr},
      // garbage
      {"", nullptr},
      {".", nullptr},
      {"..", nullptr},
      {"api.openai.com..", nullptr},
      {".api.openai.com", nullptr},
      {"api..openai.com", nullptr},
      {"-api.openai.com", nullptr},
      {"api-.openai.com", nullptr},
      {"api openai.com", nullptr},
      {" api.openai.com", nullptr},
      {"api.openai.com\t", nullptr},
      {std::string("api.openai.com\0.evil", 20), nullptr},
      {"api.openai.com\r\nX: y", nullptr},
      {"api\x7f.openai.com", nullptr},
      {"api%2eopenai.com", nullptr},
      {"api.openai.com/x", nullptr},
      {"*.openai.com", nullptr},
      {"api.openai.com:443", nullptr},  // a host alone has no port
      {"user@api.openai.com", nullptr},
      {long_label_name, long_label_name.c_str()},
      {label64 + ".com", nullptr},
      {name253, name253.c_str()},
      {name253 + "b", nullptr},
  };
  for (const HostCase& c : cases) {
    INFO("host '" << c.input << "'");
    std::string why;
    auto parsed = parse_host(c.input, &why);
    if (!c.text) {
      CHECK_FALSE(parsed);
      CHECK_FALSE(why.empty());
      continue;
    }
    REQUIRE(parsed);
    CHECK(parsed->text == c.text);
    CHECK(parsed->kind == c.kind);
    CHECK(parsed->is_ip_literal() == (c.kind != Kind::name));
    // The normal form is a fixed point: reading it again changes nothing.
    auto again = parse_host(parsed->text);
    REQUIRE(again);
    CHECK(again->text == parsed->text);
  }
}

TEST_CASE("authorities: host, port, IPv6 in brackets, no userinfo", "[host_name]") {
  const AuthorityCase cases[] = {
      {"api.openai.com", "api.openai.com", 443},
      {"api.openai.com:8443", "api.openai.com", 8443},
      {"API.OpenAI.com.:443", "api.openai.com", 443},
      {"api.openai.com:080", "api.openai.com", 80},
      {"api.openai.com:65535", "api.openai.com", 65535},
      {"bücher.de:8080", "xn--bcher-kva.de", 8080},
      {"10.0.0.5:8000", "10.0.0.5", 8000, Kind::ipv4},
      {"[2001:db8::1]:8080", "2001:db8::1", 8080, Kind::ipv6},
      {"[2001:DB8::1]", "2001:db8::1", 443, Kind::ipv6},
      // ports
      {"api.openai.com:", nullptr},
      {"api.openai.com:0", nullptr},
      {"api.openai.com:65536", nullptr},
      {"api.openai.com:000443", nullptr},
      {"api.openai.com:+443", nullptr},
      {"api.openai.com:-1", nullptr},
      {"api.openai.com:44x", nullptr},
      {"api.openai.com: 443", nullptr},
      {"api.openai.com:443:443", nullptr},
      {":443", nullptr},
      {"[::1]:", nullptr},
      {"[::1]443", nullptr},
      {"[::1", nullptr},
      {"[api.openai.com]:443", nullptr},
      // IPv6 needs brackets, so its last group is never read as a port
      {"2001:db8::1", nullptr},
      {"::1:443", nullptr},
      // userinfo: rejected, never stripped
      {"user@api.openai.com", nullptr},
      {"user:pw@api.openai.com:443", nullptr},
      {"api.openai.com@evil.example", nullptr},
      {"api.openai.com:443@evil.example", nullptr},
      // garbage
      {"", nullptr},
      {"api..openai.com:443", nullptr},
      {"api openai.com:443", nullptr},
  };
  for (const AuthorityCase& c : cases) {
    INFO("authority '" << c.input << "'");
    std::string why;
    auto parsed = parse_authority(c.input, 443, &why);
    if (!c.host) {
      CHECK_FALSE(parsed);
      CHECK_FALSE(why.empty());
      continue;
    }
    REQUIRE(parsed);
    CHECK(parsed->host.text == c.host);
    CHECK(parsed->port == c.port);
    CHECK(parsed->host.kind == c.kind);
  }
  // Without a default port, one is required.
  std::string why;
  CHECK_FALSE(parse_authority("localhost", 0, &why));
  CHECK(why == "the port is missing");
  CHECK(parse_authority("localhost:1", 0)->port == 1);
  CHECK_FALSE(parse_authority("user@a.com", 443, &why));
  CHECK(why == "user info (user@host) is not allowed");
}

TEST_CASE("a NUL byte never hides the rest of a host (found by fuzz/host_name_fuzz)", "[host_name]") {
  using namespace std::string_literals;
  // inet_pton stops at the NUL: "1::0" alone would parse, the '@' and what follows unseen.
  CHECK_FALSE(parse_host("1::0\0\0@\0"s));
  CHECK_FALSE(parse_host("[1::0\0evil]"s));
  CHECK_FALSE(parse_authority("[::1\0]:443"s, 443));
  CHECK_FALSE(parse_host("api.openai.com\0.evil.com"s));
  CHECK_FALSE(parse_authority("api.openai.com\0:443"s, 443));
}

TEST_CASE("the catalog reads hosts as the parser does: every spelling of a host is one host", "[host_name][catalog]") {
  Service openai;
  openai.name = "openai";
  openai.hosts = {"api.openai.com"};
  Service books;
  books.name = "books";
  books.hosts = {"*.bücher.de"};
  const ServiceCatalog catalog({openai, books});
  for (const char* host : {"api.openai.com", "API.OPENAI.COM.", "ａｐｉ.openai.com", "api。openai。com"}) {
    INFO(host);
    REQUIRE(catalog.by_host(host));
    CHECK(catalog.by_host(host)->name == "openai");
  }
  for (const char* host : {"shop.bücher.de", "shop.xn--bcher-kva.de", "SHOP.XN--BCHER-KVA.DE."}) {
    INFO(host);
    REQUIRE(catalog.by_host(host));
    CHECK(catalog.by_host(host)->name == "books");
  }
  for (const char* host : {"api..openai.com", "user@api.openai.com", "api.openai.com:443", "", "."}) {
    INFO(host);
    CHECK(catalog.by_host(host) == nullptr);
  }
  CHECK_THROWS_AS(ServiceCatalog({[] {
                    Service s;
                    s.name = "bad";
                    s.hosts = {"a..b"};
                    return s;
                  }()}),
                  std::invalid_argument);
}

}  // namespace promptwall::gateway
