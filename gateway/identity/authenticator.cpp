#include "gateway/identity/authenticator.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace promptwall::gateway {

namespace {

// Wipes what it holds when it goes: the decoded "user:password".
struct Wiped {
  std::string text;
  ~Wiped() { OPENSSL_cleanse(text.data(), text.size()); }
};

// Strict base64 (padding required, no whitespace) into `out`; false when malformed.
bool decode_base64(std::string_view text, Wiped& out) {
  if (text.empty() || text.size() % 4 != 0 || text.size() > 4096) return false;
  if (text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
      std::string_view::npos)
    return false;
  const size_t pad = text.ends_with("==") ? 2 : text.ends_with('=') ? 1 : 0;
  if (text.substr(0, text.size() - pad).find('=') != std::string_view::npos) return false;
  out.text.assign(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.text.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return false;
  out.text.resize(static_cast<size_t>(n) - pad);  // EVP_DecodeBlock counts the padding as zero bytes
  return true;
}

}  // namespace

std::optional<AuthorizationHeader> parse_authorization(std::string_view header) {
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  const size_t space = header.find(' ');
  if (space == 0 || space == std::string_view::npos) return std::nullopt;
  std::string_view credentials = header.substr(space + 1);
  while (!credentials.empty() && credentials.front() == ' ') credentials.remove_prefix(1);
  while (!credentials.empty() && credentials.back() == ' ') credentials.remove_suffix(1);
  if (credentials.empty()) return std::nullopt;
  return AuthorizationHeader{header.substr(0, space), credentials};
}

std::string BasicFileAuthenticator::challenge(std::string_view realm) const {
  std::string quoted;
  for (char c : realm) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return "Basic realm=\"" + quoted + "\", charset=\"UTF-8\"";
}

std::optional<std::string> BasicFileAuthenticator::claimed_user(std::string_view credentials) const {
  Wiped pair;
  if (!decode_base64(credentials, pair)) return std::nullopt;
  const size_t colon = pair.text.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return pair.text.substr(0, colon);
}

AuthResult BasicFileAuthenticator::authenticate(std::string_view credentials) const {
  AuthResult out;
  Wiped pair;
  if (!decode_base64(credentials, pair)) return out;
  const size_t colon = pair.text.find(':');
  if (colon == std::string::npos) return out;
  out.user = pair.text.substr(0, colon);
  const std::string_view password = std::string_view(pair.text).substr(colon + 1);
  if (!is_identity_name(out.user)) {
    out.status = AuthResult::Status::bad_credentials;
    return out;
  }
  out.status = users_->verify(out.user, password) ? AuthResult::Status::ok : AuthResult::Status::bad_credentials;
  return out;
}

}  // namespace promptwall::gateway
