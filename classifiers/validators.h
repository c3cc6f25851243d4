// Validators: small pure functions that decide whether a candidate the patterns found is a real
// identifier (a checksum holds, a code is in the official table, an address is routable, ...).
//
// Invariants:
//  - Each takes the candidate exactly as the rule's pattern matched it (NFC UTF-8; it may hold the
//    separators people write: spaces, dots, dashes, a leading '+'), strips what it allows itself,
//    and returns true only for a value that is valid in every respect it checks.
//  - No allocation on the common path, no global state, no I/O: safe to call from any thread.
//  - A rule names its validator in its pack (`validate: cccd`); `find` maps that name to the
//    function, and `names` lists every name so the linter can reject an unknown one.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace promptwall::validators {

using Validator = bool (*)(std::string_view candidate);

// Căn cước công dân: 12 digits; the first three are a province code from the official table,
// the fourth is the century/sex digit 0-3.
bool cccd(std::string_view candidate);
// Chứng minh nhân dân: 9 digits, not a run of one repeated digit (the rule adds a keyword).
bool cmnd(std::string_view candidate);
// Vietnamese passport: one letter then 7 digits.
bool passport_vn(std::string_view candidate);
// Mã số thuế: 10 digits whose 10th is the check digit (weights 31,29,23,19,17,13,7,5,3 on the
// first nine; check = 10 - (sum mod 11); a result of 10 is invalid), or the branch form
// `##########-###` whose first ten digits are valid and whose branch is 001-999.
bool tax_code(std::string_view candidate);
// Bảo hiểm xã hội: 10 digits, not a run of one repeated digit (the rule adds a keyword).
bool social_insurance(std::string_view candidate);
// Thẻ BHYT: 15 characters: a two-letter beneficiary code from the official list, a benefit digit
// 1-5, a two-digit province code, then the 10-digit BHXH code.
bool health_insurance_card(std::string_view candidate);
// Vietnamese subscriber numbers: mobile 03x/05x/07x/08x/09x in the allocated ranges and 02x
// landlines, written with 0, 84 or +84 and optional spaces, dots or dashes; never short codes
// (113, 114, 115) or 1800/1900 numbers.
bool phone_vn(std::string_view candidate);
// Payment card: 13-19 digits (spaces or dashes allowed) passing Luhn, with a known network prefix.
bool payment_card(std::string_view candidate);
// IPv4 dotted quad, octets 0-255 without leading zeros; not 0.0.0.0, not the documentation ranges
// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24.
bool ipv4(std::string_view candidate);
// IPv6 in any textual form inet_pton accepts; not the documentation prefix 2001:db8::/32, not
// the unspecified address.
bool ipv6(std::string_view candidate);
// E-mail address whose domain has a letter TLD of 2+ characters and is not a documentation or
// reserved domain (example.com/.net/.org, *.example, *.test, *.invalid, *.localhost).
bool email(std::string_view candidate);
// JSON Web Token: three base64url parts, the first decoding to a JSON object with "alg".
bool jwt(std::string_view candidate);

// The candidate as validators expect it: Unicode spaces (no-break, narrow, thin...) become ' ',
// Unicode dashes '-', other scripts' and full-width digits ASCII digits, and format characters
// (zero-width spaces, soft hyphens) are dropped; letters are left as they are. People paste
// numbers from Word and web pages with all of these between the digit groups.
std::string with_ascii_separators(std::string_view candidate);

// Shannon entropy of the candidate in bits per byte; rules may ask for a minimum (`min_entropy`).
double shannon_entropy(std::string_view candidate);

struct NamedValidator {
  std::string_view name;
  Validator fn;
};

// Every validator a rule may name, in a stable order.
std::span<const NamedValidator> all();
// The validator called `name`, or nullptr.
Validator find(std::string_view name);

}  // namespace promptwall::validators
