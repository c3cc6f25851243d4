#include "gateway/identity/credential_cache.h"

#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

namespace promptwall::gateway {

CredentialCache::CredentialCache(Options options) : options_(std::move(options)) {
  if (RAND_bytes(key_.data(), static_cast<int>(key_.size())) != 1)
    throw std::runtime_error("OpenSSL RAND_bytes failed");
}

CredentialCache::Digest CredentialCache::digest(std::string_view scheme, std::string_view credentials) const {
  std::string message;
  message.reserve(scheme.size() + 1 + credentials.size());
  for (char c : scheme) message += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  message += ' ';
  message += credentials;
  Digest out{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), out.data(), &length);
  OPENSSL_cleanse(message.data(), message.size());
  return out;
}

std::optional<std::string> CredentialCache::find(std::string_view scheme, std::string_view credentials) {
  const Digest d = digest(scheme, credentials);
  std::lock_guard lock(mutex_);
  auto it = entries_.find(d);
  if (it == entries_.end()) return std::nullopt;
  if (options_.now() >= it->second.expires) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.user;
}

void CredentialCache::remember(std::string_view scheme, std::string_view credentials, std::string user) {
  const Digest d = digest(scheme, credentials);
  const auto now = options_.now();
  std::lock_guard lock(mutex_);
  if (entries_.size() >= options_.max_entries) {
    std::erase_if(entries_, [&](const auto& kv) { return now >= kv.second.expires; });
    while (entries_.size() >= options_.max_entries) {
      auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                     [](const auto& a, const auto& b) { return a.second.expires < b.second.expires; });
      entries_.erase(oldest);
    }
  }
  entries_[d] = Entry{std::move(user), now + options_.ttl};
}

void CredentialCache::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
}

bool FailureLockout::locked(std::string_view name) {
  const auto now = options_.now();
  std::lock_guard lock(mutex_);
  auto it = failures_.find(name);
  if (it == failures_.end() || !it->second.locked_until) return false;
  if (now < *it->second.locked_until) return true;
  failures_.erase(it);
  return false;
}

bool FailureLockout::failed(std::string_view name) {
  const auto now = options_.now();
  std::lock_guard lock(mutex_);
  // Forget names whose failures are all old, so guessing many names does not grow the map for ever.
  std::erase_if(failures_, [&](const auto& kv) {
    const Failures& f = kv.second;
    return !f.locked_until && (f.times.empty() || now - f.times.back() > options_.window);
  });
  Failures& f = failures_[std::string(name)];
  std::erase_if(f.times, [&](AuthClock::time_point t) { return now - t > options_.window; });
  f.times.push_back(now);
  if (static_cast<int>(f.times.size()) >= options_.max_failures && !f.locked_until) {
    f.locked_until = now + options_.lockout;
    return true;
  }
  return false;
}

void FailureLockout::succeeded(std::string_view name) {
  std::lock_guard lock(mutex_);
  if (auto it = failures_.find(name); it != failures_.end() && !it->second.locked_until) failures_.erase(it);
}

}  // namespace promptwall::gateway
