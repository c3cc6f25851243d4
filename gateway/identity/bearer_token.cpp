#include "gateway/identity/bearer_token.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <string>

namespace promptwall::gateway {

bool bearer_token_matches(std::string_view authorization, std::string_view token) {
  if (token.empty()) return false;
  const std::string expected = "Bearer " + std::string(token);
  unsigned char given_digest[SHA256_DIGEST_LENGTH], expected_digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(authorization.data()), authorization.size(), given_digest);
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), expected_digest);
  return CRYPTO_memcmp(given_digest, expected_digest, SHA256_DIGEST_LENGTH) == 0;
}

}  // namespace promptwall::gateway
