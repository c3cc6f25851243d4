// OfficerAuth: who may open the review page. Officers' passwords are checked against crypt(3)
// hashes from the configuration (libxcrypt: yescrypt "$y$", bcrypt "$2b$", sha512crypt "$6$"); a
// successful login opens an in-memory session named by a 256-bit random id, carried in a cookie.
//
// Invariants:
//   - a password is compared only through crypt_r and a constant-time comparison of the result; an
//     unknown name costs one hash computation too (against a dummy hash made like the first
//     officer's), so response times do not tell which names exist;
//   - after kMaxFailures failed logins for one name, or from one address, within failure_window,
//     every login for that name or from that address is refused for lockout, right password or not;
//   - a session expires session_lifetime after its login, whatever its use; a restart forgets every
//     session (officers log in again);
//   - each session carries its own random CSRF token, compared in constant time; the page requires
//     it on every POST.
// Nothing here logs: login() says what happened and the caller logs it (audit/ has no logger).
//
// Threading: every member function may be called from any thread (one mutex).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace promptwall::audit {

struct Officer {
  std::string name;
  std::string password_hash;  // crypt(3) hash
};

struct OfficerAuthOptions {
  using Clock = std::chrono::steady_clock;
  std::vector<Officer> officers;  // none = nobody can log in (the page is off)
  std::chrono::minutes session_lifetime{8 * 60};
  std::chrono::minutes failure_window{15};
  std::chrono::minutes lockout{15};
  std::function<Clock::time_point()> now = [] { return Clock::now(); };  // for tests
};

class OfficerAuth {
 public:
  using Clock = OfficerAuthOptions::Clock;
  static constexpr int kMaxFailures = 5;
  static constexpr std::string_view kSessionCookie = "pw_review";

  struct Session {
    std::string id;          // 64 hex digits
    std::string officer;
    std::string csrf_token;  // 64 hex digits
    Clock::time_point expires;
  };

  enum class LoginOutcome { ok, bad_credentials, locked_out };
  struct LoginResult {
    LoginOutcome outcome = LoginOutcome::bad_credentials;
    std::optional<Session> session;  // when ok
  };

  // Throws std::invalid_argument when an officer's hash is not one crypt(3) accepts.
  explicit OfficerAuth(OfficerAuthOptions options);
  OfficerAuth(const OfficerAuth&) = delete;
  OfficerAuth& operator=(const OfficerAuth&) = delete;

  bool enabled() const { return !options_.officers.empty(); }

  // `address` is the client's IP (without port), the key of the per-address limit.
  LoginResult login(std::string_view name, std::string_view password, std::string_view address);

  // The live session with this id, or nullopt (unknown or expired).
  std::optional<Session> session(std::string_view id);
  // Ends a session; false when there was none.
  bool logout(std::string_view id);

  static bool csrf_matches(const Session& session, std::string_view token);

  // "pw_review=<id>; HttpOnly; SameSite=Strict; Path=/review; Max-Age=..." and its removal.
  // HttpOnly, SameSite=Strict, Path=/review; Secure when the page is reached over HTTPS.
  std::string session_cookie(const Session& session, bool secure = false) const;
  static std::string expired_session_cookie(bool secure = false);

 private:
  bool verify_password(std::string_view name, std::string_view password) const;
  bool locked(const std::string& key, Clock::time_point now);
  void record_failure(const std::string& key, Clock::time_point now);
  void forget_stale(Clock::time_point now);

  struct Failures {
    std::vector<Clock::time_point> times;  // within the window, oldest first
    std::optional<Clock::time_point> locked_until;
  };

  OfficerAuthOptions options_;
  std::string dummy_hash_;  // same method and cost as the first officer's
  std::mutex mutex_;
  std::map<std::string, Session, std::less<>> sessions_;
  std::map<std::string, Failures, std::less<>> failures_;  // "name:<n>" and "addr:<a>"
};

// A crypt(3) hash of `password` with a fresh salt for `prefix` ("$y$" yescrypt by default), via
// crypt_gensalt_rn and crypt_r. Throws std::runtime_error when libcrypt refuses.
std::string hash_password(std::string_view password, const char* prefix = "$y$");

// Whether `password` matches `hash` (crypt_r, constant-time comparison).
bool password_matches(std::string_view password, const std::string& hash);

// 2 * n hex digits from OpenSSL's RAND_bytes; throws std::runtime_error when it fails.
std::string random_hex(size_t n);

}  // namespace promptwall::audit
