// Issue 15: the gateway speaks TLS 1.2 or newer to its upstreams and to the SIEM, whatever the
// machine's OpenSSL configuration allows. The servers are tls_sink.js with Node's maxVersion; the
// gateway runs under an openssl.cnf that allows TLS 1.0 at security level 0 (as some systems
// have), so Debian's own defaults (MinProtocol TLSv1.2, SECLEVEL=2) cannot be what refuses: the
// gateway's context must. A TLS 1.2 server under the same setup is reached, so the refusal is about
// the version and nothing else.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <functional>
#include <optional>

#include "expectations.h"

using namespace promptwall::e2e;

namespace {

// OPENSSL_CONF for the processes this test starts while it is in scope (the gateway reads it when
// OpenSSL initialises); the previous value is back afterwards.
class PermissiveOpensslConfig {
 public:
  explicit PermissiveOpensslConfig(const fs::path& dir) : file_(dir / "openssl-permissive.cnf") {
    write_text(file_,
               "openssl_conf = init\n[init]\nssl_conf = ssl_section\n[ssl_section]\nsystem_default = defaults\n"
               "[defaults]\nMinProtocol = TLSv1\nCipherString = DEFAULT@SECLEVEL=0\n");
    if (const char* old = std::getenv("OPENSSL_CONF")) old_ = old;
    ::setenv("OPENSSL_CONF", file_.c_str(), 1);
  }
  ~PermissiveOpensslConfig() {
    if (old_) ::setenv("OPENSSL_CONF", old_->c_str(), 1);
    else ::unsetenv("OPENSSL_CONF");
  }

 private:
  fs::path file_;
  std::optional<std::string> old_;
};

// tls_sink.js: records every byte it receives after a handshake; its stderr says which failed.
class TlsServer {
 public:
  TlsServer(const fs::path& dir, const std::string& name, uint16_t port, const Certificates& certs, const std::string& max_version)
      : out_(dir / (name + ".bin")), err_(dir / (name + ".err")), port_(port) {
    write_text(out_, "");
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"node", e2e_script("tls_sink.js"), "--port", std::to_string(port_), "--cert",
                                 certs.server_crt.string(), "--key", certs.server_key.string(), "--out", out_.string(),
                                 "--min-version", "TLSv1", "--max-version", max_version, "--ciphers", "DEFAULT@SECLEVEL=0"},
        dir / (name + ".out"), err_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!contains(read_text(dir / (name + ".out")), "listening")) {
      if (!process_->running() || std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("tls_sink.js did not start: " + read_text(err_));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  std::string received() const { return read_text(out_); }
  std::string errors() const { return read_text(err_); }

 private:
  fs::path out_, err_;
  uint16_t port_;
  std::unique_ptr<ChildProcess> process_;
};

bool eventually(const std::function<bool()>& condition, std::chrono::seconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace

TEST_CASE("an upstream that speaks only TLS 1.1 is refused, and TLS 1.2 under the same setup is reached", "[e2e][tls]") {
  TempDir scratch;
  const auto ports = free_ports(2);
  const uint16_t old_port = ports[0], modern_port = ports[1];
  GatewayOptions options;
  options.extra_services = "  - {name: old-tls, prefix: /old-tls, upstream: \"https://localhost:" + std::to_string(old_port) +
                           "\", schema: openai}\n"
                           "  - {name: modern-tls, prefix: /modern-tls, upstream: \"https://localhost:" +
                           std::to_string(modern_port) + "\", schema: openai}\n";
  std::unique_ptr<GatewayFixture> gw;
  {
    PermissiveOpensslConfig permissive(scratch.path());
    gw = std::make_unique<GatewayFixture>(options);
  }
  INFO(gw->where_to_look());
  // The fixture's test CA issued the certificate for localhost; the gateway trusts that CA.
  TlsServer old_server(scratch.path(), "tls11", old_port, gw->certs(), "TLSv1.1");
  TlsServer modern_server(scratch.path(), "tls12", modern_port, gw->certs(), "TLSv1.2");

  auto r = post(gw->url("/old-tls/v1/chat/completions"), chat_body(kClean));
  INFO("answer: " << r.status << " " << r.body << "\nold server: " << old_server.errors() << "\nlog: " << gw->log_tail());
  CHECK(r.status == 502);
  CHECK(old_server.received().empty());  // not one byte of the request
  CHECK(gw->log_eventually_contains("TLS to localhost:" + std::to_string(old_port) + " failed"));
  CHECK(eventually([&] { return !old_server.errors().empty(); }));  // the server saw a handshake fail

  // The control: the same gateway, setup and certificate, a server that offers TLS 1.2. It answers
  // nothing (a sink), so the request times out, but it has arrived over TLS.
  post(gw->url("/modern-tls/v1/chat/completions"), chat_body(kClean));
  CHECK(eventually([&] { return contains(modern_server.received(), "POST /v1/chat/completions"); }));
}

TEST_CASE("a SIEM that speaks only TLS 1.1 gets nothing, and the log says the handshake failed", "[e2e][tls][siem]") {
  TempDir scratch;
  const Certificates certs = make_certificates(scratch.path());
  const uint16_t port = free_port();
  TlsServer old_siem(scratch.path(), "siem-tls11", port, certs, "TLSv1.1");
  GatewayOptions options;
  options.audit_extra = "  siem: {address: 127.0.0.1:" + std::to_string(port) + ", tls: true, ca: " + certs.test_ca_crt.string() +
                        ", server_name: localhost, retry_interval: 200ms}\n";
  std::unique_ptr<GatewayFixture> gw;
  {
    PermissiveOpensslConfig permissive(scratch.path());
    gw = std::make_unique<GatewayFixture>(options);
  }
  INFO(gw->where_to_look());
  REQUIRE(post(gw->url("/openai/v1/chat/completions"), chat_body(kClean)).status == 200);
  CHECK(gw->log_eventually_contains("TLS handshake with localhost failed"));
  CHECK(eventually([&] { return !old_siem.errors().empty(); }));
  CHECK(old_siem.received().empty());
  CHECK_FALSE(fs::exists(gw->audit_dir() / "siem.cursor"));
}
