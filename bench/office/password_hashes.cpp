// password_hashes: writes the users file (htpasswd format) of bench/run-office-bench.sh's identity
// runs, hashed as an office's would be:
//   bcrypt    crypt_gensalt("$2b$", 0): libxcrypt's default cost, which is also `htpasswd -B`'s (5)
//   argon2id  t=3, m=64 MiB, p=4: RFC 9106's second recommended option, argon2-cffi's defaults
//             (the example in docs/configuration.md)
//
//   password_hashes bcrypt|argon2id COUNT PREFIX    one line "PREFIXi:HASH" per user i in [1, COUNT]
//
// User PREFIXi's password is "pw-PREFIXi": the bench sends it, so it is no secret.
#include <argon2.h>
#include <crypt.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

namespace {

constexpr uint32_t kArgon2Time = 3, kArgon2MemoryKiB = 64 * 1024, kArgon2Lanes = 4;

std::string bcrypt_hash(const std::string& password) {
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> salt{};
  if (!crypt_gensalt_rn("$2b$", 0, nullptr, 0, salt.data(), salt.size())) return "";
  auto data = std::make_unique<crypt_data>();  // ~32 KiB
  const char* hash = crypt_r(password.c_str(), salt.data(), data.get());
  return hash && hash[0] == '$' ? hash : "";
}

std::string argon2id_hash(const std::string& password) {
  std::array<unsigned char, 16> salt{};
  FILE* random = std::fopen("/dev/urandom", "rb");
  if (!random) return "";
  const size_t got = std::fread(salt.data(), 1, salt.size(), random);
  std::fclose(random);
  if (got != salt.size()) return "";
  constexpr size_t kHashBytes = 32;
  std::string encoded(argon2_encodedlen(kArgon2Time, kArgon2MemoryKiB, kArgon2Lanes, salt.size(), kHashBytes, Argon2_id), '\0');
  if (argon2id_hash_encoded(kArgon2Time, kArgon2MemoryKiB, kArgon2Lanes, password.data(), password.size(), salt.data(),
                            salt.size(), kHashBytes, encoded.data(), encoded.size()) != ARGON2_OK)
    return "";
  encoded.resize(encoded.find('\0'));
  return encoded;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || (std::string_view(argv[1]) != "bcrypt" && std::string_view(argv[1]) != "argon2id")) {
    std::fprintf(stderr, "usage: password_hashes bcrypt|argon2id COUNT PREFIX\n");
    return 2;
  }
  const bool bcrypt = std::string_view(argv[1]) == "bcrypt";
  const long count = std::strtol(argv[2], nullptr, 10);
  for (long i = 1; i <= count; ++i) {
    const std::string user = argv[3] + std::to_string(i);
    const std::string hash = bcrypt ? bcrypt_hash("pw-" + user) : argon2id_hash("pw-" + user);
    if (hash.empty()) {
      std::fprintf(stderr, "password_hashes: hashing failed for %s\n", user.c_str());
      return 1;
    }
    std::printf("%s:%s\n", user.c_str(), hash.c_str());
  }
  return 0;
}
