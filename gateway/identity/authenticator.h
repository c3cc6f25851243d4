// Authenticator: the seam between "a client presented credentials" and "this is user X". The
// identity code hands it the scheme and credentials of a Proxy-Authorization header; each
// Authenticator knows one scheme. Basic against the users file is the one there is; LDAP (Basic
// checked by a bind) or Kerberos (Negotiate, a GSS-API token) fit the same interface later.
//
// Invariants: authenticate() may be slow and block (hashing, a directory round trip): callers run
// it off the request threads. It never keeps or logs the credentials; the password it decodes is
// wiped before it returns. Implementations are safe to call from several threads at once.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/identity/identity_file.h"

namespace promptwall::gateway {

struct AuthResult {
  enum class Status : uint8_t { ok, bad_credentials, malformed };
  Status status = Status::malformed;
  std::string user;  // ok, bad_credentials: the name presented (for the log and lockout); may be empty
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // "Basic", "Negotiate": compared without regard to case.
  virtual std::string_view scheme() const = 0;
  // The value of Proxy-Authenticate asking for this scheme.
  virtual std::string challenge(std::string_view realm) const = 0;
  // The name the credentials claim, without verifying them (for lockout before the slow part);
  // nullopt when they are not of this scheme's form.
  virtual std::optional<std::string> claimed_user(std::string_view credentials) const = 0;
  // `credentials`: what follows the scheme in the header.
  virtual AuthResult authenticate(std::string_view credentials) const = 0;
};

// Basic (RFC 7617): base64 of "user:password", checked against a PasswordFile.
class BasicFileAuthenticator final : public Authenticator {
 public:
  explicit BasicFileAuthenticator(std::shared_ptr<const PasswordFile> users) : users_(std::move(users)) {}
  std::string_view scheme() const override { return "Basic"; }
  std::string challenge(std::string_view realm) const override;
  std::optional<std::string> claimed_user(std::string_view credentials) const override;
  AuthResult authenticate(std::string_view credentials) const override;

 private:
  std::shared_ptr<const PasswordFile> users_;
};

// "Basic dXNlcjpwYXNz" → {"Basic", "dXNlcjpwYXNz"}; nullopt when there is no token after a scheme.
struct AuthorizationHeader {
  std::string_view scheme, credentials;
};
std::optional<AuthorizationHeader> parse_authorization(std::string_view header);

}  // namespace promptwall::gateway
