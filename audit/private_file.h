// A file that holds one of the gateway's secrets (the organisation CA's private key, the trail's
// Ed25519 signing key, the evidence HMAC key): it must be its owner's alone. Writers create such
// files with open(O_CREAT | O_EXCL, 0600), so they are never readable by anyone else, not even for
// a moment; loaders call require_private_file() first and refuse a file its group or others may
// read or write, naming the file and the fix (`chmod 600 FILE`), in Vietnamese and English.
//
// Pure functions over stat(2); no state, any thread. Errors: PrivateFileError (a
// std::runtime_error) for a file that is too open; a file that does not exist or cannot be
// stat'ed is left to the loader, which names it in its own words.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace promptwall::audit {

class PrivateFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The permission bits a private file must not have: any for its group or for others.
inline constexpr mode_t kNotPrivateBits = 0077;

// What is wrong with a file of this mode, or "" when only its owner may use it. `what` names the
// file's role ("CA key", "signing key").
std::string private_file_problem(mode_t mode, const std::filesystem::path& file, std::string_view what);

// Throws PrivateFileError with private_file_problem()'s text when the file (after symlinks) is
// open to its group or others.
void require_private_file(const std::filesystem::path& file, std::string_view what);

}  // namespace promptwall::audit
