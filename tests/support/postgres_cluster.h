// PostgresCluster: a throw-away PostgreSQL 15 server of a test's own (Debian's `postgresql`
// package), on a free loopback port, with one database `promptwall`, started and stopped by the
// test. The fleet's tests and benches use it as the central audit store; a test may stop() and
// start() it again mid-load to play an outage.
//
// How: initdb (trust authentication, loopback only, fsync off: a test's data need not survive a
// power cut) into a TempDir, then `pg_ctl start -w` / `stop -m fast`. The server refuses to run as
// root, so as root both run as the `postgres` system user (runuser) and the directory is handed to
// it. Its log is `<dir>/server.log` (PROMPTWALL_TEST_KEEP keeps it).
//
// Invariants: the port is the one the server listens on (found free, then bound by the server; a
// race with another process is retried with the next port); conninfo() is valid from a successful
// constructor to the destructor; the destructor stops the server whatever state it is in.
// Errors: available() says whether the binaries are installed (tests skip otherwise, saying why);
// the constructor throws std::runtime_error quoting the server log when the server does not start.
// One object per test; not thread-safe.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace promptwall::test {

class PostgresCluster {
 public:
  static constexpr const char* kBinDir = "/usr/lib/postgresql/15/bin";

  // Whether Debian's PostgreSQL 15 server is installed (and, as root, the postgres user exists).
  static bool available() {
    if (!std::filesystem::exists(std::string(kBinDir) + "/initdb")) return false;
    return ::geteuid() != 0 || ::getpwnam("postgres") != nullptr;
  }

  PostgresCluster() : dir_("pg") {
    data_ = dir_ / "data";
    std::filesystem::create_directories(data_);
    if (::geteuid() == 0) {
      const passwd* pg = ::getpwnam("postgres");
      if (pg == nullptr) throw std::runtime_error("PostgresCluster: no 'postgres' user to run the server as");
      uid_ = pg->pw_uid;
      gid_ = pg->pw_gid;
      for (const auto& p : {dir_.path(), data_})
        if (::chown(p.c_str(), uid_, gid_) != 0) throw std::runtime_error("PostgresCluster: chown " + p.string());
    }
    if (run({std::string(kBinDir) + "/initdb", "-D", data_.string(), "-U", "postgres", "--auth=trust",
             "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"}) != 0)
      throw std::runtime_error("PostgresCluster: initdb failed:\n" + log_text());
    std::ofstream(data_ / "postgresql.conf", std::ios::app)
        << "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '" << dir_.path().string() << "'\n"
        << "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n";
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = free_port();
      if (start_on_port()) break;
      port_ = 0;
    }
    if (port_ == 0) throw std::runtime_error("PostgresCluster: the server did not start:\n" + log_text());
    if (run({std::string(kBinDir) + "/createdb", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "postgres",
             "promptwall"}) != 0)
      throw std::runtime_error("PostgresCluster: createdb failed:\n" + log_text());
  }
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;
  ~PostgresCluster() { stop(); }

  // libpq connection string of the `promptwall` database.
  std::string conninfo() const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=promptwall";
  }
  // The same as a URL (postgresql://...), as a configuration file would hold it.
  std::string url() const { return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/promptwall"; }
  int port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_.path(); }

  // Stops the server (fast shutdown: open connections are cut). Idempotent.
  void stop() {
    if (!running_) return;
    run({std::string(kBinDir) + "/pg_ctl", "-D", data_.string(), "-m", "fast", "-w", "stop"});
    running_ = false;
  }
  // Starts it again on the same port, with the same data; throws when it does not come up.
  void start() {
    if (running_) return;
    if (!start_on_port()) throw std::runtime_error("PostgresCluster: the server did not restart:\n" + log_text());
  }
  bool running() const { return running_; }

  // Runs one SQL text through psql and returns what it printed (unaligned, tuples only); throws
  // with psql's error when it fails. For tests' own checks (counting rows), not for the product.
  std::string psql(const std::string& sql) const {
    const std::filesystem::path out = dir_ / "psql.out";
    const int rc = run({std::string(kBinDir) + "/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo(), "-c", sql},
                       out, /*as_server_user=*/false);
    std::ifstream in(out);
    std::stringstream text;
    text << in.rdbuf();
    if (rc != 0) throw std::runtime_error("psql failed: " + text.str());
    std::string s = text.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }

 private:
  bool start_on_port() {
    const int rc = run({std::string(kBinDir) + "/pg_ctl", "-D", data_.string(), "-l", (dir_ / "server.log").string(),
                        "-o", "-p " + std::to_string(port_), "-w", "-t", "60", "start"});
    running_ = rc == 0;
    return running_;
  }

  std::string log_text() const {
    std::ifstream in(dir_ / "server.log");
    std::stringstream s;
    s << in.rdbuf();
    std::ifstream in2(dir_ / "commands.log");
    s << in2.rdbuf();
    return s.str();
  }

  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
    ::close(fd);
    return port;
  }

  // Runs argv without a shell, as the server's user when root (and `as_server_user`), its output
  // appended to `out` (default <dir>/commands.log); returns the exit code.
  int run(std::vector<std::string> argv, std::filesystem::path out = {}, bool as_server_user = true) const {
    if (out.empty()) out = dir_ / "commands.log";
    const pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
      const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | (out.filename() == "commands.log" ? O_APPEND : O_TRUNC), 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      if (as_server_user && ::geteuid() == 0) {
        if (::setgid(gid_) != 0 || ::setuid(uid_) != 0) ::_exit(126);
      }
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  TempDir dir_;
  std::filesystem::path data_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace promptwall::test
