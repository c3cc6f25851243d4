#include "classifiers/validators.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <arpa/inet.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace promptwall::validators {
namespace {

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
constexpr bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
constexpr bool is_alpha(char c) { return is_upper(c) || is_lower(c); }
constexpr bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
constexpr char to_lower(char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr bool all_digits(std::string_view s) {
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return true;
}

// A run of one repeated digit (000000000, 111111111) is what people type as a placeholder or a
// test value, never an issued number.
constexpr bool one_digit_repeated(std::string_view digits) {
  return digits.find_first_not_of(digits.front()) == std::string_view::npos;
}

// Caller guarantees the characters are digits and the value fits.
constexpr int to_int(std::string_view digits) {
  int v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

// Collects the digits of `s` into `out`, allowing one character of `seps` between two digits:
// people group long numbers (`066 087 004 913`, `4024-0071-1893-4529`), but a separator at an end
// or two in a row means the pattern grabbed something that is not one number. Returns the
// digits, or an empty view when `s` holds anything else or more digits than `out` can take (no
// caller accepts an empty number, so empty doubles as "invalid").
template <std::size_t N>
std::string_view collect_grouped_digits(std::string_view s, std::string_view seps,
                                        std::array<char, N>& out) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (is_digit(c)) {
      if (n == N) return {};
      out[n++] = c;
    } else if (seps.find(c) == std::string_view::npos || i == 0 || i + 1 == s.size() ||
               !is_digit(s[i - 1]) || !is_digit(s[i + 1])) {
      return {};
    }
  }
  return {out.data(), n};
}

// Province and city codes of the CCCD, indexed by code; the gaps are codes never assigned.
constexpr auto kCccdProvinces = [] {
  std::array<bool, 100> table{};
  for (int code : {1,  2,  4,  6,  8,  10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25,
                   26, 27, 30, 31, 33, 34, 35, 36, 37, 38, 40, 42, 44, 45, 46, 48,
                   49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75,
                   77, 79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96}) {
    table[static_cast<std::size_t>(code)] = true;
  }
  return table;
}();

// Beneficiary codes printed at the start of a BHYT card (Decision 1351/QĐ-BHXH list, with the
// codes for pensioners HT, students SV, armed forces QN/CA/CY and the later additions).
constexpr std::array<std::string_view, 45> kBhytBeneficiaries = {
    "DN", "HX", "CH", "NN", "TK", "HC", "XK", "XB", "TN", "CS", "XN", "MS", "CC", "CK", "CB",
    "KC", "HD", "TE", "BT", "HN", "DT", "DK", "XD", "TS", "TC", "TQ", "TA", "TY", "HG", "LS",
    "CN", "HS", "GD", "TL", "XV", "NO", "HT", "SV", "QN", "CA", "CY", "TB", "CT", "PV", "GB"};

// The check digit of a 10-digit MST; -1 when the first nine digits admit none (check 10).
constexpr int tax_check_digit(std::string_view digits) {
  constexpr std::array<int, 9> kWeights = {31, 29, 23, 19, 17, 13, 7, 5, 3};
  int sum = 0;
  for (std::size_t i = 0; i < kWeights.size(); ++i) sum += (digits[i] - '0') * kWeights[i];
  const int check = 10 - sum % 11;
  return check <= 9 ? check : -1;
}

constexpr bool tax_code_10(std::string_view s) {
  return s.size() == 10 && all_digits(s) && tax_check_digit(s) == s[9] - '0';
}

// Allocated mobile prefixes (the two digits after 0 / 84), per the post-2018 renumbering.
constexpr bool mobile_prefix(char a, char b) {
  switch (a) {
    case '3': return b >= '2' && b <= '9';
    case '5': return b == '2' || b == '6' || b == '8' || b == '9';
    case '7': return b == '0' || (b >= '6' && b <= '9');
    case '8': return b >= '1' && b <= '9';
    case '9': return b != '5';
    default: return false;
  }
}

constexpr bool luhn(std::string_view digits) {
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

// Caller guarantees at least 13 digits, so every prefix length below exists.
constexpr bool known_card_network(std::string_view digits) {
  const int p2 = to_int(digits.substr(0, 2));
  const int p3 = to_int(digits.substr(0, 3));
  const int p4 = to_int(digits.substr(0, 4));
  if (p4 == 9704) return digits.size() == 16 || digits.size() == 19;  // NAPAS domestic
  return digits[0] == '4'                                 // Visa
         || (p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)  // Mastercard
         || p2 == 34 || p2 == 37                          // Amex
         || (p4 >= 3528 && p4 <= 3589)                    // JCB
         || p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649)  // Discover
         || p2 == 62                                      // UnionPay
         || (p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38;   // Diners
}

constexpr int base64url_value(char c) {
  if (is_upper(c)) return c - 'A';
  if (is_lower(c)) return c - 'a' + 26;
  if (is_digit(c)) return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// A base64url part: the alphabet, then optional '=' padding that, when present, completes the
// last quantum exactly. Returns the part without padding, or an empty view when malformed.
constexpr std::string_view base64url_body(std::string_view part) {
  std::string_view body = part;
  while (!body.empty() && body.back() == '=') body.remove_suffix(1);
  const std::size_t pad = part.size() - body.size();
  if (body.empty() || pad > 2 || (pad != 0 && part.size() % 4 != 0) || body.size() % 4 == 1) {
    return {};
  }
  for (char c : body) {
    if (base64url_value(c) < 0) return {};
  }
  return body;
}

// Decodes the JWT header on the fly and checks it looks like a JSON object naming "alg". Streaming
// keeps it allocation-free whatever the header's size (x5c chains make headers kilobytes long).
constexpr bool jwt_header_ok(std::string_view body) {
  constexpr std::string_view kAlg = "\"alg\"";
  bool seen_brace = false;
  bool seen_alg = false;
  std::size_t matched = 0;  // how much of kAlg the latest bytes match
  auto feed = [&](char byte) {
    if (!seen_brace) {
      if (byte == '{') {
        seen_brace = true;
        return true;
      }
      return byte == ' ' || byte == '\t' || byte == '\n' || byte == '\r';
    }
    // kAlg has no proper prefix that is also its suffix, except the lone quote.
    if (byte == kAlg[matched]) {
      if (++matched == kAlg.size()) {
        seen_alg = true;
        matched = 0;
      }
    } else {
      matched = byte == '"' ? 1 : 0;
    }
    return true;
  };
  std::uint32_t bits = 0;
  int nbits = 0;
  for (char c : body) {
    bits = (bits << 6) | static_cast<std::uint32_t>(base64url_value(c));
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      if (!feed(static_cast<char>((bits >> nbits) & 0xFF))) return false;
      if (seen_alg) return true;
    }
  }
  return false;
}

constexpr bool email_local_ok(std::string_view local) {
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.') {
    return false;
  }
  char prev = '\0';
  for (char c : local) {
    if (!is_alnum(c) && std::string_view("._%+-").find(c) == std::string_view::npos) return false;
    // Unquoted local parts may not hold "..", and no mail system issues one.
    if (c == '.' && prev == '.') return false;
    prev = c;
  }
  return true;
}

constexpr bool ends_with_label(std::string_view domain, std::string_view name) {
  return iequals(domain, name) ||
         (domain.size() > name.size() && domain[domain.size() - name.size() - 1] == '.' &&
          iequals(domain.substr(domain.size() - name.size()), name));
}

constexpr bool email_domain_ok(std::string_view domain) {
  if (domain.size() > 253) return false;
  std::size_t labels = 0;
  std::string_view tld;
  std::string_view rest = domain;
  while (true) {
    const std::size_t dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!is_alnum(c) && c != '-') return false;
    }
    ++labels;
    tld = label;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (labels < 2 || tld.size() < 2 || tld.size() > 24) return false;
  for (char c : tld) {
    if (!is_alpha(c)) return false;
  }
  // Documentation and reserved names (RFC 2606, RFC 6761): addresses there belong to no one.
  for (std::string_view reserved : {"example.com", "example.net", "example.org"}) {
    if (ends_with_label(domain, reserved)) return false;
  }
  for (std::string_view reserved : {"test", "example", "invalid", "localhost"}) {
    if (iequals(tld, reserved)) return false;
  }
  return true;
}

}  // namespace

bool cccd(std::string_view candidate) {
  std::array<char, 12> buf;
  const std::string_view d = collect_grouped_digits(candidate, " .", buf);
  // Province codes are 001-096: the first digit is 0, and the table covers 000-099.
  return d.size() == 12 && d[0] == '0' && kCccdProvinces[static_cast<std::size_t>(to_int(d.substr(0, 3)))] &&
         d[3] <= '3';
}

bool cmnd(std::string_view candidate) {
  std::array<char, 9> buf;
  const std::string_view d = collect_grouped_digits(candidate, " .", buf);
  return d.size() == 9 && !one_digit_repeated(d);
}

bool passport_vn(std::string_view candidate) {
  return candidate.size() == 8 && is_alpha(candidate[0]) && all_digits(candidate.substr(1));
}

bool tax_code(std::string_view candidate) {
  if (candidate.size() == 10) return tax_code_10(candidate);
  if (candidate.size() != 14 || candidate[10] != '-') return false;
  const std::string_view branch = candidate.substr(11);
  return tax_code_10(candidate.substr(0, 10)) && all_digits(branch) && branch != "000";
}

bool social_insurance(std::string_view candidate) {
  std::array<char, 10> buf;
  const std::string_view d = collect_grouped_digits(candidate, " .", buf);
  return d.size() == 10 && !one_digit_repeated(d);
}

bool health_insurance_card(std::string_view candidate) {
  // Groups: beneficiary code, benefit digit, province, BHXH code; one space may follow each of
  // the first three, as the card prints them apart.
  constexpr std::array<std::size_t, 4> kGroups = {2, 1, 2, 10};
  std::array<char, 15> buf;
  std::size_t n = 0;
  std::string_view rest = candidate;
  for (std::size_t g = 0; g < kGroups.size(); ++g) {
    if (g != 0 && !rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.size() < kGroups[g]) return false;
    for (std::size_t i = 0; i < kGroups[g]; ++i) buf[n++] = rest[i];
    rest.remove_prefix(kGroups[g]);
  }
  if (!rest.empty()) return false;
  const std::string_view card(buf.data(), buf.size());
  const std::string_view code = card.substr(0, 2);
  if (!is_upper(code[0]) || !is_upper(code[1])) return false;
  bool known = false;
  for (std::string_view b : kBhytBeneficiaries) known = known || b == code;
  return known && card[2] >= '1' && card[2] <= '5' && all_digits(card.substr(3)) &&
         card.substr(3, 2) != "00";
}

bool phone_vn(std::string_view candidate) {
  std::array<char, 15> buf;  // 0084 + (0) + 10-digit landline is the longest valid form
  std::size_t n = 0;
  bool plus = false;
  for (char c : candidate) {
    if (is_digit(c)) {
      if (n == buf.size()) return false;
      buf[n++] = c;
    } else if (c == '+') {
      if (plus || n != 0) return false;  // only the international prefix carries a '+'
      plus = true;
    } else if (c != ' ' && c != '.' && c != '-' && c != '(' && c != ')') {
      return false;
    }
  }
  std::string_view d(buf.data(), n);
  if (!plus && d.starts_with("0084")) d.remove_prefix(2);  // 00 is the international call prefix
  if (d.starts_with("84")) {
    d.remove_prefix(2);
    // "+84 (0) 912 345 678" and "+84 0912 ...": the trunk 0 kept after the country code.
    if ((d.size() == 10 || d.size() == 11) && d[0] == '0') d.remove_prefix(1);
  } else if (!plus && d.starts_with('0')) {
    d.remove_prefix(1);
  } else {
    return false;
  }
  if (d.size() == 9) return mobile_prefix(d[0], d[1]);
  return d.size() == 10 && d[0] == '2';
}

bool payment_card(std::string_view candidate) {
  std::array<char, 19> buf;
  const std::string_view d = collect_grouped_digits(candidate, " -", buf);
  return d.size() >= 13 && known_card_network(d) && luhn(d);
}

bool ipv4(std::string_view candidate) {
  std::array<int, 4> octets{};
  std::size_t parts = 0;
  std::string_view rest = candidate;
  while (true) {
    const std::size_t dot = rest.find('.');
    const std::string_view part = rest.substr(0, dot);
    if (parts == octets.size() || part.empty() || part.size() > 3 || !all_digits(part) ||
        (part.size() > 1 && part[0] == '0')) {
      return false;
    }
    const int value = to_int(part);
    if (value > 255) return false;
    octets[parts++] = value;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (parts != 4) return false;
  const auto [a, b, c, d] = octets;
  if (a == 0 && b == 0 && c == 0 && d == 0) return false;
  if (a == 255 && b == 255 && c == 255 && d == 255) return false;
  return !((a == 192 && b == 0 && c == 2) || (a == 198 && b == 51 && c == 100) ||
           (a == 203 && b == 0 && c == 113));
}

bool ipv6(std::string_view candidate) {
  // INET6_ADDRSTRLEN (46) counts the NUL; anything longer is no address inet_pton would take.
  std::array<char, 46> text;
  if (candidate.size() >= text.size()) return false;
  std::size_t colons = 0;
  for (char c : candidate) {
    // Also keeps an embedded NUL from cutting the copy short into something valid.
    if (!is_digit(c) && !(to_lower(c) >= 'a' && to_lower(c) <= 'f') && c != ':' && c != '.') {
      return false;
    }
    colons += c == ':';
  }
  if (colons < 2) return false;
  std::memcpy(text.data(), candidate.data(), candidate.size());
  text[candidate.size()] = '\0';
  std::array<unsigned char, 16> addr;
  if (inet_pton(AF_INET6, text.data(), addr.data()) != 1) return false;
  // The unspecified and loopback addresses identify no one.
  constexpr std::array<unsigned char, 16> kUnspecified{};
  constexpr std::array<unsigned char, 16> kLoopback = {0, 0, 0, 0, 0, 0, 0, 0,
                                                       0, 0, 0, 0, 0, 0, 0, 1};
  if (addr == kUnspecified || addr == kLoopback) return false;
  return !(addr[0] == 0x20 && addr[1] == 0x01 && addr[2] == 0x0d && addr[3] == 0xb8);
}

bool email(std::string_view candidate) {
  const std::size_t at = candidate.find('@');
  if (at == std::string_view::npos) return false;
  return email_local_ok(candidate.substr(0, at)) && email_domain_ok(candidate.substr(at + 1));
}

bool jwt(std::string_view candidate) {
  const std::size_t dot1 = candidate.find('.');
  if (dot1 == std::string_view::npos) return false;
  const std::size_t dot2 = candidate.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return false;
  const std::string_view header = base64url_body(candidate.substr(0, dot1));
  const std::string_view payload = base64url_body(candidate.substr(dot1 + 1, dot2 - dot1 - 1));
  // A third '.' fails here too: '.' is not in the alphabet.
  const std::string_view signature = base64url_body(candidate.substr(dot2 + 1));
  return !header.empty() && !payload.empty() && !signature.empty() && jwt_header_ok(header);
}

double shannon_entropy(std::string_view candidate) {
  if (candidate.empty()) return 0.0;
  std::array<std::size_t, 256> counts{};
  for (char c : candidate) ++counts[static_cast<unsigned char>(c)];
  const double total = static_cast<double>(candidate.size());
  double bits = 0.0;
  for (std::size_t count : counts) {
    if (count == 0) continue;
    const double p = static_cast<double>(count) / total;
    bits -= p * std::log2(p);
  }
  return bits;
}

namespace {
constexpr std::array<NamedValidator, 12> kAll = {{
    {"cccd", cccd},
    {"cmnd", cmnd},
    {"passport_vn", passport_vn},
    {"tax_code", tax_code},
    {"social_insurance", social_insurance},
    {"health_insurance_card", health_insurance_card},
    {"phone_vn", phone_vn},
    {"payment_card", payment_card},
    {"ipv4", ipv4},
    {"ipv6", ipv6},
    {"email", email},
    {"jwt", jwt},
}};
}  // namespace

std::span<const NamedValidator> all() { return kAll; }

Validator find(std::string_view name) {
  for (const NamedValidator& v : kAll) {
    if (v.name == name) return v.fn;
  }
  return nullptr;
}

std::string with_ascii_separators(std::string_view candidate) {
  std::string out;
  out.reserve(candidate.size());
  const auto* s = reinterpret_cast<const uint8_t*>(candidate.data());
  const auto len = static_cast<int32_t>(candidate.size());
  for (int32_t i = 0; i < len;) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(s, i, len, c);
    if (c >= 0 && c < 0x80) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    const int8_t type = c < 0 ? static_cast<int8_t>(U_UNASSIGNED) : u_charType(c);
    if (type == U_SPACE_SEPARATOR) {
      out.push_back(' ');
    } else if (type == U_DASH_PUNCTUATION) {
      out.push_back('-');
    } else if (type == U_DECIMAL_DIGIT_NUMBER) {
      out.push_back(static_cast<char>('0' + u_charDigitValue(c)));
    } else if (type != U_FORMAT_CHAR) {
      out.append(candidate.substr(static_cast<size_t>(start), static_cast<size_t>(i - start)));
    }
  }
  return out;
}

}  // namespace promptwall::validators
