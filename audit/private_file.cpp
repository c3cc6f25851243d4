#include "audit/private_file.h"

#include <sys/stat.h>

#include <cstdio>

namespace promptwall::audit {

std::string private_file_problem(mode_t mode, const std::filesystem::path& file, std::string_view what) {
  if ((mode & kNotPrivateBits) == 0) return "";
  char octal[8];
  std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode & 07777));
  const std::string name = file.string();
  return std::string(what) + " " + name + " có quyền " + octal +
         ": nhóm hoặc người khác đọc được; khóa bí mật chỉ chủ sở hữu được đọc. Sửa: chmod 600 " + name +
         " (và chown cho người dùng chạy promptwall) / the " + std::string(what) + " " + name + " has mode " + octal +
         ": its group or others may read it, and a private key must be its owner's alone. Fix: chmod 600 " + name +
         " (and chown it to the user promptwall runs as)";
}

void require_private_file(const std::filesystem::path& file, std::string_view what) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return;  // the loader says "does not exist" / "cannot read"
  if (auto problem = private_file_problem(st.st_mode, file, what); !problem.empty()) throw PrivateFileError(problem);
}

}  // namespace promptwall::audit
