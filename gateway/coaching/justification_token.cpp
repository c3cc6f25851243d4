#include "gateway/coaching/justification_token.h"

#include <cstring>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace promptwall::gateway::coaching {

namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kBodyBytes = 1 + 1 + kTokenIdBytes + 8 + 12 + 16;  // before the MAC
constexpr size_t kTokenBytes = kBodyBytes + 32;
constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(const uint8_t* data, size_t size) {
  std::string out;
  out.reserve((size * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const uint32_t v = (uint32_t(data[i]) << 16) | (uint32_t(data[i + 1]) << 8) | data[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (size - i == 1) {
    const uint32_t v = uint32_t(data[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (size - i == 2) {
    const uint32_t v = (uint32_t(data[i]) << 16) | (uint32_t(data[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Strict: only the canonical spelling of exactly `want` bytes decodes (unused low bits must be
// zero), so one token has one text and an edited character never decodes to the same bytes.
std::optional<std::array<uint8_t, kTokenBytes>> decode_exact(std::string_view text) {
  constexpr size_t want_chars = (kTokenBytes * 4 + 2) / 3;
  if (text.size() != want_chars) return std::nullopt;
  std::array<uint8_t, kTokenBytes> out{};
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (char c : text) {
    const int v = base64url_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n >= kTokenBytes) return std::nullopt;
      out[n++] = static_cast<uint8_t>(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  if (n != kTokenBytes || acc != 0) return std::nullopt;
  return out;
}

std::string hex(const uint8_t* data, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

std::array<uint8_t, kBodyBytes> body_bytes(const JustificationToken& t) {
  std::array<uint8_t, kBodyBytes> b{};
  size_t at = 0;
  b[at++] = kVersion;
  b[at++] = static_cast<uint8_t>(t.kind);
  std::memcpy(&b[at], t.id.data(), t.id.size());
  at += t.id.size();
  for (int i = 7; i >= 0; --i) b[at++] = static_cast<uint8_t>(static_cast<uint64_t>(t.expires) >> (8 * i));
  std::memcpy(&b[at], t.requester_tag.data(), t.requester_tag.size());
  at += t.requester_tag.size();
  std::memcpy(&b[at], t.request_tag.data(), t.request_tag.size());
  return b;
}

std::array<uint8_t, 32> hmac_sha256(std::string_view key, std::string_view a, std::string_view b = {},
                                    std::string_view c = {}) {
  std::array<uint8_t, 32> out{};
  unsigned len = 0;
  // One buffer with length-prefixed parts, so ("ab","c") and ("a","bc") never collide.
  std::string message;
  for (std::string_view part : {a, b, c}) {
    const uint32_t size = static_cast<uint32_t>(part.size());
    for (int i = 3; i >= 0; --i) message += static_cast<char>((size >> (8 * i)) & 0xff);
    message += part;
  }
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), out.data(), &len);
  return out;
}

}  // namespace

std::string_view to_string(JustificationKind k) { return k == JustificationKind::justify ? "justify" : "warn"; }

std::string_view to_string(TokenProblem p) {
  switch (p) {
    case TokenProblem::none: return "none";
    case TokenProblem::malformed: return "malformed";
    case TokenProblem::altered: return "altered";
    case TokenProblem::other_requester: return "other_requester";
    case TokenProblem::other_request: return "other_request";
    case TokenProblem::expired: return "expired";
    case TokenProblem::replayed: return "replayed";
    case TokenProblem::reason_missing: return "reason_missing";
    case TokenProblem::ledger_full: return "ledger_full";
  }
  return "malformed";
}

std::string JustificationToken::id_hex() const { return hex(id.data(), id.size()); }

std::string JustificationToken::subject_key() const {
  std::string key(reinterpret_cast<const char*>(requester_tag.data()), requester_tag.size());
  key.append(reinterpret_cast<const char*>(request_tag.data()), request_tag.size());
  return key;
}

std::optional<JustificationToken> parse_justification_token(std::string_view text) {
  if (!text.starts_with(kTokenPrefix)) return std::nullopt;
  const auto bytes = decode_exact(text.substr(kTokenPrefix.size()));
  if (!bytes) return std::nullopt;
  const auto& b = *bytes;
  if (b[0] != kVersion) return std::nullopt;
  if (b[1] != static_cast<uint8_t>(JustificationKind::warn) && b[1] != static_cast<uint8_t>(JustificationKind::justify))
    return std::nullopt;
  JustificationToken t;
  size_t at = 1;
  t.kind = static_cast<JustificationKind>(b[at++]);
  std::memcpy(t.id.data(), &b[at], t.id.size());
  at += t.id.size();
  uint64_t expires = 0;
  for (int i = 0; i < 8; ++i) expires = (expires << 8) | b[at++];
  t.expires = static_cast<int64_t>(expires);
  std::memcpy(t.requester_tag.data(), &b[at], t.requester_tag.size());
  at += t.requester_tag.size();
  std::memcpy(t.request_tag.data(), &b[at], t.request_tag.size());
  at += t.request_tag.size();
  std::memcpy(t.mac.data(), &b[at], t.mac.size());
  return t;
}

std::string encode(const JustificationToken& token) {
  std::array<uint8_t, kTokenBytes> b{};
  const auto body = body_bytes(token);
  std::memcpy(b.data(), body.data(), body.size());
  std::memcpy(b.data() + body.size(), token.mac.data(), token.mac.size());
  return std::string(kTokenPrefix) + base64url(b.data(), b.size());
}

JustificationTokenSigner::JustificationTokenSigner(std::string key, std::chrono::seconds lifetime)
    : key_(std::move(key)), lifetime_(lifetime) {
  if (key_.size() < 32) throw std::invalid_argument("a justification token key needs at least 32 bytes");
}

JustificationTokenSigner JustificationTokenSigner::with_random_key(std::chrono::seconds lifetime) {
  std::string key(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1)
    throw std::runtime_error("no randomness for the justification token key");
  return JustificationTokenSigner(std::move(key), lifetime);
}

template <size_t N>
std::array<uint8_t, N> JustificationTokenSigner::tag(std::string_view domain, std::string_view value) const {
  const auto full = hmac_sha256(key_, domain, value);
  std::array<uint8_t, N> out{};
  std::memcpy(out.data(), full.data(), N);
  return out;
}

std::array<uint8_t, 32> JustificationTokenSigner::mac_of(const JustificationToken& token) const {
  const auto body = body_bytes(token);
  return hmac_sha256(key_, "token", std::string_view(reinterpret_cast<const char*>(body.data()), body.size()));
}

JustificationToken JustificationTokenSigner::issue(JustificationKind kind, TokenSubject subject,
                                                   Clock::time_point now) const {
  JustificationToken t;
  t.kind = kind;
  if (RAND_bytes(t.id.data(), static_cast<int>(t.id.size())) != 1)
    throw std::runtime_error("no randomness for a justification token id");
  t.expires = std::chrono::duration_cast<std::chrono::seconds>((now + lifetime_).time_since_epoch()).count();
  t.requester_tag = tag<12>("requester", subject.requester);
  t.request_tag = tag<16>("request", subject.request_digest);
  t.mac = mac_of(t);
  return t;
}

TokenCheck JustificationTokenSigner::check_for_requester(std::string_view text, std::string_view requester,
                                                         Clock::time_point now) const {
  TokenCheck out;
  out.token = parse_justification_token(text);
  if (!out.token) return out;  // malformed
  const auto mac = mac_of(*out.token);
  if (CRYPTO_memcmp(mac.data(), out.token->mac.data(), mac.size()) != 0) {
    out.problem = TokenProblem::altered;
    return out;
  }
  const auto who = tag<12>("requester", requester);
  if (CRYPTO_memcmp(who.data(), out.token->requester_tag.data(), who.size()) != 0) {
    out.problem = TokenProblem::other_requester;
    return out;
  }
  out.problem = now >= out.token->expiry() ? TokenProblem::expired : TokenProblem::none;
  return out;
}

TokenCheck JustificationTokenSigner::check(std::string_view text, TokenSubject subject, Clock::time_point now) const {
  TokenCheck out = check_for_requester(text, subject.requester, now);
  if (out.problem != TokenProblem::none && out.problem != TokenProblem::expired) return out;
  const auto what = tag<16>("request", subject.request_digest);
  if (CRYPTO_memcmp(what.data(), out.token->request_tag.data(), what.size()) != 0) out.problem = TokenProblem::other_request;
  return out;
}

std::string JustificationTokenSigner::subject_key(TokenSubject subject) const {
  JustificationToken t;
  t.requester_tag = tag<12>("requester", subject.requester);
  t.request_tag = tag<16>("request", subject.request_digest);
  return t.subject_key();
}

std::string JustificationTokenSigner::form_secret(const JustificationToken& token, std::string_view requester) const {
  const auto mac = hmac_sha256(key_, "form", std::string_view(reinterpret_cast<const char*>(token.id.data()), token.id.size()),
                               requester);
  return hex(mac.data(), 16);
}

}  // namespace promptwall::gateway::coaching
