// libFuzzer target for identity/identity_file: PasswordFile::parse() (htpasswd: `name:hash`, bcrypt
// or argon2) and GroupFile::parse() (htgroup: `group: user1 user2`), the files proxy
// authentication and the policy scopes read. A typo must never silently drop or add a user.
// Input: the first byte's low bit picks the file (0 users, 1 groups); the rest is the file's text.
// Beyond "no crash, no sanitizer report", it checks identity_file.h's contract:
//   - a refusal is an IdentityFileError whose what() is one problem a line, each
//     "fuzz:LINE: why" with LINE in 1..(lines of the file) ascending;
//   - a users file that parsed holds exactly its entries: every line that is not blank or a
//     comment names a user it contains (is_identity_name), size() is their count (names unique);
//   - a refusal never quotes a hash (it is as good as a password offline): no line's bcrypt or
//     argon2 hash appears in the error, unless it is also text of a name (which is quoted; a hash
//     holds no quote, space or newline, so it cannot straddle a name and the text around it);
//   - a groups file that parsed: every group and member is an identity name, a group's members are
//     unique, and groups_of(user) is sorted and is exactly the groups whose members list the user
//     (for the first 64 members listed and one user listed nowhere).
// No verify() here: a bcrypt or argon2 computation per input would make the target a hash bench.
// Inputs are bounded at 64 KiB.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/identity/identity_file.h"

namespace {

using namespace promptwall::gateway;

void require(bool ok) {
  if (!ok) std::abort();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The file's lines that are entries (not blank, not a comment), trimmed as both formats trim them.
std::vector<std::string_view> entries(std::string_view text, size_t* line_count) {
  std::vector<std::string_view> out;
  *line_count = 0;
  for (size_t start = 0; start <= text.size();) {
    const size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line = trim(text.substr(start, end - start));
    ++*line_count;
    start = end + 1;
    if (!line.empty() && line.front() != '#') out.push_back(line);
  }
  return out;
}

void check_error(const std::string& what, size_t line_count) {
  require(!what.empty());
  size_t previous = 0;
  for (size_t start = 0; start <= what.size();) {
    const size_t end = std::min(what.find('\n', start), what.size());
    const std::string_view line(what.data() + start, end - start);
    require(line.starts_with("fuzz:"));
    size_t i = 5, number = 0;
    while (i < line.size() && line[i] >= '0' && line[i] <= '9' && number <= line_count) number = number * 10 + (line[i++] - '0');
    require(i > 5 && number >= 1 && number <= line_count && number >= previous && line.substr(i).starts_with(": "));
    previous = number;
    start = end + 1;
  }
}

void check_users(std::string_view text) {
  size_t line_count = 0;
  const auto lines = entries(text, &line_count);
  try {
    const PasswordFile file = PasswordFile::parse(text, "fuzz");
    require(file.size() == lines.size());
    for (const std::string_view line : lines) {
      const size_t colon = line.find(':');
      require(colon != std::string_view::npos);
      const std::string_view name = trim(line.substr(0, colon));
      require(is_identity_name(name) && file.contains(name));
      require(is_supported_password_hash(trim(line.substr(colon + 1))));
    }
  } catch (const IdentityFileError& e) {
    const std::string what = e.what();
    check_error(what, line_count);
    std::string names;
    for (const std::string_view line : lines) names += std::string(trim(line.substr(0, line.find(':')))) + "\n";
    for (const std::string_view line : lines) {
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      const std::string_view hash = trim(line.substr(colon + 1));
      if (is_supported_password_hash(hash) && names.find(hash) == std::string::npos)
        require(what.find(hash) == std::string::npos);
    }
  }
}

void check_groups(std::string_view text) {
  size_t line_count = 0;
  const auto lines = entries(text, &line_count);
  try {
    const GroupFile file = GroupFile::parse(text, "fuzz");
    require(file.groups().size() == lines.size());
    std::vector<std::string> users;
    for (const auto& [group, members] : file.groups()) {
      require(is_identity_name(group) && file.has_group(group));
      std::vector<std::string> sorted = members;
      std::sort(sorted.begin(), sorted.end());
      require(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
      for (const std::string& member : members) {
        require(is_identity_name(member));
        if (users.size() < 64) users.push_back(member);  // a sample: groups_of() is linear in the file
      }
    }
    users.push_back("nobody-listed");
    for (const std::string& user : users) {
      const std::vector<std::string> groups = file.groups_of(user);
      require(std::is_sorted(groups.begin(), groups.end()));
      std::vector<std::string> expected;
      for (const auto& [group, members] : file.groups())
        if (std::find(members.begin(), members.end(), user) != members.end()) expected.push_back(group);
      require(groups == expected);
    }
  } catch (const IdentityFileError& e) {
    check_error(e.what(), line_count);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 65536) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) check_groups(text);
  else check_users(text);
  return 0;
}
