// CertificateAuthority: the organisation's CA, and the leaf certificates the forward proxy presents
// when it terminates TLS for an AI host.
//
// Invariants:
//   - A loaded CertificateAuthority holds a certificate and a private key that match, whose
//     certificate is a CA (basicConstraints CA:TRUE, keyCertSign allowed) and was valid when loaded.
//   - Every leaf it returns is signed by that CA, names exactly one host in its subjectAltName (a
//     DNS name, or an IP address for IPv4/IPv6 literals) and is never valid beyond the CA.
//   - A LeafCertificate is immutable once returned; connections share it through shared_ptr, so a
//     leaf evicted from the cache stays alive while a connection still uses it.
//   - leaf_for() is thread-safe. One host is minted at most once at a time: concurrent callers for
//     it wait for, and get, the same leaf.
//
// Leaf keys: every leaf of one CertificateAuthority carries the same ECDSA P-256 key pair, made
// when the CA is loaded. Minting is then one signature instead of a key generation plus a
// signature, and the TLS layer can keep one key. It costs nothing in security here: the leaf key
// lives in the same process memory as the CA key, which can mint a leaf for any host anyway.
//
// Serial numbers (CA and leaves) are random 128-bit positive integers: browsers remember certificates
// by issuer and serial, and refuse a second, different certificate with the same pair.
#pragma once

#include <openssl/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace promptwall::gateway {

namespace detail {
struct HostIdentity;  // a host parsed as a DNS name or an IP address (certificate_authority.cpp)
}  // namespace detail

// A leaf certificate and its key, shared by every connection to that host. Immutable.
struct LeafCertificate {
  std::shared_ptr<X509> cert;        // refcounted with X509_free deleter
  std::shared_ptr<EVP_PKEY> key;     // the CA's shared leaf key (see above)
  std::chrono::system_clock::time_point not_after;
};

struct CaInitOptions {
  std::filesystem::path cert_path, key_path;
  std::string common_name = "promptwall organisation CA";
  std::string organisation;          // optional O=
  int validity_days = 3650;
};

// Leaves by host, least recently used first out. Not thread-safe by itself: CertificateAuthority
// guards it with its mutex. An entry is a shared_future so that the first caller for a host can
// mint outside the lock while later callers wait on the same result.
class LeafCache {
 public:
  using Leaf = std::shared_ptr<const LeafCertificate>;

  explicit LeafCache(size_t capacity);  // capacity >= 1

  struct Slot {
    std::shared_future<Leaf> leaf;
    uint64_t generation = 0;  // tells a failed minting which slot was its own
  };
  // The slot for `host`, marked most recently used; nullptr when absent.
  const Slot* find(const std::string& host);
  // Puts (or replaces) the slot for `host`, evicting the least recently used hosts beyond capacity.
  void put(const std::string& host, Slot slot);
  // Removes the slot for `host` if it is still the one of `generation`.
  void erase(const std::string& host, uint64_t generation);
  size_t size() const { return slots_.size(); }

 private:
  struct Entry {
    Slot slot;
    std::list<std::string>::iterator position;  // in recency_
  };
  size_t capacity_;
  std::list<std::string> recency_;  // most recently used first
  std::unordered_map<std::string, Entry> slots_;
};

class CertificateAuthority {
 public:
  static constexpr size_t kDefaultCacheCapacity = 10'000;
  // A cached leaf this close to its notAfter is minted again.
  static constexpr std::chrono::hours kRenewBefore{1};
  // Leaves start this long before they are minted, for clients whose clock runs behind.
  static constexpr std::chrono::hours kClockSkew{1};

  // Creates a new CA: ECDSA P-256 key (PEM, file mode 0600, created with O_EXCL so an existing file is
  // never overwritten: throws std::runtime_error naming the file), self-signed cert with
  // basicConstraints critical CA:TRUE, pathlen:0, keyUsage critical keyCertSign+cRLSign,
  // subjectKeyIdentifier, random 128-bit serial. Creates parent dirs (0700 for the key's dir if new).
  // The certificate's notBefore is kClockSkew in the past. Neither file is left behind on failure.
  // Throws std::invalid_argument for bad options (empty or over-long name, validity_days < 1).
  static void create(const CaInitOptions& options);

  // Loads a CA; throws std::runtime_error with a clear reason (missing file, unreadable, key does not
  // match certificate, not a CA certificate, expired or not yet valid). Encrypted keys are refused
  // rather than prompting for a passphrase. Throws std::invalid_argument when leaf_validity is not
  // longer than kRenewBefore, or cache_capacity is 0.
  static std::unique_ptr<CertificateAuthority> load(const std::filesystem::path& cert_path,
                                                    const std::filesystem::path& key_path,
                                                    std::chrono::hours leaf_validity = std::chrono::hours(24 * 7),
                                                    size_t cache_capacity = kDefaultCacheCapacity);

  // The leaf for `host` (a DNS name, or an IPv4/IPv6 literal → IP SAN; "[::1]" and a trailing dot are
  // accepted, names are compared in lower case), minted on first use and cached (see the invariants).
  // Re-minted when within kRenewBefore of not_after. Leaf: subject CN=host (omitted when longer than
  // 64 characters, the SAN alone then names it), SAN, basicConstraints CA:FALSE, extendedKeyUsage
  // serverAuth, keyUsage digitalSignature, subject and authority key identifiers,
  // notBefore = now - kClockSkew, notAfter = now + leaf_validity but never beyond the CA's.
  // `host` is read by catalog/host_name.h's parse_host (so it is cached under the same normal form
  // the routing used); a U-label is refused: callers pass the A-label form they routed on.
  // Throws std::invalid_argument for a host that is neither a DNS name nor an IP literal, and
  // std::runtime_error when the CA has expired or OpenSSL fails.
  std::shared_ptr<const LeafCertificate> leaf_for(std::string_view host);

  X509* certificate() const;  // the CA certificate (for the chain sent to clients)
  std::string certificate_pem() const;
  size_t minted_count() const;   // leaves minted so far (for tests and metrics)
  std::chrono::system_clock::time_point not_after() const { return not_after_; }

 private:
  CertificateAuthority(std::shared_ptr<X509> cert, std::shared_ptr<EVP_PKEY> key, std::chrono::hours leaf_validity,
                       size_t cache_capacity);
  std::shared_ptr<const LeafCertificate> mint(const detail::HostIdentity& host);

  const std::shared_ptr<X509> cert_;
  const std::shared_ptr<EVP_PKEY> key_;
  const std::shared_ptr<EVP_PKEY> leaf_key_;
  const std::chrono::system_clock::time_point not_after_;
  const std::chrono::hours leaf_validity_;

  mutable std::mutex mutex_;  // guards cache_ and generation_
  LeafCache cache_;
  uint64_t generation_ = 0;
  std::atomic<size_t> minted_{0};
};

// Reads one PEM certificate; throws std::runtime_error naming the file and the reason.
std::shared_ptr<X509> read_certificate(const std::filesystem::path& path);

// SHA-256 of the DER certificate as upper-case hex pairs joined by ':' (what browsers and
// `openssl x509 -fingerprint -sha256` show).
std::string sha256_fingerprint(const X509& cert);

// The certificate's subject as a one-line RFC 2253 string ("CN=...,O=...").
std::string subject_line(const X509& cert);

// Reads an ASN1 time (UTC or generalized) as a time point; throws std::runtime_error if malformed.
std::chrono::system_clock::time_point to_time_point(const ASN1_TIME& time);

// "2035-01-31 08:00:00 UTC".
std::string utc_string(std::chrono::system_clock::time_point time);

}  // namespace promptwall::gateway
