#include "gateway/identity/identity_file.h"

#include <argon2.h>
#include <crypt.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

namespace promptwall::gateway {

namespace {

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw IdentityFileError(file.string() + ": cannot read the file");
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) throw IdentityFileError(file.string() + ": cannot read the file");
  return content.str();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Calls `each(line_number, line)` for every line that is not blank or a comment; collects the
// problems it reports and throws them all at the end.
template <class Each>
void for_each_entry(std::string_view text, std::string_view source, Each each) {
  std::vector<std::string> problems;
  size_t number = 0;
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim(text.substr(start, end - start));
    ++number;
    start = end + 1;
    if (line.empty() || line.front() == '#') continue;
    std::string why = each(line);
    if (!why.empty()) problems.push_back(std::string(source) + ":" + std::to_string(number) + ": " + why);
  }
  if (problems.empty()) return;
  std::string all;
  for (const auto& p : problems) all += (all.empty() ? "" : "\n") + p;
  throw IdentityFileError(all);
}

bool all_of(std::string_view s, std::string_view alphabet) {
  return !s.empty() && s.find_first_not_of(alphabet) == std::string_view::npos;
}

constexpr std::string_view kBcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::string_view kBase64Alphabet = "+/ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

// $2b$10$ + 22 characters of salt + 31 of hash.
bool is_bcrypt(std::string_view h) {
  if (h.size() != 60 || !(h.starts_with("$2a$") || h.starts_with("$2b$") || h.starts_with("$2y$"))) return false;
  if (h[6] != '$' || !all_of(h.substr(4, 2), "0123456789")) return false;
  const int cost = (h[4] - '0') * 10 + (h[5] - '0');
  return cost >= 4 && cost <= 31 && all_of(h.substr(7), kBcryptAlphabet);
}

// $argon2id$v=19$m=65536,t=3,p=4$SALT$HASH (the version field may be absent in old hashes).
bool is_argon2(std::string_view h) {
  std::string_view rest;
  if (h.starts_with("$argon2id$")) rest = h.substr(10);
  else if (h.starts_with("$argon2i$")) rest = h.substr(9);
  else return false;
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t dollar = rest.find('$', start);
    parts.push_back(rest.substr(start, dollar == std::string_view::npos ? std::string_view::npos : dollar - start));
    if (dollar == std::string_view::npos) break;
    start = dollar + 1;
  }
  if (!parts.empty() && parts.front().starts_with("v=")) {
    if (!all_of(parts.front().substr(2), "0123456789")) return false;
    parts.erase(parts.begin());
  }
  if (parts.size() != 3) return false;
  const std::string_view params = parts[0];
  if (!params.starts_with("m=") || params.find(",t=") == std::string_view::npos ||
      params.find(",p=") == std::string_view::npos || !all_of(params, "mtp=,0123456789"))
    return false;
  return all_of(parts[1], kBase64Alphabet) && all_of(parts[2], kBase64Alphabet);
}

bool bcrypt_matches(std::string_view password, const std::string& hash) {
  std::string phrase(password);
  auto data = std::make_unique<crypt_data>();  // ~32 KiB: not on a coroutine's stack
  const char* out = crypt_r(phrase.c_str(), hash.c_str(), data.get());  // points into *data
  const bool ok = out != nullptr && out[0] != '*' && std::string_view(out).size() == hash.size() &&
                  CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));  // it held the password while hashing
  OPENSSL_cleanse(phrase.data(), phrase.size());
  return ok;
}

bool argon2_matches(std::string_view password, const std::string& hash) {
  const argon2_type type = hash.starts_with("$argon2id$") ? Argon2_id : Argon2_i;
  return argon2_verify(hash.c_str(), password.data(), password.size(), type) == ARGON2_OK;
}

}  // namespace

bool is_supported_password_hash(std::string_view hash) { return is_bcrypt(hash) || is_argon2(hash); }

bool is_identity_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= ' ' || u == 0x7f || c == ':' || c == ',';
  });
}

PasswordFile PasswordFile::parse(std::string_view text, std::string_view source) {
  PasswordFile out;
  for_each_entry(text, source, [&](std::string_view line) -> std::string {
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return "expected `name:hash`";
    const std::string name(trim(line.substr(0, colon)));
    const std::string hash(trim(line.substr(colon + 1)));
    if (!is_identity_name(name)) return "'" + name + "' is not a valid user name (no spaces, ':' or ',')";
    // Never quote the hash: it is as good as a password against an offline attack.
    if (!is_supported_password_hash(hash))
      return "the hash of '" + name + "' is not bcrypt ($2y$, $2b$, $2a$) or argon2 ($argon2id$, $argon2i$); "
             "make one with `htpasswd -nB " + name + "`";
    if (!out.hashes_.emplace(name, hash).second) return "user '" + name + "' is listed twice";
    return "";
  });
  if (!out.hashes_.empty()) out.dummy_hash_ = out.hashes_.begin()->second;
  return out;
}

PasswordFile PasswordFile::load(const std::filesystem::path& file) { return parse(read_file(file), file.string()); }

bool PasswordFile::verify(std::string_view user, std::string_view password) const {
  if (password.find('\0') != std::string_view::npos) return false;
  auto it = hashes_.find(user);
  const std::string& hash = it != hashes_.end() ? it->second : dummy_hash_;
  if (hash.empty()) return false;
  const bool matches = is_bcrypt(hash) ? bcrypt_matches(password, hash) : argon2_matches(password, hash);
  return matches && it != hashes_.end();
}

GroupFile GroupFile::parse(std::string_view text, std::string_view source) {
  GroupFile out;
  for_each_entry(text, source, [&](std::string_view line) -> std::string {
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return "expected `group: user1 user2 ...`";
    const std::string group(trim(line.substr(0, colon)));
    if (!is_identity_name(group)) return "'" + group + "' is not a valid group name (no spaces, ':' or ',')";
    if (out.members_.contains(group)) return "group '" + group + "' is listed twice";
    std::vector<std::string> users;
    std::istringstream words{std::string(line.substr(colon + 1))};
    for (std::string user; words >> user;) {
      if (!is_identity_name(user)) return "'" + user + "' is not a valid user name";
      if (std::find(users.begin(), users.end(), user) == users.end()) users.push_back(user);
    }
    out.members_.emplace(group, std::move(users));
    return "";
  });
  return out;
}

GroupFile GroupFile::load(const std::filesystem::path& file) { return parse(read_file(file), file.string()); }

std::vector<std::string> GroupFile::groups_of(std::string_view user) const {
  std::vector<std::string> out;
  for (const auto& [group, users] : members_)
    if (std::find(users.begin(), users.end(), user) != users.end()) out.push_back(group);
  return out;  // the map is ordered, so sorted already
}

}  // namespace promptwall::gateway
