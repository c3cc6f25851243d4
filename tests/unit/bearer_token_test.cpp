// The admin listener's bearer token (gateway/identity/bearer_token.h): only the exact header
// matches. The comparison's constant time is by construction (SHA-256 digests of both sides
// through CRYPTO_memcmp), not measured: tests assert no timings.
#include <catch2/catch.hpp>

#include <string>

#include "gateway/identity/bearer_token.h"

using promptwall::gateway::bearer_token_matches;

TEST_CASE("the admin bearer token matches only the exact header", "[admin][token]") {
  const std::string token = "3f9a1c0b7e2d4a6f8b1c3e5a7d9f0b2c4e6a8c0d1f3b5d7e";
  CHECK(bearer_token_matches("Bearer " + token, token));

  CHECK_FALSE(bearer_token_matches("", token));
  CHECK_FALSE(bearer_token_matches("Bearer", token));
  CHECK_FALSE(bearer_token_matches("Bearer ", token));
  CHECK_FALSE(bearer_token_matches(token, token));                               // no scheme
  CHECK_FALSE(bearer_token_matches("Basic " + token, token));                    // another scheme
  CHECK_FALSE(bearer_token_matches("Bearer " + token.substr(0, token.size() - 1), token));  // a prefix
  CHECK_FALSE(bearer_token_matches("Bearer " + token + "0", token));             // one more character
  CHECK_FALSE(bearer_token_matches("Bearer  " + token, token));                  // two spaces
  std::string last_wrong = token;
  last_wrong.back() = last_wrong.back() == '0' ? '1' : '0';
  CHECK_FALSE(bearer_token_matches("Bearer " + last_wrong, token));              // the last character
  std::string first_wrong = token;
  first_wrong.front() = first_wrong.front() == '0' ? '1' : '0';
  CHECK_FALSE(bearer_token_matches("Bearer " + first_wrong, token));
  CHECK_FALSE(bearer_token_matches(std::string("Bearer ") + '\0' + token, token));
}

TEST_CASE("no configured token matches nothing, not even an empty bearer", "[admin][token]") {
  CHECK_FALSE(bearer_token_matches("Bearer ", ""));
  CHECK_FALSE(bearer_token_matches("", ""));
}
