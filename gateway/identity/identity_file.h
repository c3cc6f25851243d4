// PasswordFile and GroupFile: the users and groups of proxy authentication, from files an
// administrator keeps with the usual Apache tools.
//
//   users file (htpasswd):  name:hash   per line; hash is bcrypt ($2y$, $2b$, $2a$, as
//                           `htpasswd -B` makes) or argon2 ($argon2id$, $argon2i$)
//   groups file (htgroup):  group: user1 user2 ...
//   both: blank lines and lines starting with '#' are ignored.
//
// Invariants: a file that parsed holds only well-formed entries (any other line is an
// IdentityFileError naming file:line, so a typo never silently drops a user); names are unique.
// Parsing is cheap (no hash is computed); verify() is slow (a bcrypt or argon2 computation) and
// must run off the request threads. Both classes are immutable after construction and safe to
// share between threads.
#pragma once

#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace promptwall::gateway {

// what(): "FILE:LINE: why", one problem per line.
class IdentityFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class PasswordFile {
 public:
  // `source` names the text in errors. Throws IdentityFileError.
  static PasswordFile parse(std::string_view text, std::string_view source);
  static PasswordFile load(const std::filesystem::path& file);

  // Whether `password` is `user`'s. An unknown user costs one hash computation too (against the
  // first entry's hash), so timing does not tell which names exist.
  bool verify(std::string_view user, std::string_view password) const;
  bool contains(std::string_view user) const { return hashes_.contains(user); }
  size_t size() const { return hashes_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> hashes_;
  std::string dummy_hash_;
};

class GroupFile {
 public:
  static GroupFile parse(std::string_view text, std::string_view source);
  static GroupFile load(const std::filesystem::path& file);

  // The groups `user` belongs to, sorted.
  std::vector<std::string> groups_of(std::string_view user) const;
  bool has_group(std::string_view group) const { return members_.contains(group); }
  const std::map<std::string, std::vector<std::string>, std::less<>>& groups() const { return members_; }

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> members_;  // group → users
};

// Whether `hash` is a bcrypt or argon2 hash this file format accepts (syntax only).
bool is_supported_password_hash(std::string_view hash);

// A name as both files accept it: 1..128 bytes, no whitespace, control characters or ':'.
bool is_identity_name(std::string_view name);

}  // namespace promptwall::gateway
