// Runs the promptwall binary (or any command) the way a user's shell would, for CLI tests.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>

namespace promptwall::test {

struct ProcessResult {
  int status = -1;     // exit status
  std::string out;     // standard output
  std::string err;     // standard error
};

// A fresh directory under the system temp dir, removed when the object goes away.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("promptwall-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name, const std::string& content) const {
    auto p = path_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs `args` (already shell-quoted where needed) with `input` on standard input.
inline ProcessResult run_promptwall(const std::string& args, const std::string& input = "") {
  TempDir dir;
  std::string in = dir.file("stdin", input);
  std::string out = (dir.path() / "stdout").string();
  std::string err = (dir.path() / "stderr").string();
  std::string cmd = shell_quote(PROMPTWALL_BINARY) + " " + args + " <" + shell_quote(in) + " >" + shell_quote(out) +
                    " 2>" + shell_quote(err);
  int rc = std::system(cmd.c_str());
  ProcessResult r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  auto slurp = [](const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  };
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

}  // namespace promptwall::test
