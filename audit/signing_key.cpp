#include "audit/signing_key.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "audit/private_file.h"
#include "audit/trail_format.h"

namespace promptwall::audit {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot read: " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

PkeyPtr require_ed25519(PkeyPtr key, const std::string& where) {
  if (!key) throw std::runtime_error(where + ": not a PEM key (" + openssl_error() + ")");
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) throw std::runtime_error(where + ": not an Ed25519 key");
  return key;
}

PkeyPtr private_from_pem(std::string_view pem, const std::string& where) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return require_ed25519(PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)), where);
}

PkeyPtr public_from_pem(std::string_view pem, const std::string& where) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return require_ed25519(PkeyPtr(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr)), where);
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string public_pem_of(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PUBKEY(bio.get(), key) != 1) throw std::runtime_error("cannot encode public key: " + openssl_error());
  return bio_contents(bio.get());
}

std::string key_id_of(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int size = i2d_PUBKEY(key, &der);
  if (size <= 0) throw std::runtime_error("cannot encode public key: " + openssl_error());
  std::string id = record_hash(std::string_view(reinterpret_cast<const char*>(der), static_cast<size_t>(size)));
  OPENSSL_free(der);
  return id.substr(0, 16);
}

std::string base64(const std::vector<unsigned char>& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// Strict: a multiple of 4 characters; EVP_DecodeBlock counts padding as zero bytes, so trim them.
std::optional<std::vector<unsigned char>> unbase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::vector<unsigned char> out(text.size() / 4 * 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t size = static_cast<size_t>(n);
  if (text.back() == '=') --size;
  if (text[text.size() - 2] == '=') --size;
  out.resize(size);
  return out;
}

// Returns false when the file already exists (another process made it first).
bool write_new_private_key(const std::filesystem::path& path, const std::string& pem) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) return false;
  if (fd < 0) throw std::runtime_error(path.string() + ": cannot create: " + std::strerror(errno));
  size_t done = 0;
  while (done < pem.size()) {
    const ssize_t n = ::write(fd, pem.data() + done, pem.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(path.c_str());
      throw std::runtime_error(path.string() + ": cannot write: " + why);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    ::unlink(path.c_str());
    throw std::runtime_error(path.string() + ": cannot fsync: " + why);
  }
  ::close(fd);
  return true;
}

}  // namespace

struct SigningKey::Impl {
  PkeyPtr key;
  std::string public_pem, key_id;
};

SigningKey::SigningKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SigningKey::~SigningKey() = default;
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;

SigningKey SigningKey::load(const std::filesystem::path& pem) {
  // Whoever can read the key can sign a forged trail: refused unless it is the owner's alone.
  require_private_file(pem, "audit signing key");
  auto impl = std::make_unique<Impl>();
  impl->key = private_from_pem(read_file(pem), pem.string());
  impl->public_pem = public_pem_of(impl->key.get());
  impl->key_id = key_id_of(impl->key.get());
  return SigningKey(std::move(impl));
}

SigningKey SigningKey::load_or_create(const std::filesystem::path& pem) {
  std::error_code ec;
  if (std::filesystem::exists(pem, ec)) return load(pem);
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!raw) throw std::runtime_error("cannot generate an Ed25519 key: " + openssl_error());
  PkeyPtr key(raw);
  BioPtr bio(BIO_new(BIO_s_mem()));
  // PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY").
  if (PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw std::runtime_error("cannot encode the private key: " + openssl_error());
  if (pem.has_parent_path()) std::filesystem::create_directories(pem.parent_path());
  // When another process created it between our check and open (O_EXCL), theirs is loaded.
  write_new_private_key(pem, bio_contents(bio.get()));
  return load(pem);
}

std::string SigningKey::sign(std::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t size = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, impl_->key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size, reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
    throw std::runtime_error("Ed25519 signing failed: " + openssl_error());
  std::vector<unsigned char> sig(size);
  if (EVP_DigestSign(ctx.get(), sig.data(), &size, reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
    throw std::runtime_error("Ed25519 signing failed: " + openssl_error());
  sig.resize(size);
  return base64(sig);
}

std::string SigningKey::public_pem() const { return impl_->public_pem; }
std::string SigningKey::key_id() const { return impl_->key_id; }

struct VerifyingKey::Impl {
  PkeyPtr key;
  std::string key_id;
};

VerifyingKey::VerifyingKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VerifyingKey::~VerifyingKey() = default;
VerifyingKey::VerifyingKey(VerifyingKey&&) noexcept = default;
VerifyingKey& VerifyingKey::operator=(VerifyingKey&&) noexcept = default;

VerifyingKey VerifyingKey::load(const std::filesystem::path& pem) {
  auto impl = std::make_unique<Impl>();
  impl->key = public_from_pem(read_file(pem), pem.string());
  impl->key_id = key_id_of(impl->key.get());
  return VerifyingKey(std::move(impl));
}

VerifyingKey VerifyingKey::from_pem(std::string_view pem) {
  auto impl = std::make_unique<Impl>();
  impl->key = public_from_pem(pem, "public key");
  impl->key_id = key_id_of(impl->key.get());
  return VerifyingKey(std::move(impl));
}

bool VerifyingKey::verify(std::string_view message, std::string_view base64_signature) const {
  const auto sig = unbase64(base64_signature);
  if (!sig) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, impl_->key.get()) != 1) {
    ERR_clear_error();
    return false;
  }
  const bool ok = EVP_DigestVerify(ctx.get(), sig->data(), sig->size(), reinterpret_cast<const unsigned char*>(message.data()),
                                   message.size()) == 1;
  ERR_clear_error();
  return ok;
}

std::string VerifyingKey::key_id() const { return impl_->key_id; }

}  // namespace promptwall::audit
