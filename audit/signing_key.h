// SigningKey: the Ed25519 key that signs the trail's checkpoints and head (OpenSSL EVP). The
// private half stays with the gateway (0600, outside the trail directory); the public half is
// written beside the trail (trail.pub) and can be handed to auditors, who verify with it alone.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace promptwall::audit {

class SigningKey {
 public:
  // Loads a PEM private key; throws std::runtime_error naming the file and the reason.
  static SigningKey load(const std::filesystem::path& pem);
  // Loads the key at `pem`, or generates one there (mode 0600, O_EXCL) when the file is missing.
  static SigningKey load_or_create(const std::filesystem::path& pem);

  std::string sign(std::string_view message) const;  // base64 signature
  std::string public_pem() const;
  std::string key_id() const;  // first 16 hex digits of SHA-256 over the public key's DER

  ~SigningKey();
  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;

 private:
  struct Impl;
  explicit SigningKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class VerifyingKey {
 public:
  static VerifyingKey load(const std::filesystem::path& pem);  // throws like SigningKey::load
  static VerifyingKey from_pem(std::string_view pem);
  bool verify(std::string_view message, std::string_view base64_signature) const;
  std::string key_id() const;

  ~VerifyingKey();
  VerifyingKey(VerifyingKey&&) noexcept;
  VerifyingKey& operator=(VerifyingKey&&) noexcept;

 private:
  struct Impl;
  explicit VerifyingKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace promptwall::audit
