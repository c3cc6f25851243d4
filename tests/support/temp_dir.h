// TempDir: a fresh directory of a test's own under the system temp directory, removed with
// everything in it when the object goes away. The one helper for unit, CLI and end-to-end tests
// (include it as "../support/temp_dir.h": the e2e tests link no project library that would put the
// source root on their include path).
//
// Invariants: the directory exists from construction to destruction and no other TempDir, in this
// process or another (ctest runs tests in parallel, several build trees share /tmp), gets the same
// one: mkdtemp makes it atomically. Not copyable, so only one owner removes it.
// Set PROMPTWALL_TEST_KEEP (or PROMPTWALL_E2E_KEEP, the e2e tests' older name) to keep every
// directory for reading a failed test's files; each is then named on standard error.
//
// One object per thread that made it; its methods do not lock. Errors: the constructor throws
// std::system_error when the directory cannot be made; removal errors are ignored (a test's result
// does not depend on its cleanup).
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <system_error>

namespace promptwall::test {

class TempDir {
 public:
  // `prefix` names the directory (promptwall-PREFIX-XXXXXX), so a kept or leaked one says whose it is.
  explicit TempDir(std::string_view prefix = "test") {
    std::string name =
        (std::filesystem::temp_directory_path() / ("promptwall-" + std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(name.data()) == nullptr)
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + name);
    path_ = name;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    if (std::getenv("PROMPTWALL_TEST_KEEP") || std::getenv("PROMPTWALL_E2E_KEEP")) {
      std::cerr << "kept " << path_.string() << "\n";
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

  // Writes `content` (bytes as they are) to `name` inside the directory; returns its path.
  std::string file(std::string_view name, std::string_view content) const {
    const std::filesystem::path p = path_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace promptwall::test
