#include "classifiers/validators.h"

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <string_view>

namespace v = promptwall::validators;
using namespace std::string_view_literals;

namespace {

struct Case {
  std::string_view in;
  bool valid;
};

// One CHECK per row, named by its input, so a failure points at the row that broke.
template <std::size_t N>
void check_table(v::Validator fn, const Case (&cases)[N]) {
  for (const Case& c : cases) {
    INFO("candidate: \"" << std::string(c.in) << "\" expected " << (c.valid ? "valid" : "invalid"));
    CHECK(fn(c.in) == c.valid);
  }
}

// Tests write JWT headers as JSON and encode them here, so a row says what the header holds.
std::string base64url(std::string_view bytes) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned n = static_cast<unsigned char>(bytes[i]) << 16 |
                       static_cast<unsigned char>(bytes[i + 1]) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(n >> shift) & 63];
  }
  if (bytes.size() - i == 1) {
    const unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    const unsigned n = static_cast<unsigned char>(bytes[i]) << 16 |
                       static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

}  // namespace

TEST_CASE("cccd: 12 digits, province from the table, century/sex digit 0-3", "[validators]") {
  const Case cases[] = {
      {"066087004913", true},     // the documented example (Đắk Lắk)
      {"001099012345", true},     // lowest province code, Hà Nội
      {"096301234567", true},     // highest province code, Cà Mau; century digit 3
      {"079203001234", true},     // TP HCM, century digit 2
      {"002100000001", true},     // Hà Giang, century digit 1
      {"095188000999", true},     // Bạc Liêu
      {"048195000123", true},     // Đà Nẵng
      {"066 087 004 913", true},  // grouped by spaces
      {"066.087.004.913", true},  // grouped by dots
      {"0660 8700 4913", true},   // other group sizes
      {"066 087.004 913", true},  // mixed single separators are still one number
      {"098271003566", false},    // province 098 is not in the table
      {"192168134251", false},    // first digits past the table (an IPv4 without its dots)
      {"999087004913", false},
      {"000087004913", false},    // 000 is no province
      {"003087004913", false},    // gap in the table
      {"097087004913", false},    // just past the last code
      {"099087004913", false},
      {"066487004913", false},  // century/sex digit 4
      {"066987004913", false},  // century/sex digit 9
      {"06608700491", false},   // 11 digits
      {"0660870049130", false},  // 13 digits
      {"066  087 004 913", false},  // two separators in a row
      {" 066087004913", false},     // separator at the start
      {"066087004913.", false},     // separator at the end
      {"066-087-004-913", false},   // dashes are not a CCCD separator
      {"06608700491a", false},
      {"", false},
  };
  check_table(v::cccd, cases);
}

TEST_CASE("cmnd: 9 digits, not one digit repeated", "[validators]") {
  const Case cases[] = {
      {"012345678", true},   {"123456789", true},   {"271003566", true},
      {"000000001", true},   // one different digit is enough
      {"999999998", true},   {"100000000", true},
      {"012 345 678", true},  // grouped as printed on the card
      {"012.345.678", true},
      {"000000000", false},  {"111111111", false},  {"999999999", false},
      {"12345678", false},       // 8 digits
      {"1234567890", false},     // 10 digits
      {"12345678a", false},      {"012-345-678", false},
      {"012  345 678", false},   {"012 345 678 ", false},
      {"", false},
  };
  check_table(v::cmnd, cases);
}

TEST_CASE("passport_vn: one letter then 7 digits", "[validators]") {
  const Case cases[] = {
      {"C6129058", true}, {"B1234567", true}, {"N0000001", true}, {"P9876543", true},
      {"K0123456", true}, {"E2345678", true}, {"Z7654321", true},
      {"c6129058", true},  // either case
      {"C612905", false},      // 6 digits
      {"C61290581", false},    // 8 digits
      {"CC129058", false},     // two letters
      {"61290581", false},     // no letter
      {"C6129O58", false},     // letter O among the digits
      {"C 6129058", false},    // no separators
      {"\xC4\x86" "6129058", false},  // Ć: not an ASCII letter
      {"-6129058", false},
      {"C612905 ", false},
      {"", false},
  };
  check_table(v::passport_vn, cases);
}

TEST_CASE("tax_code: weighted check digit, optional -### branch", "[validators]") {
  const Case cases[] = {
      {"0201456787", true},  // documented example: sum 311, 311 mod 11 = 3, check 7
      {"0100100008", true},
      {"0300000000", true},  // sum mod 11 = 10: check 0
      {"1234567893", true},
      {"0101234565", true},
      {"3101234560", true},
      {"0400000004", true},
      {"0100000003", true},
      {"0201456787-001", true},  // lowest branch
      {"0201456787-999", true},  // highest branch
      {"0100100008-010", true},
      {"0201456788", false},      // wrong check digit
      {"0201456780", false},
      {"0000000000", false},      // sum mod 11 = 0: check would be 10, no digit fits
      {"9876543210", false},      // same, sum mod 11 = 0
      {"0501234560", false},      // same
      {"020145678", false},       // 9 digits
      {"02014567870", false},     // 11 digits
      {"0201456787-000", false},  // branch 000
      {"0201456787-01", false},   // short branch
      {"0201456787-0001", false},  // long branch
      {"0201456787001", false},    // branch without its dash
      {"0201456787 001", false},   // a space is not the branch separator
      {"0201456788-001", false},   // branch of an invalid code
      {"020145678a", false},
      {"0201456787-00a", false},
      {"", false},
  };
  check_table(v::tax_code, cases);
}

TEST_CASE("social_insurance: 10 digits, not one digit repeated", "[validators]") {
  const Case cases[] = {
      {"0123456789", true},   {"7901234567", true},  {"4812345678", true},
      {"1111111112", true},   {"9999999990", true},  {"0000000001", true},
      {"0123 456 789", true}, {"0123.456.789", true},
      {"0000000000", false},  {"1111111111", false}, {"9999999999", false},
      {"123456789", false},     // 9 digits
      {"01234567890", false},   // 11 digits
      {"012345678a", false},    {"0123-456-789", false},
      {"0123 456 789 ", false}, {" 0123456789", false},
      {"", false},
  };
  check_table(v::social_insurance, cases);
}

TEST_CASE("health_insurance_card: code, benefit digit, province, BHXH code", "[validators]") {
  const Case cases[] = {
      {"DN4790123456789", true},     // documented example
      {"DN 4 79 0123456789", true},  // a space between every group
      {"TE1 01 1234567890", true},   // some groups apart
      {"XV401 0123456789", true},
      {"HC1010000000001", true},     // benefit 1, province 01
      {"NO5991234567890", true},     // last code of the list, benefit 5, province 99
      {"CN3990123456789", true},
      {"GD2450123456789", true},
      {"dn4790123456789", false},   // beneficiary code in lower case
      {"AB4790123456789", false},   // not a beneficiary code
      {"DX4790123456789", false},
      {"DN0790123456789", false},   // benefit digit 0
      {"DN6790123456789", false},   // benefit digit 6
      {"DN4000123456789", false},   // province 00
      {"DN479012345678", false},    // 14 characters
      {"DN47901234567890", false},  // 16 characters
      {"DN  4790123456789", false},  // two spaces
      {"DN4 79 0123 456789", false},  // space inside the BHXH code
      {" DN4790123456789", false},
      {"DN4790123456789 ", false},
      {"DN479012345678A", false},
      {"DN4A90123456789", false},
      {"DN-4-79-0123456789", false},
      {"", false},
  };
  check_table(v::health_insurance_card, cases);
}

TEST_CASE("phone_vn: allocated mobile ranges and 02x landlines", "[validators]") {
  const Case cases[] = {
      {"0327669018", true},          // documented examples
      {"+84888210475", true},
      {"84 912 345 678", true},
      {"024 3825 7777", true},       // Hà Nội landline
      {"0283 822 4567", true},       // TP HCM landline
      {"(024) 3825 7777", true},
      {"+84 (24) 3825 7777", true},
      {"+84 (0) 912 345 678", true},  // trunk 0 kept after the country code
      {"+84 0912 345 678", true},
      {"0084 912 345 678", true},     // 00 international prefix
      {"0084 (0) 24 3825 7777", true},
      {"+84 (0) 0912 345 678", false},
      {"0084 12 345 678", false},
      {"02438257777", true},
      {"0912.345.678", true},
      {"0912-345-678", true},
      {"+84327669018", true},
      {"84327669018", true},
      {"0321234567", true},  {"0391234567", true},  // 03[2-9]
      {"0521234567", true},  {"0561234567", true},  {"0581234567", true},
      {"0591234567", true},                          // 05[2689]
      {"0701234567", true},  {"0761234567", true},  {"0791234567", true},  // 07[06-9]
      {"0811234567", true},  {"0891234567", true},  // 08[1-9]
      {"0901234567", true},  {"0941234567", true},  {"0961234567", true},
      {"0991234567", true},                          // 09[0-46-9]
      {"113", false},  {"114", false},  {"115", false},  // emergency short codes
      {"19001234", false},  {"1900 1234", false},  {"18001234", false},
      {"1800 599 920", false},
      {"0951234567", false},  // 095 not allocated
      {"0311234567", false},  {"0301234567", false},
      {"0501234567", false},  {"0541234567", false}, {"0571234567", false},
      {"0711234567", false},  {"0751234567", false},
      {"0801234567", false},
      {"0127669018", false},   // pre-2018 11-digit prefix, truncated
      {"01212345678", false},  // pre-2018 11-digit mobile
      {"032766901", false},    // 9 digits after 0... one short
      {"03276690181", false},  // one long
      {"0243825777", false},   // landline one digit short
      {"024382577777", false},  // landline one digit long
      {"+840327669018", true},   // the trunk 0 kept after the country code: still this subscriber
      {"+85327669018", false},   // another country
      {"+0327669018", false},    // '+' without 84
      {"84+912345678", false},   // '+' in the middle
      {"++84912345678", false},
      {"0327 669 o18", false},   // a letter
      {"0327_669_018", false},
      {"", false},
  };
  check_table(v::phone_vn, cases);
}

TEST_CASE("payment_card: Luhn and a known network prefix", "[validators]") {
  const Case cases[] = {
      {"4024 0071 1893 4529", true},  // documented example
      {"4024-0071-1893-4529", true},
      {"4024007118934529", true},
      {"4910115445229", true},        // Visa, 13 digits (shortest)
      {"4438244753095410336", true},  // Visa, 19 digits (longest)
      {"5112808371165960", true},     // Mastercard 51
      {"5574434600647362", true},     // Mastercard 55
      {"2221729999159653", true},     // Mastercard 2221
      {"2720935533247229", true},     // Mastercard 2720
      {"3455 192641 36303", true},    // Amex 34, 4-6-5 grouping
      {"371009935196701", true},      // Amex 37
      {"3528914118061562", true},     // JCB 3528
      {"3589470577044462", true},     // JCB 3589
      {"6011056791075530", true},     // Discover 6011
      {"6546988017465570", true},     // Discover 65
      {"6440606768191206", true},     // Discover 644
      {"6497084211223103", true},     // Discover 649
      {"6261883075886077", true},     // UnionPay 62
      {"6242895161721502292", true},  // UnionPay, 19 digits
      {"30008844448222", true},       // Diners 300
      {"30517676406231", true},       // Diners 305
      {"36740799980460", true},       // Diners 36
      {"38568854331107", true},       // Diners 38
      {"9704548841898016", true},     // NAPAS, 16 digits
      {"9704272447625375441", true},  // NAPAS, 19 digits
      {"4556 7301 8829 1046", false},  // documented example: fails Luhn
      {"4024007118934528", false},     // last digit off by one
      {"970454428482623186", false},   // NAPAS, 18 digits
      {"9704789129846", false},        // NAPAS, 13 digits
      {"2220656593002305", false},     // just below the Mastercard 2-series
      {"2721191189278220", false},     // just above it
      {"5059764293490470", false},     // 50
      {"5624172919117582", false},     // 56
      {"3527017946311042", false},     // just below JCB
      {"3590674271526487", false},     // just above JCB
      {"3598483953299963", false},
      {"6435304387912122", false},     // 643, just below Discover 644
      {"6019488236270636", false},     // 60 but not 6011
      {"30625288652306", false},       // 306, just above Diners 300-305
      {"1672322654871436", false},     // no network starts with 1, 7 or 8
      {"7901404835350447", false},
      {"8783014767357624", false},
      {"411111111117", false},           // Luhn-valid but 12 digits
      {"41111111111111111115", false},   // Luhn-valid but 20 digits
      {"4024  0071 1893 4529", false},   // two separators in a row
      {"4024 0071 1893 4529 ", false},   // separator at the end
      {"-4024007118934529", false},
      {"4024.0071.1893.4529", false},    // dots are not a card separator
      {"4024 0071 1893 452x", false},
      {"", false},
  };
  check_table(v::payment_card, cases);
}

TEST_CASE("ipv4: dotted quad, no leading zeros, not reserved for documentation", "[validators]") {
  const Case cases[] = {
      {"10.40.2.15", true},  {"8.8.8.8", true},      {"192.168.1.1", true},
      {"0.0.0.1", true},     // only the all-zero address is excluded
      {"1.0.0.0", true},     {"255.255.255.254", true},  // only the broadcast is excluded
      {"192.0.1.255", true},   {"192.0.3.0", true},      // either side of 192.0.2.0/24
      {"198.51.99.1", true},   {"198.51.101.1", true},   // either side of 198.51.100.0/24
      {"203.0.112.255", true}, {"203.0.114.0", true},    // either side of 203.0.113.0/24
      {"256.1.1.1", false},    {"1.2.3.256", false},     {"1000.1.1.1", false},
      {"1.2.3", false},        {"1.2.3.4.5", false},
      {"01.2.3.4", false},     {"1.2.3.04", false},      {"1.2.3.00", false},
      {"0.0.0.0", false},      {"255.255.255.255", false},
      {"192.0.2.0", false},    {"192.0.2.1", false},     {"192.0.2.255", false},
      {"198.51.100.7", false}, {"203.0.113.200", false},
      {"1..2.3", false},       {".1.2.3", false},        {"1.2.3.", false},
      {"1.2.3.-1", false},     {"1.2.3.4 ", false},      {"a.b.c.d", false},
      {"", false},
  };
  check_table(v::ipv4, cases);
}

TEST_CASE("ipv6: any inet_pton form, not documentation, unspecified or loopback", "[validators]") {
  const Case cases[] = {
      {"fe80::1ff:fe23:4567:890a", true},
      {"2402:800:6371:4e9a::1", true},
      {"FE80::1FF:FE23:4567:890A", true},
      {"2402:0800:6371:4E9A:0000:0000:0000:0001", true},  // full form
      {"2001:4860:4860::8888", true},
      {"2001:db9::1", true},   // just outside 2001:db8::/32
      {"2001:db7::1", true},
      {"::2", true},
      {"1::", true},
      {"::ffff:10.0.0.1", true},                                 // IPv4-mapped
      {"0000:0000:0000:0000:0000:ffff:255.255.255.255", true},  // 45 bytes, the longest form
      {"2001:db8::1", false},
      {"2001:0DB8:0000::abcd", false},
      {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", false},
      {"::", false},
      {"0:0:0:0:0:0:0:0", false},
      {"::1", false},
      {"0:0:0:0:0:0:0:1", false},
      {"12:30:45", false},            // a time of day
      {"00:1A:2B:3C:4D:5E", false},   // a MAC address
      {"1:2", false},                 // one colon
      {"1:2:3:4:5:6:7:8:9", false},
      {"1::2::3", false},
      {"gggg::1", false},
      {"fe80::1%eth0", false},        // zone ids are not part of inet_pton's syntax
      {"fe80::1 ", false},
      {"0000:0000:0000:0000:0000:ffff:255.255.255.2550", false},  // 46 bytes
      {"fe80::1\0:1"sv, false},       // an embedded NUL must not cut the copy short
      {"", false},
  };
  check_table(v::ipv6, cases);

  // A candidate far longer than the stack buffer is rejected without touching it.
  CHECK_FALSE(v::ipv6(std::string(4096, ':')));
}

TEST_CASE("email: plausible address, not documentation or reserved names", "[validators]") {
  const std::string local64(64, 'a');
  const std::string local65(65, 'a');
  const std::string with64 = local64 + "@mail.vn";
  const std::string with65 = local65 + "@mail.vn";
  const Case cases[] = {
      {"tuyen.pv@ninhbinh.gov.vn", true},
      {"a@b.co", true},
      {"john+tag@gmail.com", true},
      {"x_y%z-w@mail-server.vn", true},
      {"A.B@Example.ORG.vn", true},       // example.org.vn is not example.org
      {"user@notexample.com", true},      // nor is notexample.com
      {"user@xn--80ak6aa92e.com", true},  // punycode label
      {"1234@domain.abcdefghijklmnopqrstuvwx", true},  // 24-letter TLD
      {"u@192-168-1-1.vn", true},
      {with64, true},
      {"user@example.com", false},
      {"user@EXAMPLE.COM", false},
      {"user@mail.example.org", false},
      {"user@example.net", false},
      {"user@foo.test", false},
      {"user@foo.example", false},
      {"user@foo.invalid", false},
      {"user@foo.localhost", false},
      {"user@localhost", false},        // one label
      {"user@domain", false},
      {with65, false},                  // local part over 64
      {".user@domain.vn", false},
      {"user.@domain.vn", false},
      {"us..er@domain.vn", false},
      {"@domain.vn", false},
      {"user@", false},
      {"user@-domain.vn", false},
      {"user@domain-.vn", false},
      {"user@domain..vn", false},
      {"user@.domain.vn", false},
      {"user@domain.vn.", false},
      {"user@domain.v", false},         // 1-letter TLD
      {"user@domain.vn1", false},       // digit in the TLD
      {"user@domain.abcdefghijklmnopqrstuvwxy", false},  // 25-letter TLD
      {"us er@domain.vn", false},
      {"user@do_main.vn", false},
      {"user@@domain.vn", false},
      {"t\xC3\xBA@domain.vn", false},   // non-ASCII local part
      {"userdomain.vn", false},
      {"", false},
  };
  check_table(v::email, cases);
}

TEST_CASE("jwt: three base64url parts, header a JSON object naming alg", "[validators]") {
  const Case cases[] = {
      {"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
       "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
       true},                                               // documented example
      {"eyJhbGciOiJIUzI1NiJ9.e30.c2ln", true},              // {"alg":"HS256"}
      {"eyJhbGciOiJIUzI1NiIsImsiOiJhIn0=.e30.c2ln", true},  // header padded
      {"eyJhbGciOiJFUzI1NiIsImtpZCI6Ij8_Pj5-fiJ9.e30.c2ln", true},  // - and _ in the header
      {"eyJhbGciOiJIUzI1NiJ9.e30.c2ln.c2ln", false},        // four parts
      {"eyJhbGciOiJIUzI1NiJ9.e30", false},                  // two parts
      {"eyJhbGciOiJIUzI1NiJ9.e30.", false},                 // empty signature
      {"eyJhbGciOiJIUzI1NiJ9..c2ln", false},                // empty payload
      {".e30.c2ln", false},                                 // empty header
      {"eyJ0eXAiOiJKV1QifQ.e30.c2ln", false},               // {"typ":"JWT"}: no alg
      {"aGVsbG8.e30.c2ln", false},                          // "hello"
      {"eyJhbGciOiJIUzI1NiJ9=.e30.c2ln", false},            // padding where none belongs
      {"eyJhbGciOiJIUzI1NiJ9.e30==.c2ln", false},  // two pads on a 3-character quantum
      {"eyJhbGciOiJIUzI1NiJ9a.e30.c2ln", false},            // header length 1 mod 4
      {"eyJhbGciOiJIUzI1NiJ9.e3+0.c2ln", false},            // '+' is base64, not base64url
      {"eyJhbGciOiJIUzI1NiJ9.e30.c2/n", false},
      {"eyJhbGciOiJIUzI1NiJ9.e30.c2ln ", false},
      {"", false},
  };
  check_table(v::jwt, cases);

  struct HeaderCase {
    std::string_view json;
    bool valid;
  };
  const HeaderCase headers[] = {
      {R"({"alg":"HS256"})", true},
      {R"( {"alg":"none"})", true},                 // leading space
      {"\n\t{\"alg\":\"HS256\"}", true},            // leading white space of any kind
      {R"({"typ":"JWT","alg":"RS256"})", true},     // alg not first
      {R"({""alg":"x"})", true},                    // "alg" right after another quote
      {R"({"typ":"JWT"})", false},
      {R"(["alg"])", false},                        // an array, not an object
      {R"(x{"alg":"HS256"})", false},               // text before the brace
      {R"({"xalg":1})", false},
      {R"({"Alg":"HS256"})", false},                // names are case-sensitive
      {R"({alg:"HS256"})", false},                  // unquoted name
      {"", false},
  };
  for (const HeaderCase& h : headers) {
    const std::string token = base64url(h.json) + ".e30.c2ln";
    INFO("header: " << std::string(h.json) << " token: " << token);
    CHECK(v::jwt(token) == h.valid);
  }

  // Certificate chains make real headers kilobytes long; the decoder must not need a buffer.
  const std::string big_header =
      R"({"typ":"JWT","x5c":[")" + std::string(3000, 'A') + R"("],"alg":"RS256"})";
  CHECK(v::jwt(base64url(big_header) + ".e30.c2ln"));
}

TEST_CASE("shannon_entropy: bits per byte", "[validators]") {
  CHECK(v::shannon_entropy("") == 0.0);
  CHECK(v::shannon_entropy("a") == 0.0);
  CHECK(v::shannon_entropy("aaaaaaaa") == 0.0);
  CHECK(v::shannon_entropy("ab") == Approx(1.0));
  CHECK(v::shannon_entropy("abababab") == Approx(1.0));
  CHECK(v::shannon_entropy("abcd") == Approx(2.0));
  CHECK(v::shannon_entropy("0123456789abcdef") == Approx(4.0));
  CHECK(v::shannon_entropy("aab") == Approx(0.9182958340544896));
  // Bytes, not code points: "đ" is two distinct bytes.
  CHECK(v::shannon_entropy("\xC4\x91") == Approx(1.0));

  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte += static_cast<char>(b);
  CHECK(v::shannon_entropy(every_byte) == Approx(8.0));

  // Order does not matter, only frequencies.
  CHECK(v::shannon_entropy("066087004913") == Approx(v::shannon_entropy("000013466789")));
}

TEST_CASE("all lists every validator in a stable order, find maps names", "[validators]") {
  const std::string_view expected[] = {"cccd",         "cmnd",       "passport_vn",
                                       "tax_code",     "social_insurance",
                                       "health_insurance_card",      "phone_vn",
                                       "payment_card", "ipv4",       "ipv6",
                                       "email",        "jwt"};
  const auto list = v::all();
  REQUIRE(list.size() == std::size(expected));
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < list.size(); ++i) {
    INFO("index " << i);
    CHECK(list[i].name == expected[i]);
    CHECK(list[i].fn != nullptr);
    CHECK(v::find(list[i].name) == list[i].fn);
    seen.insert(list[i].name);
  }
  CHECK(seen.size() == list.size());

  CHECK(v::find("cccd") == &v::cccd);
  CHECK(v::find("cmnd") == &v::cmnd);
  CHECK(v::find("passport_vn") == &v::passport_vn);
  CHECK(v::find("tax_code") == &v::tax_code);
  CHECK(v::find("social_insurance") == &v::social_insurance);
  CHECK(v::find("health_insurance_card") == &v::health_insurance_card);
  CHECK(v::find("phone_vn") == &v::phone_vn);
  CHECK(v::find("payment_card") == &v::payment_card);
  CHECK(v::find("ipv4") == &v::ipv4);
  CHECK(v::find("ipv6") == &v::ipv6);
  CHECK(v::find("email") == &v::email);
  CHECK(v::find("jwt") == &v::jwt);

  CHECK(v::find("") == nullptr);
  CHECK(v::find("unknown") == nullptr);
  CHECK(v::find("CCCD") == nullptr);   // names are exact
  CHECK(v::find("cccd ") == nullptr);
  CHECK(v::find("shannon_entropy") == nullptr);  // not a validator
}

TEST_CASE("every validator rejects empty and oversized input", "[validators]") {
  const std::string long_digits(10000, '7');
  const std::string long_text(10000, 'a');
  for (const v::NamedValidator& nv : v::all()) {
    INFO("validator " << std::string(nv.name));
    CHECK_FALSE(nv.fn(""));
    CHECK_FALSE(nv.fn(long_digits));
    CHECK_FALSE(nv.fn(long_text));
  }
}
