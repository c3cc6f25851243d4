// Runs the promptwall binary (or any command) the way a user's shell would, for CLI tests.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "../support/temp_dir.h"

namespace promptwall::test {

struct ProcessResult {
  int status = -1;     // exit status
  std::string out;     // standard output
  std::string err;     // standard error
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
