#include "audit/officer_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace promptwall::audit {

namespace {

// crypt_r's result for `password` under `setting` (a full hash or a salt), or "" when libcrypt
// refuses (its failure tokens start with '*'). struct crypt_data is ~32 KiB: on the heap.
std::string crypt_string(std::string_view password, const std::string& setting) {
  if (password.find('\0') != std::string_view::npos) return "";
  const std::string phrase(password);
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_r(phrase.c_str(), setting.c_str(), data.get());
  if (out == nullptr || out[0] == '*' || out[0] == '\0') return "";
  return out;
}

bool same_bytes(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string name_key(std::string_view name) { return "name:" + std::string(name); }
std::string address_key(std::string_view address) { return "addr:" + std::string(address); }

}  // namespace

std::string random_hex(size_t n) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string hash_password(std::string_view password, const char* prefix) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn(prefix, 0, nullptr, 0, salt, sizeof salt) == nullptr)
    throw std::runtime_error(std::string("libcrypt cannot make a salt for ") + prefix);
  if (password.find('\0') != std::string_view::npos) throw std::runtime_error("a password cannot contain a NUL byte");
  std::string hash = crypt_string(password, salt);
  if (hash.empty()) throw std::runtime_error(std::string("libcrypt cannot hash with ") + prefix);
  return hash;
}

bool password_matches(std::string_view password, const std::string& hash) {
  const std::string computed = crypt_string(password, hash);
  return !computed.empty() && same_bytes(computed, hash);
}

OfficerAuth::OfficerAuth(OfficerAuthOptions options) : options_(std::move(options)) {
  for (const auto& officer : options_.officers) {
    // A hash crypt_r cannot reproduce would lock its officer out silently: refuse it at start.
    if (crypt_string("", officer.password_hash).size() != officer.password_hash.size())
      throw std::invalid_argument("officer '" + officer.name +
                                  "': password_hash is not a crypt(3) hash (make one with `promptwall audit passwd`)");
  }
  if (!options_.officers.empty()) dummy_hash_ = crypt_string(random_hex(16), options_.officers.front().password_hash);
}

bool OfficerAuth::verify_password(std::string_view name, std::string_view password) const {
  const auto it = std::find_if(options_.officers.begin(), options_.officers.end(),
                               [&](const Officer& o) { return o.name == name; });
  if (it == options_.officers.end()) {
    password_matches(password, dummy_hash_);  // the same work as for a real name, result unused
    return false;
  }
  return password_matches(password, it->password_hash);
}

void OfficerAuth::forget_stale(Clock::time_point now) {
  for (auto it = sessions_.begin(); it != sessions_.end();)
    it = it->second.expires <= now ? sessions_.erase(it) : std::next(it);
  for (auto it = failures_.begin(); it != failures_.end();) {
    auto& f = it->second;
    std::erase_if(f.times, [&](Clock::time_point t) { return now - t >= options_.failure_window; });
    if (f.locked_until && *f.locked_until <= now) f.locked_until.reset();
    it = f.times.empty() && !f.locked_until ? failures_.erase(it) : std::next(it);
  }
}

bool OfficerAuth::locked(const std::string& key, Clock::time_point now) {
  auto it = failures_.find(key);
  return it != failures_.end() && it->second.locked_until && *it->second.locked_until > now;
}

void OfficerAuth::record_failure(const std::string& key, Clock::time_point now) {
  auto& f = failures_[key];
  f.times.push_back(now);
  if (f.times.size() >= static_cast<size_t>(kMaxFailures)) {
    f.locked_until = now + options_.lockout;
    f.times.clear();
  }
}

OfficerAuth::LoginResult OfficerAuth::login(std::string_view name, std::string_view password, std::string_view address) {
  const auto nkey = name_key(name), akey = address_key(address);
  {
    std::lock_guard lock(mutex_);
    const auto now = options_.now();
    forget_stale(now);
    if (locked(nkey, now) || locked(akey, now)) return {LoginOutcome::locked_out, std::nullopt};
  }
  // The hash is slow on purpose: computed outside the lock, so one login does not stall the page.
  const bool ok = enabled() && verify_password(name, password);

  std::lock_guard lock(mutex_);
  const auto now = options_.now();
  if (!ok) {
    record_failure(nkey, now);
    record_failure(akey, now);
    return {LoginOutcome::bad_credentials, std::nullopt};
  }
  failures_.erase(nkey);
  Session s{random_hex(32), std::string(name), random_hex(32), now + options_.session_lifetime};
  sessions_.emplace(s.id, s);
  return {LoginOutcome::ok, std::move(s)};
}

std::optional<OfficerAuth::Session> OfficerAuth::session(std::string_view id) {
  if (id.empty()) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires <= options_.now()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

bool OfficerAuth::logout(std::string_view id) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  sessions_.erase(it);
  return true;
}

bool OfficerAuth::csrf_matches(const Session& session, std::string_view token) {
  return !session.csrf_token.empty() && same_bytes(session.csrf_token, token);
}

std::string OfficerAuth::session_cookie(const Session& session, bool secure) const {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options_.session_lifetime).count();
  return std::string(kSessionCookie) + "=" + session.id + "; HttpOnly; SameSite=Strict; Path=/review; Max-Age=" +
         std::to_string(seconds) + (secure ? "; Secure" : "");
}

std::string OfficerAuth::expired_session_cookie(bool secure) {
  return std::string(kSessionCookie) + "=; HttpOnly; SameSite=Strict; Path=/review; Max-Age=0" + (secure ? "; Secure" : "");
}

}  // namespace promptwall::audit
