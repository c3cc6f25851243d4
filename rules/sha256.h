// Sha256: incremental SHA-256 over OpenSSL's EVP interface, for content hashes (ruleset version,
// compiled-database cache keys).
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>

namespace promptwall {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  Sha256& update(std::string_view bytes);
  // Adds a length-prefixed field, so ("ab","c") and ("a","bc") hash differently.
  Sha256& field(std::string_view bytes);
  std::array<unsigned char, 32> digest();
  std::string hex_digest();

  static std::string hex(std::string_view bytes);

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace promptwall
