// HaproxyFront: Debian's HAProxy 2.6 (`haproxy` package) in TCP mode in front of gateways, as the
// national layout runs it (docs/deployment.md): one frontend on a free loopback port, round robin
// over the backends, `send-proxy-v2` so each gateway learns the real client, and health checks on
// each gateway's admin listener (`option httpchk GET /readyz`, through the PROXY protocol with
// `check-send-proxy` when that listener takes it, else a plain check on its port).
//
// HAProxy connects to the gateways from `source` (127.0.0.9 by default; loopback holds the whole
// of 127/8), so a test can tell the balancer's connections from direct clients on 127.0.0.1 and
// name only the balancer in `listen.proxy_protocol.from`.
//
// Invariants: port() is where the frontend listens from a successful constructor on; the process
// runs `haproxy -f <dir>/haproxy.cfg -db` (foreground, its log in <dir>/haproxy.log) until stop()
// or the destructor; start() runs it again on the same configuration. server_status() asks the
// stats socket (<dir>/haproxy.sock) how HAProxy judges a backend now ("UP", "DOWN", ...).
// Errors: available() says whether the binary is installed (tests skip otherwise); the constructor
// throws std::runtime_error with HAProxy's output when it does not start. Not thread-safe.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gateway_fixture.h"
#include "subprocess.h"

namespace promptwall::e2e {

struct HaproxyBackend {
  std::string name;          // the server's name in HAProxy ("gw-1")
  uint16_t port = 0;         // the gateway listener traffic goes to (127.0.0.1)
  uint16_t check_port = 0;   // its admin listener, for GET /readyz
  bool check_with_proxy = false;  // the admin listener takes PROXY headers (check-send-proxy)
};

class HaproxyFront {
 public:
  static constexpr const char* kBinary = "/usr/sbin/haproxy";
  static bool available() { return fs::exists(kBinary); }

  HaproxyFront(const fs::path& dir, std::vector<HaproxyBackend> backends, std::string source = "127.0.0.9")
      : dir_(dir), backends_(std::move(backends)), source_(std::move(source)) {
    fs::create_directories(dir_);
    port_ = free_ports(1)[0];
    write_text(config_path(), config_text());
    start();
  }
  ~HaproxyFront() { stop(); }
  HaproxyFront(const HaproxyFront&) = delete;
  HaproxyFront& operator=(const HaproxyFront&) = delete;

  uint16_t port() const { return port_; }
  std::string url(std::string_view path) const { return "http://127.0.0.1:" + std::to_string(port_) + std::string(path); }
  fs::path config_path() const { return dir_ / "haproxy.cfg"; }
  std::string log() const { return read_text(dir_ / "haproxy.log"); }

  void start() {
    process_.reset();
    const auto check = run_command({kBinary, "-c", "-f", config_path().string()});
    if (check.exit_code != 0) throw std::runtime_error("haproxy -c refused its configuration:\n" + check.out + check.err);
    process_ = std::make_unique<ChildProcess>(std::vector<std::string>{kBinary, "-f", config_path().string(), "-db"},
                                              dir_ / "haproxy.out", dir_ / "haproxy.log", /*append=*/true);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!stats_answers()) {
      if (!process_->running() || std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("haproxy did not start:\n" + tail(log()));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  void stop() {
    if (process_) process_->stop();
    process_.reset();
  }

  // What the stats socket answers to `command` ("show stat", "show servers state"); "" when it
  // cannot be reached.
  std::string command(const std::string& command) const {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return {};
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string path = socket_path().string();
    if (path.size() >= sizeof addr.sun_path) {
      ::close(fd);
      return {};
    }
    std::copy(path.begin(), path.end(), addr.sun_path);
    std::string out;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      const std::string line = command + "\n";
      if (::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size())) {
        char buffer[4096];
        for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) out.append(buffer, static_cast<size_t>(n));
      }
    }
    ::close(fd);
    return out;
  }

  // "UP", "DOWN", "MAINT", "UP 1/2"... for the backend server `name`; "" when unknown.
  std::string server_status(const std::string& name) const {
    std::istringstream in(command("show stat"));
    for (std::string line; std::getline(in, line);) {
      // CSV: pxname,svname,...; status is the 18th field.
      std::vector<std::string> fields;
      std::istringstream row(line);
      for (std::string f; std::getline(row, f, ',');) fields.push_back(f);
      if (fields.size() > 17 && fields[0] == "gateways" && fields[1] == name) return fields[17];
    }
    return {};
  }
  // Waits until HAProxy judges `name` to be `status` ("UP" or "DOWN"); false after `timeout`.
  bool wait_status(const std::string& name, std::string_view status, std::chrono::seconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout * e2e_slowdown();
    while (server_status(name).rfind(status, 0) != 0) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  }

 private:
  fs::path socket_path() const { return dir_ / "haproxy.sock"; }
  bool stats_answers() const { return !command("show info").empty(); }

  std::string config_text() const {
    std::ostringstream c;
    c << "global\n"
      << "  maxconn 2000\n"
      << "  stats socket " << socket_path().string() << " mode 600 level admin\n"
      << "  log stderr format raw local0 info\n"
      << "defaults\n"
      << "  mode tcp\n"
      << "  log global\n"
      << "  option tcplog\n"
      << "  timeout connect 2s\n"
      << "  timeout client 60s\n"
      << "  timeout server 60s\n"
      << "  retries 2\n"
      << "  option redispatch\n"
      << "frontend front\n"
      << "  bind 127.0.0.1:" << port_ << "\n"
      << "  default_backend gateways\n"
      << "backend gateways\n"
      << "  balance roundrobin\n"
      << "  option httpchk GET /readyz\n"
      << "  http-check expect status 200\n"
      << "  default-server inter 300ms fall 2 rise 2\n";
    for (const auto& b : backends_) {
      c << "  server " << b.name << " 127.0.0.1:" << b.port << " source " << source_ << " send-proxy-v2 check port "
        << b.check_port << (b.check_with_proxy ? " check-send-proxy" : "") << "\n";
    }
    return c.str();
  }

  fs::path dir_;
  std::vector<HaproxyBackend> backends_;
  std::string source_;
  uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace promptwall::e2e
