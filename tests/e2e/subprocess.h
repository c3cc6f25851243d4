// Child processes for the end-to-end tests: one-shot commands (curl, node, openssl, promptwall)
// whose output is captured, and long-running servers (the gateway, the fake upstream) that live
// in their own process group and die with the test.
//
// Invariants: no shell is involved (argv is passed as is, so prompts need no quoting); a one-shot
// command never outlives its deadline (its process group is killed); a server is killed, with
// everything it started, when its ChildProcess goes away or when the test process dies
// (PR_SET_PDEATHSIG), so a crashed test leaves no listener behind. Servers must be started from
// the thread that outlives them: the death signal follows the thread that forked.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace promptwall::e2e {

struct CommandResult {
  int exit_code = -1;   // -1 when killed by a signal (including a timeout)
  bool timed_out = false;
  std::string out;
  std::string err;
};

namespace detail {

inline std::vector<char*> c_argv(std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (auto& a : argv) out.push_back(a.data());
  out.push_back(nullptr);
  return out;
}

// In the child between fork and exec: only async-signal-safe calls.
[[noreturn]] inline void exec_child(char* const* argv) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  execvp(argv[0], argv);
  _exit(127);
}

inline int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

}  // namespace detail

// Runs argv with `input` on its standard input and returns what it printed. Pipes are pumped
// with poll() so a command that writes a lot to both streams cannot deadlock with us.
inline CommandResult run_command(std::vector<std::string> argv, const std::string& input = "",
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  auto args = detail::c_argv(argv);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    detail::exec_child(args.data());
  }
  setpgid(pid, pid);  // also here, so a kill on timeout cannot race the child's own setpgid
  close(in[0]);
  close(out[1]);
  close(err[1]);
  fcntl(in[1], F_SETFL, O_NONBLOCK);

  CommandResult result;
  size_t written = 0;
  int in_fd = in[1];
  if (input.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      kill(-pid, SIGKILL);
      break;
    }
    pollfd fds[3] = {{out_open ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}, {in_fd, POLLOUT, 0}};
    if (poll(fds, 3, static_cast<int>(left.count())) < 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        (i == 0 ? out_open : err_open) = false;
      }
    }
    if (in_fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = fds[2].revents & POLLOUT ? write(in_fd, input.data() + written, input.size() - written) : -1;
      if (n > 0) written += static_cast<size_t>(n);
      if (n < 0 || written == input.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
  }
  if (in_fd >= 0) close(in_fd);
  if (out_open) close(out[0]);
  if (err_open) close(err[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = result.timed_out ? -1 : detail::exit_code_of(status);
  return result;
}

// A server process: standard output and error go to files (kept for failure messages).
class ChildProcess {
 public:
  // `append`: add to the output files rather than truncating them (a restarted server).
  ChildProcess(std::vector<std::string> argv, const std::filesystem::path& stdout_file,
               const std::filesystem::path& stderr_file, bool append = false) {
    auto args = detail::c_argv(argv);
    const int mode = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
    int out = open(stdout_file.c_str(), mode, 0644);
    int err = open(stderr_file.c_str(), mode, 0644);
    if (out < 0 || err < 0) throw std::runtime_error("cannot open the log files of " + argv[0]);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      int null_in = open("/dev/null", O_RDONLY);
      dup2(null_in, 0);
      dup2(out, 1);
      dup2(err, 2);
      detail::exec_child(args.data());
    }
    setpgid(pid_, pid_);
    close(out);
    close(err);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { stop(); }

  pid_t pid() const { return pid_; }

  // False once the process has exited; its exit code is then in exit_code().
  bool running() {
    if (exited_) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      exit_code_ = detail::exit_code_of(status);
    }
    return !exited_;
  }
  int exit_code() const { return exit_code_; }

  void signal(int sig) {
    if (running()) kill(pid_, sig);
  }

  // SIGTERM, then SIGKILL to the whole group after a grace period.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000)) {
    if (!running()) return;
    kill(-pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (running()) {
      kill(-pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
      exited_ = true;
    }
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_code_ = -1;
};

}  // namespace promptwall::e2e
