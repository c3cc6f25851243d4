// promptwall audit passwd [NAME]: a yescrypt hash for an officer of the review page.
//
// On a terminal the password is read twice without echo; otherwise one line is read from stdin
// (scripts: `printf '%s\n' "$PW" | promptwall audit passwd an`). The password is never printed.
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "audit/officer_auth.h"
#include "cli/commands.h"

namespace promptwall::cli {

namespace {

// Turns the terminal's echo off for its lifetime.
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (tcgetattr(fd_, &saved_) != 0) throw std::runtime_error("cannot read the terminal's settings");
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    if (tcsetattr(fd_, TCSAFLUSH, &quiet) != 0) throw std::runtime_error("cannot turn the terminal's echo off");
  }
  ~EchoOff() { tcsetattr(fd_, TCSAFLUSH, &saved_); }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  int fd_;
  termios saved_{};
};

std::optional<std::string> read_line() {
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::optional<std::string> prompt_hidden(const char* prompt) {
  EchoOff quiet(STDIN_FILENO);  // before the prompt: what is typed after it is never echoed
  std::cerr << prompt << std::flush;
  return read_line();
}

// YAML double-quoted scalar.
std::string yaml_quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

int audit_passwd_command(int argc, char** argv) {
  std::string name;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << "usage: promptwall audit passwd [NAME]\n"
                   "Reads a password (twice, without echo, on a terminal; else one line from stdin) and prints its\n"
                   "yescrypt hash, and with NAME the lines to put under audit.review.officers.\n";
      return 0;
    }
    if (arg.starts_with("-") || !name.empty()) {
      std::cerr << "promptwall audit passwd: unexpected argument '" << arg << "' (usage: promptwall audit passwd [NAME])\n";
      return 2;
    }
    name = arg;
  }

  try {
    std::optional<std::string> password;
    if (isatty(STDIN_FILENO)) {
      password = prompt_hidden("Password / Mật khẩu: ");
      const auto again = password ? prompt_hidden("Again / Nhập lại: ") : std::nullopt;
      if (password && again != password) {
        std::cerr << "promptwall audit passwd: the two passwords differ / hai mật khẩu không khớp\n";
        return 2;
      }
    } else {
      password = read_line();
    }
    if (!password || password->empty()) {
      std::cerr << "promptwall audit passwd: no password given / chưa nhập mật khẩu\n";
      return 2;
    }
    const std::string hash = audit::hash_password(*password);
    std::cout << hash << "\n";
    if (!name.empty()) {
      std::cout << "\n# in the gateway's configuration:\naudit:\n  review:\n    officers:\n      - {name: "
                << yaml_quoted(name) << ", password_hash: " << yaml_quoted(hash) << "}\n";
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "promptwall audit passwd: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace promptwall::cli
