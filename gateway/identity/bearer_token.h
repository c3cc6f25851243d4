// Is this Authorization header the admin listener's bearer token? Compared so that the time it
// takes says nothing about how much of the token a guess got right: both sides are hashed with
// SHA-256 and the digests compared with CRYPTO_memcmp, so not even the token's length shows
// (only the length of what the client sent, which it knows).
//
// A pure function; no state, any thread. An empty configured token matches nothing (the admin
// endpoint is then open by configuration, decided by its caller).
#pragma once

#include <string_view>

namespace promptwall::gateway {

// `authorization` is the header's whole value ("Bearer <token>"); the scheme is matched exactly.
bool bearer_token_matches(std::string_view authorization, std::string_view token);

}  // namespace promptwall::gateway
