#include "gateway/tls/certificate_authority.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "audit/private_file.h"
#include "gateway/catalog/host_name.h"

namespace promptwall::gateway {

namespace detail {
// What a leaf names: a DNS name (lower case, no trailing dot) or an IP address.
struct HostIdentity {
  std::string name;  // the cache key and the CN: canonical text of the name or address
  int family = 0;    // AF_INET / AF_INET6 for an address, 0 for a DNS name
  std::array<unsigned char, 16> address{};
};
}  // namespace detail

namespace {

using detail::HostIdentity;

using Clock = std::chrono::system_clock;

// Owning pointers for OpenSSL objects: each type freed by its own function.
template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using X509Ptr = std::unique_ptr<X509, Deleter<&X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<&EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<&BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<&BN_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, Deleter<&X509_EXTENSION_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<&GENERAL_NAMES_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, Deleter<&GENERAL_NAME_free>>;
using OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, Deleter<&ASN1_OCTET_STRING_free>>;
using Ia5StringPtr = std::unique_ptr<ASN1_IA5STRING, Deleter<&ASN1_IA5STRING_free>>;

// The calling thread's OpenSSL error queue as text (and emptied, so the next error starts clean).
std::string drain_openssl_errors() {
  std::string text;
  char buffer[256];
  while (unsigned long code = ERR_get_error()) {
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text.empty() ? "no OpenSSL error reported" : text;
}

[[noreturn]] void throw_openssl(const std::string& what) {
  throw std::runtime_error(what + ": " + drain_openssl_errors());
}

// Built with append: GCC 12 warns falsely (-Wrestrict) on "'" + std::string.
std::string quoted(const std::filesystem::path& path) {
  std::string out(1, '\'');
  out.append(path.string()).push_back('\'');
  return out;
}

std::shared_ptr<X509> share(X509Ptr cert) { return {cert.release(), X509_free}; }
std::shared_ptr<EVP_PKEY> share(PkeyPtr key) { return {key.release(), EVP_PKEY_free}; }

PkeyPtr generate_p256_key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) throw_openssl("cannot generate an ECDSA P-256 key");
  return key;
}

// ECDSA and RSA keys sign with SHA-256; Ed25519/Ed448 take no separate digest.
const EVP_MD* signing_digest(EVP_PKEY* key) {
  int nid = NID_undef;
  if (EVP_PKEY_get_default_digest_nid(key, &nid) == 2 && nid == NID_undef) return nullptr;
  return EVP_sha256();
}

// A positive 128-bit serial with the top bits fixed, so it is never zero and always 16 bytes long.
void set_random_serial(X509* cert) {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) throw_openssl("cannot draw a random serial");
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x40);
  BignumPtr bn(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert))) throw_openssl("cannot set the serial number");
}

void set_validity(X509* cert, Clock::time_point not_before, Clock::time_point not_after) {
  if (!ASN1_TIME_set(X509_getm_notBefore(cert), Clock::to_time_t(not_before)) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert), Clock::to_time_t(not_after)))
    throw_openssl("cannot set the validity period");
}

size_t utf8_length(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

void add_name_entry(X509_NAME* name, int nid, std::string_view value) {
  if (!X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.data()),
                                  static_cast<int>(value.size()), -1, 0))
    throw_openssl("cannot put '" + std::string(OBJ_nid2sn(nid)) + "' in the certificate name");
}

// Adds an extension written in OpenSSL's configuration syntax. Only for our own constant values:
// never pass text from outside (a host name could smuggle in ",DNS:other.example").
void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  if (!ext || !X509_add_ext(cert, ext.get(), -1))
    throw_openssl("cannot add the " + std::string(OBJ_nid2sn(nid)) + " extension");
}

void sign(X509* cert, EVP_PKEY* key) {
  if (X509_sign(cert, key, signing_digest(key)) <= 0) throw_openssl("cannot sign the certificate");
}

std::string to_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || !PEM_write_bio_X509(bio.get(), cert)) throw_openssl("cannot encode the certificate as PEM");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string to_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || !PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr))
    throw_openssl("cannot encode the private key as PEM");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

X509Ptr make_ca_certificate(const CaInitOptions& options, EVP_PKEY* key) {
  X509Ptr cert(X509_new());
  if (!cert || !X509_set_version(cert.get(), X509_VERSION_3)) throw_openssl("cannot make a certificate");
  set_random_serial(cert.get());
  const auto now = Clock::now();
  set_validity(cert.get(), now - CertificateAuthority::kClockSkew, now + std::chrono::days(options.validity_days));
  X509_NAME* name = X509_get_subject_name(cert.get());
  add_name_entry(name, NID_commonName, options.common_name);
  if (!options.organisation.empty()) add_name_entry(name, NID_organizationName, options.organisation);
  if (!X509_set_issuer_name(cert.get(), name) || !X509_set_pubkey(cert.get(), key))
    throw_openssl("cannot set the certificate's issuer or key");

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  add_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  // After the subject key identifier: for a self-signed certificate the authority key id copies it.
  add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  sign(cert.get(), key);
  return cert;
}

// A file created by this process alone (O_EXCL), removed again unless kept: create() leaves
// either both of its files or neither.
class NewFile {
 public:
  NewFile(std::filesystem::path path, mode_t mode) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd_ < 0) {
      if (errno == EEXIST) throw std::runtime_error(quoted(path_) + " already exists; refusing to overwrite it");
      throw std::runtime_error("cannot create " + quoted(path_) + ": " + std::strerror(errno));
    }
    // The umask may only have removed bits; set exactly what was asked.
    if (::fchmod(fd_, mode) != 0) fail("cannot set the mode of");
  }
  NewFile(const NewFile&) = delete;
  NewFile& operator=(const NewFile&) = delete;
  ~NewFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!kept_) ::unlink(path_.c_str());
  }

  void write(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail("cannot write");
      data.remove_prefix(static_cast<size_t>(n));
    }
    if (::fsync(fd_) != 0) fail("cannot flush");
  }

  void keep() {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail("cannot close");
    kept_ = true;
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what + " " + quoted(path_) + ": " + std::strerror(errno));
  }

  std::filesystem::path path_;
  int fd_ = -1;
  bool kept_ = false;
};

// Creates `dir` and its parents; when `private_dir` and `dir` is new, only its owner may enter it.
void make_parent_directory(const std::filesystem::path& file, bool private_dir) {
  const std::filesystem::path dir = file.parent_path();
  if (dir.empty()) return;
  std::error_code ec;
  const bool existed = std::filesystem::exists(dir, ec);
  if (existed) return;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create the directory " + quoted(dir) + ": " + ec.message());
  if (private_dir) {
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace, ec);
    if (ec) throw std::runtime_error("cannot make " + quoted(dir) + " private: " + ec.message());
  }
}

std::string read_file(const std::filesystem::path& path, const char* what) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw std::runtime_error(std::string(what) + " " + quoted(path) + " does not exist");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string("cannot read the ") + what + " " + quoted(path) + ": " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw std::runtime_error(std::string("cannot read the ") + what + " " + quoted(path));
  return s.str();
}

BioPtr memory_bio(const std::string& data) {
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) throw_openssl("cannot allocate a memory BIO");
  return bio;
}

// A passphrase callback that refuses: a service must never stop to prompt on a terminal.
int no_passphrase(char*, int, int, void*) { return -1; }

PkeyPtr read_private_key(const std::filesystem::path& path) {
  // A key others can read is refused before it is used: whoever holds it reads the staff's traffic.
  audit::require_private_file(path, "CA key");
  const std::string pem = read_file(path, "CA key file");
  if (pem.find("ENCRYPTED") != std::string::npos)
    throw std::runtime_error("the CA key " + quoted(path) + " is encrypted; promptwall needs an unencrypted key (mode 0600)");
  BioPtr bio = memory_bio(pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) throw_openssl(quoted(path) + " holds no PEM private key");
  return key;
}

// The leaf's name is the catalog's reading of the host (catalog/host_name.h), so a certificate is
// minted for exactly the host the routing decision was made on.
// Only ASCII: hosts reach the CA already in normal form (U-labels became A-labels where the route
// was decided), so a U-label here means a caller skipped the parser.
HostIdentity identify(std::string_view host) {
  if (std::any_of(host.begin(), host.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
    throw std::invalid_argument("not a DNS name in A-label form: '" + std::string(host.substr(0, 100)) + "'");
  std::string error;
  std::optional<HostName> parsed = parse_host(host, &error);
  if (!parsed) throw std::invalid_argument("not a DNS name or IP address: '" + std::string(host.substr(0, 100)) + "' (" + error + ")");
  HostIdentity id;
  id.name = parsed->text;
  if (parsed->is_ip_literal()) {
    id.family = parsed->kind == HostName::Kind::ipv4 ? AF_INET : AF_INET6;
    if (::inet_pton(id.family, id.name.c_str(), id.address.data()) != 1)
      throw std::invalid_argument("cannot read the address '" + id.name + "'");
  }
  return id;
}

// subjectAltName with exactly this host, built as ASN.1 objects rather than configuration text.
void add_subject_alt_name(X509* cert, const HostIdentity& host, bool critical) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  GeneralNamePtr name(GENERAL_NAME_new());
  if (!names || !name) throw_openssl("cannot allocate the subjectAltName");
  if (host.family != 0) {
    OctetStringPtr ip(ASN1_OCTET_STRING_new());
    const int size = host.family == AF_INET ? 4 : 16;
    if (!ip || !ASN1_OCTET_STRING_set(ip.get(), host.address.data(), size)) throw_openssl("cannot encode the IP address");
    GENERAL_NAME_set0_value(name.get(), GEN_IPADD, ip.release());
  } else {
    Ia5StringPtr dns(ASN1_IA5STRING_new());
    if (!dns || !ASN1_STRING_set(dns.get(), host.name.data(), static_cast<int>(host.name.size())))
      throw_openssl("cannot encode the DNS name");
    GENERAL_NAME_set0_value(name.get(), GEN_DNS, dns.release());
  }
  if (!sk_GENERAL_NAME_push(names.get(), name.get())) throw_openssl("cannot build the subjectAltName");
  name.release();  // owned by names now
  if (!X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), critical ? 1 : 0, X509V3_ADD_DEFAULT))
    throw_openssl("cannot add the subjectAltName extension");
}

}  // namespace

// ---- helpers in the header ----

Clock::time_point to_time_point(const ASN1_TIME& time) {
  std::tm tm{};
  if (!ASN1_TIME_to_tm(&time, &tm)) throw_openssl("malformed certificate time");
  return Clock::from_time_t(::timegm(&tm));
}

std::string utc_string(Clock::time_point time) {
  const std::time_t t = Clock::to_time_t(time);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buffer;
}

std::shared_ptr<X509> read_certificate(const std::filesystem::path& path) {
  const std::string pem = read_file(path, "CA certificate file");
  BioPtr bio = memory_bio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) throw_openssl(quoted(path) + " holds no PEM certificate");
  return share(std::move(cert));
}

std::string sha256_fingerprint(const X509& cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!X509_digest(&cert, EVP_sha256(), digest, &size)) throw_openssl("cannot hash the certificate");
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    if (i) out += ':';
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xF];
  }
  return out;
}

std::string subject_line(const X509& cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(&cert), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
    throw_openssl("cannot print the certificate subject");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

// ---- LeafCache ----

LeafCache::LeafCache(size_t capacity) : capacity_(capacity) {
  if (capacity_ == 0) throw std::invalid_argument("the leaf cache needs room for at least one host");
}

const LeafCache::Slot* LeafCache::find(const std::string& host) {
  auto it = slots_.find(host);
  if (it == slots_.end()) return nullptr;
  recency_.splice(recency_.begin(), recency_, it->second.position);
  return &it->second.slot;
}

void LeafCache::put(const std::string& host, Slot slot) {
  auto it = slots_.find(host);
  if (it != slots_.end()) {
    it->second.slot = std::move(slot);
    recency_.splice(recency_.begin(), recency_, it->second.position);
    return;
  }
  recency_.push_front(host);
  slots_.emplace(host, Entry{std::move(slot), recency_.begin()});
  while (slots_.size() > capacity_) {
    slots_.erase(recency_.back());
    recency_.pop_back();
  }
}

void LeafCache::erase(const std::string& host, uint64_t generation) {
  auto it = slots_.find(host);
  if (it == slots_.end() || it->second.slot.generation != generation) return;
  recency_.erase(it->second.position);
  slots_.erase(it);
}

// ---- CertificateAuthority ----

void CertificateAuthority::create(const CaInitOptions& options) {
  if (options.cert_path.empty() || options.key_path.empty())
    throw std::invalid_argument("the CA needs both a certificate path and a key path");
  if (std::filesystem::absolute(options.cert_path) == std::filesystem::absolute(options.key_path))
    throw std::invalid_argument("the CA certificate and key must be different files");
  if (options.common_name.empty() || utf8_length(options.common_name) > 64)
    throw std::invalid_argument("the CA common name must be 1 to 64 characters long");
  if (utf8_length(options.organisation) > 64) throw std::invalid_argument("the organisation name must be at most 64 characters long");
  if (options.validity_days < 1) throw std::invalid_argument("the CA validity must be at least one day");

  // Everything that can fail for OpenSSL reasons happens before a file exists.
  PkeyPtr key = generate_p256_key();
  X509Ptr cert = make_ca_certificate(options, key.get());
  const std::string key_pem = to_pem(key.get());
  const std::string cert_pem = to_pem(cert.get());

  make_parent_directory(options.key_path, true);
  make_parent_directory(options.cert_path, false);
  NewFile key_file(options.key_path, 0600);
  NewFile cert_file(options.cert_path, 0644);
  key_file.write(key_pem);
  cert_file.write(cert_pem);
  key_file.keep();
  cert_file.keep();
}

std::unique_ptr<CertificateAuthority> CertificateAuthority::load(const std::filesystem::path& cert_path,
                                                                 const std::filesystem::path& key_path,
                                                                 std::chrono::hours leaf_validity, size_t cache_capacity) {
  if (leaf_validity <= kRenewBefore)
    throw std::invalid_argument("leaf certificates must be valid for longer than " + std::to_string(kRenewBefore.count()) +
                                " hour(s), or every connection would mint a new one");
  std::shared_ptr<X509> cert = read_certificate(cert_path);
  PkeyPtr key = read_private_key(key_path);
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    throw std::runtime_error("the CA key " + quoted(key_path) + " does not match the certificate " + quoted(cert_path));
  }
  // basicConstraints CA:TRUE, not merely a v1 self-signed certificate that X509_check_ca() tolerates.
  if (!(X509_get_extension_flags(cert.get()) & EXFLAG_CA) || !(X509_get_key_usage(cert.get()) & KU_KEY_CERT_SIGN))
    throw std::runtime_error(quoted(cert_path) + " is not a CA certificate (it needs basicConstraints CA:TRUE and keyCertSign)");
  const auto now = Clock::now();
  const auto not_before = to_time_point(*X509_get0_notBefore(cert.get()));
  const auto not_after = to_time_point(*X509_get0_notAfter(cert.get()));
  if (not_after <= now) throw std::runtime_error("the CA certificate " + quoted(cert_path) + " expired on " + utc_string(not_after));
  if (not_before > now)
    throw std::runtime_error("the CA certificate " + quoted(cert_path) + " is not valid before " + utc_string(not_before));
  return std::unique_ptr<CertificateAuthority>(
      new CertificateAuthority(std::move(cert), share(std::move(key)), leaf_validity, cache_capacity));
}

CertificateAuthority::CertificateAuthority(std::shared_ptr<X509> cert, std::shared_ptr<EVP_PKEY> key,
                                           std::chrono::hours leaf_validity, size_t cache_capacity)
    : cert_(std::move(cert)),
      key_(std::move(key)),
      leaf_key_(share(generate_p256_key())),
      not_after_(to_time_point(*X509_get0_notAfter(cert_.get()))),
      leaf_validity_(leaf_validity),
      cache_(cache_capacity) {}

std::shared_ptr<const LeafCertificate> CertificateAuthority::leaf_for(std::string_view host) {
  const HostIdentity id = identify(host);
  std::promise<LeafCache::Leaf> promise;
  uint64_t generation = 0;
  {
    std::unique_lock lock(mutex_);
    if (const LeafCache::Slot* slot = cache_.find(id.name)) {
      std::shared_future<LeafCache::Leaf> cached = slot->leaf;
      // A slot whose minting failed is erased before its future receives the exception, so a ready
      // future in the cache always holds a leaf.
      const bool ready = cached.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
      if (!ready) {
        lock.unlock();
        return cached.get();  // minted by another caller right now
      }
      if (Clock::now() + kRenewBefore < cached.get()->not_after) return cached.get();
    }
    generation = ++generation_;
    cache_.put(id.name, LeafCache::Slot{promise.get_future().share(), generation});
  }
  // This caller mints, outside the lock: other hosts are served meanwhile, and callers for this
  // host wait on the promise.
  try {
    LeafCache::Leaf leaf = mint(id);
    promise.set_value(leaf);
    return leaf;
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      cache_.erase(id.name, generation);
    }
    promise.set_exception(std::current_exception());
    throw;
  }
}

std::shared_ptr<const LeafCertificate> CertificateAuthority::mint(const HostIdentity& host) {
  const auto now = Clock::now();
  if (not_after_ <= now) throw std::runtime_error("the CA certificate expired on " + utc_string(not_after_));
  const auto not_after = std::min(now + leaf_validity_, not_after_);

  X509Ptr cert(X509_new());
  if (!cert || !X509_set_version(cert.get(), X509_VERSION_3)) throw_openssl("cannot make a certificate");
  set_random_serial(cert.get());
  set_validity(cert.get(), now - kClockSkew, not_after);
  // CN is at most 64 characters; a longer name is carried by the subjectAltName alone, which
  // clients check anyway (and must then be critical, RFC 5280 4.2.1.6).
  const bool named_in_subject = host.name.size() <= 64;
  if (named_in_subject) add_name_entry(X509_get_subject_name(cert.get()), NID_commonName, host.name);
  if (!X509_set_issuer_name(cert.get(), X509_get_subject_name(cert_.get())) || !X509_set_pubkey(cert.get(), leaf_key_.get()))
    throw_openssl("cannot set the leaf's issuer or key");

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert_.get(), cert.get(), nullptr, nullptr, 0);
  add_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature");
  add_extension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth");
  add_subject_alt_name(cert.get(), host, !named_in_subject);
  add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  // keyid from the CA's subjectKeyIdentifier; issuer name and serial only for a CA without one.
  add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid,issuer");
  sign(cert.get(), key_.get());
  // Compute the cached extension data now, while this thread alone holds the certificate.
  X509_check_purpose(cert.get(), -1, 0);

  auto leaf = std::make_shared<LeafCertificate>();
  leaf->cert = share(std::move(cert));
  leaf->key = leaf_key_;
  leaf->not_after = to_time_point(*X509_get0_notAfter(leaf->cert.get()));
  minted_.fetch_add(1, std::memory_order_relaxed);
  return leaf;
}

X509* CertificateAuthority::certificate() const { return cert_.get(); }

std::string CertificateAuthority::certificate_pem() const { return to_pem(cert_.get()); }

size_t CertificateAuthority::minted_count() const { return minted_.load(std::memory_order_relaxed); }

}  // namespace promptwall::gateway
