// CredentialCache: credentials verified recently, so a browser's every request does not cost a
// bcrypt computation. FailureLockout: names refused for a while after repeated failures.
//
// Invariants (CredentialCache): an entry is keyed by HMAC-SHA-256 of "scheme credentials" under a
// random key made at construction and never stored elsewhere, so the cache holds no credential
// and nothing that can be checked offline against a guess without that key; an entry answers only
// until `ttl` after it was verified; clear() (on a reload of the users file) forgets every entry,
// so a changed or removed password stops working at once. At most max_entries are held (the
// oldest are dropped first).
// Invariants (FailureLockout): after max_failures failures for one name within `window`, the
// name is locked for `lockout`, right password or not (as audit/officer_auth does for officers).
// Threading: both are safe to use from any thread (one mutex each).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace promptwall::gateway {

using AuthClock = std::chrono::steady_clock;

class CredentialCache {
 public:
  struct Options {
    std::chrono::seconds ttl{300};
    size_t max_entries = 10'000;
    std::function<AuthClock::time_point()> now = [] { return AuthClock::now(); };
  };
  explicit CredentialCache(Options options);

  // The user the credentials were verified as, when still fresh.
  std::optional<std::string> find(std::string_view scheme, std::string_view credentials);
  void remember(std::string_view scheme, std::string_view credentials, std::string user);
  void clear();

 private:
  using Digest = std::array<uint8_t, 32>;
  Digest digest(std::string_view scheme, std::string_view credentials) const;

  struct Entry {
    std::string user;
    AuthClock::time_point expires;
  };
  Options options_;
  std::array<uint8_t, 32> key_{};
  std::mutex mutex_;
  std::map<Digest, Entry> entries_;
};

class FailureLockout {
 public:
  struct Options {
    int max_failures = 5;
    std::chrono::minutes window{15};
    std::chrono::minutes lockout{15};
    std::function<AuthClock::time_point()> now = [] { return AuthClock::now(); };
  };
  explicit FailureLockout(Options options) : options_(std::move(options)) {}

  bool locked(std::string_view name);
  // Returns whether this failure locked the name.
  bool failed(std::string_view name);
  void succeeded(std::string_view name);

 private:
  struct Failures {
    std::vector<AuthClock::time_point> times;  // within the window, oldest first
    std::optional<AuthClock::time_point> locked_until;
  };
  Options options_;
  std::mutex mutex_;
  std::map<std::string, Failures, std::less<>> failures_;
};

}  // namespace promptwall::gateway
