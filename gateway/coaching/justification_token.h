// JustificationToken: the ticket a coaching answer hands a person, which they present (a header, or
// the justification form) to send the same request again with a justification (issue 16).
//
// A token is "pwj1." then base64url (no padding) of 82 bytes:
//   version (1) | kind (1: warn or justify) | id (12, random) | expiry (8, Unix seconds, big-endian)
//   | requester tag (12) | request tag (16) | HMAC-SHA-256 of everything before it (32)
// The tags are keyed hashes (HMAC under the signer's key) of the requester and of the request's
// digest, so the token carries neither a user name nor anything of the request, and tells apart,
// once its MAC holds, "someone else's token" from "a token for another request".
//
// JustificationTokenSigner holds the key (generated at start unless given: tokens die with the
// process, which is what a 10-minute ticket wants) and the lifetime. It checks, in this order:
// malformed, altered (MAC), other requester, other request, expired. Whether the token was used
// already is the OverrideLedger's question (it remembers ids until they expire).
//
// Pure: no I/O but OpenSSL's random bytes for ids and keys. Immutable after construction, so safe
// from any thread. Errors are values (TokenProblem); the constructor throws std::invalid_argument
// for a key shorter than 32 bytes.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace promptwall::gateway::coaching {

using Clock = std::chrono::system_clock;

// What the person is asked for: warn = an acknowledgment (a reason is optional), justify = a reason.
enum class JustificationKind : uint8_t { warn = 1, justify = 2 };
std::string_view to_string(JustificationKind k);

// Why a presented justification did not count. `none` means it did.
enum class TokenProblem : uint8_t {
  none,
  malformed,        // not a token at all
  altered,          // its MAC does not hold: changed, or signed by another gateway or an earlier run
  other_requester,  // issued to someone else
  other_request,    // issued for a different request (the content changed since)
  expired,
  replayed,         // used once already (OverrideLedger)
  reason_missing,   // justify: no reason, or one shorter than the configured minimum
  ledger_full,      // too many justifications in flight to remember another (fail closed)
};
std::string_view to_string(TokenProblem p);

inline constexpr std::string_view kTokenPrefix = "pwj1.";
inline constexpr size_t kTokenIdBytes = 12;

// The token's fields as carried; parse_justification_token() checks nothing but the shape.
struct JustificationToken {
  JustificationKind kind = JustificationKind::warn;
  std::array<uint8_t, kTokenIdBytes> id{};
  int64_t expires = 0;  // Unix seconds
  std::array<uint8_t, 12> requester_tag{};
  std::array<uint8_t, 16> request_tag{};
  std::array<uint8_t, 32> mac{};

  // 24 hex digits: what the audit trail records (never the token itself).
  std::string id_hex() const;
  // The requester and request tags together: the key under which a form's approval is kept.
  std::string subject_key() const;
  Clock::time_point expiry() const { return Clock::time_point(std::chrono::seconds(expires)); }
};

// nullopt unless `text` is kTokenPrefix + exactly the base64url of a version-1 token with a known
// kind (surrounding spaces are not trimmed: the caller trims header values).
std::optional<JustificationToken> parse_justification_token(std::string_view text);
std::string encode(const JustificationToken& token);

// Who and what a token is for, as the gateway computes them (request_digest.h).
struct TokenSubject {
  std::string_view requester;
  std::string_view request_digest;
};

struct TokenCheck {
  TokenProblem problem = TokenProblem::malformed;
  std::optional<JustificationToken> token;  // set whenever it parsed (its id names it in the trail)
};

class JustificationTokenSigner {
 public:
  JustificationTokenSigner(std::string key, std::chrono::seconds lifetime);
  // With 32 random bytes as the key.
  static JustificationTokenSigner with_random_key(std::chrono::seconds lifetime);

  // A new token (random id) for `subject`, expiring `lifetime` after `now`.
  JustificationToken issue(JustificationKind kind, TokenSubject subject, Clock::time_point now) const;
  // The whole check against the request being made now.
  TokenCheck check(std::string_view text, TokenSubject subject, Clock::time_point now) const;
  // The justification form's check: the requester and expiry, not the request (the form does not
  // carry it; the approval it makes is keyed by the token's request tag).
  TokenCheck check_for_requester(std::string_view text, std::string_view requester, Clock::time_point now) const;
  // subject_key() of a token for `subject`: where an approval for this request would be.
  std::string subject_key(TokenSubject subject) const;
  // The form's anti-forgery value for a token: HMAC(key, "form" | id | requester), 32 hex digits.
  std::string form_secret(const JustificationToken& token, std::string_view requester) const;
  std::chrono::seconds lifetime() const { return lifetime_; }

 private:
  std::array<uint8_t, 32> mac_of(const JustificationToken& token) const;
  template <size_t N>
  std::array<uint8_t, N> tag(std::string_view domain, std::string_view value) const;

  std::string key_;
  std::chrono::seconds lifetime_;
};

}  // namespace promptwall::gateway::coaching
