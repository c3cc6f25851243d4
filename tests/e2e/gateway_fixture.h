// The end-to-end test bench: a real `promptwall serve` between real clients (curl, the openai
// npm SDK, Node's fetch) and a fake upstream (fake_upstream.js) that records what it receives.
//
//   clients ──► gateway :P1 (base URL) / :P2 (forward proxy) ──► fake upstream :UP (HTTP)
//                      admin :P3                                 fake upstream :UP_TLS (HTTPS,
//                                                                 certificate for localhost
//                                                                 issued by a test CA)
//
// Invariants: everything lives in one temporary directory (certificates, config, records, logs),
// removed with the fixture; the processes it starts die with it (subprocess.h); ports are free
// loopback ports picked at start; a fixture whose gateway cannot start throws with the gateway's
// log, so a test fails saying why. Upstream records and decisions are read through marks
// (counts taken before a request), so tests sharing one gateway never see each other's traffic.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../support/temp_dir.h"
#include "evidence.h"
#include "sensitive_values.h"
#include "subprocess.h"

namespace promptwall::e2e {

using nlohmann::json;
// Kept when PROMPTWALL_E2E_KEEP is set, to read a failed test's logs and records.
using test::TempDir;
namespace fs = std::filesystem;

inline std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

inline void write_text(const fs::path& p, std::string_view content) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(content.data(), static_cast<std::streamsize>(content.size()));
}

// Complete lines only: a writer may be half-way through the last one.
inline std::vector<std::string> complete_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    if (nl > start) lines.push_back(text.substr(start, nl - start));
  return lines;
}

inline std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

inline bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// How much slower the gateway runs than a Release build: PROMPTWALL_E2E_SLOW (tests/run-tsan-e2e.sh
// sets it under ThreadSanitizer, 5-15x slower). The fixture's waits for the gateway are stretched
// by it; what a test asserts is not.
inline int e2e_slowdown() {
  const char* v = std::getenv("PROMPTWALL_E2E_SLOW");
  const int factor = v ? std::atoi(v) : 1;
  return factor > 1 ? factor : 1;
}

// The last `n` bytes of a log, for failure messages.
inline std::string tail(const std::string& text, size_t n = 3000) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

// `n` distinct ports nobody listens on right now (the kernel's picks). All `n` sockets stay bound
// until every port is picked: the kernel may hand out a port again as soon as it is closed, so
// picking one at a time can return the same port twice. Another process could still take a port
// before we do; GatewayFixture picks again when its gateway finds one in use.
inline std::vector<uint16_t> free_ports(size_t n) {
  std::vector<int> fds;
  std::vector<uint16_t> ports;
  auto close_all = [&] {
    for (int fd : fds) close(fd);
  };
  for (size_t i = 0; i < n; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd >= 0) fds.push_back(fd);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      close_all();
      throw std::runtime_error("cannot pick a free port");
    }
    ports.push_back(ntohs(addr.sin_port));
  }
  close_all();
  return ports;
}

inline uint16_t free_port() { return free_ports(1).front(); }

// ---------------------------------------------------------------------------------------------
// HTTP through curl, the way an operator or a script talks to the gateway.

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;   // "Name: value"
  std::optional<std::string> body;    // sent as is (binary-safe)
  std::string proxy;                  // --proxy
  std::string cacert;                 // --cacert, for https URLs
  double max_time_s = 20;
  std::string proxy_user;             // --proxy-user "user:password" (Basic, sent at once)
  std::string interface;              // --interface: the local address to connect from (127.0.0.2, ...)
};

struct HttpResponse {
  int status = 0;          // 0: no HTTP answer (see curl_exit and log)
  int curl_exit = -1;
  std::multimap<std::string, std::string> headers;  // of the last response, names in lower case
  std::string body;
  std::string tls_issuer;  // issuer of the server certificate curl verified, if any
  std::string log;         // curl's verbose output (no bodies)

  std::string header(const std::string& name) const {
    auto it = headers.find(lower(name));
    return it == headers.end() ? "" : it->second;
  }
  bool has_header(const std::string& name) const { return headers.count(lower(name)) > 0; }
  json json_body() const { return json::parse(body, nullptr, false); }
};

inline std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// Reads status and headers from curl's -v trace: "< " lines are response headers, and every
// "< HTTP/" line starts a new response (a proxy's CONNECT answer, a 100 Continue, the real one).
inline void parse_curl_trace(HttpResponse& r) {
  std::istringstream in(r.log);
  for (std::string line; std::getline(in, line);) {
    line = trim(line);
    if (line.rfind("< HTTP/", 0) == 0) {
      r.headers.clear();
      std::istringstream status_line(line.substr(2));
      std::string version;
      status_line >> version >> r.status;
    } else if (line.rfind("< ", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos)
        r.headers.emplace(lower(trim(line.substr(2, colon - 2))), trim(line.substr(colon + 1)));
    } else if (line.rfind("*  issuer:", 0) == 0) {
      r.tls_issuer = trim(line.substr(10));
    }
  }
}

inline HttpResponse http(const HttpRequest& req) {
  std::vector<std::string> argv = {"curl", "-sS", "-v", "-X", req.method, "--max-time", std::to_string(req.max_time_s)};
  for (const auto& h : req.headers) argv.insert(argv.end(), {"-H", h});
  if (req.body) argv.insert(argv.end(), {"--data-binary", "@-"});
  // Never a proxy from the environment: these requests go to loopback servers we started.
  if (req.proxy.empty()) argv.insert(argv.end(), {"--noproxy", "*"});
  else argv.insert(argv.end(), {"--proxy", req.proxy});
  if (!req.cacert.empty()) argv.insert(argv.end(), {"--cacert", req.cacert});
  if (!req.proxy_user.empty()) argv.insert(argv.end(), {"--proxy-user", req.proxy_user});
  if (!req.interface.empty()) argv.insert(argv.end(), {"--interface", req.interface});
  argv.push_back(req.url);
  auto run = run_command(argv, req.body.value_or(""), std::chrono::milliseconds(static_cast<int>(req.max_time_s * 1000) + 5000));
  HttpResponse r;
  r.curl_exit = run.exit_code;
  r.body = std::move(run.out);
  r.log = std::move(run.err);
  parse_curl_trace(r);
  return r;
}

inline HttpResponse post(const std::string& url, const std::string& body, std::vector<std::string> headers = {}) {
  HttpRequest req;
  req.method = "POST";
  req.url = url;
  req.body = body;
  req.headers = std::move(headers);
  if (std::none_of(req.headers.begin(), req.headers.end(), [](const std::string& h) { return lower(h).rfind("content-type:", 0) == 0; }))
    req.headers.push_back("Content-Type: application/json");
  return http(req);
}

inline HttpResponse get(const std::string& url, std::vector<std::string> headers = {}) {
  HttpRequest req;
  req.url = url;
  req.headers = std::move(headers);
  return http(req);
}

// ---------------------------------------------------------------------------------------------
// Node clients (tests/e2e/*.js).

inline std::string e2e_script(const std::string& name) { return (fs::path(PROMPTWALL_E2E_DIR) / name).string(); }

// The review page's officer the e2e tests sign in as, and the hash as an administrator makes it:
// `promptwall audit passwd NAME`, the password on stdin.
inline constexpr const char* kOfficer = "thanh";
inline constexpr const char* kOfficerPassword = "Mật-khẩu e2e 7";
inline std::string officer_hash() {
  auto r = run_command({PROMPTWALL_BINARY, "audit", "passwd", kOfficer}, std::string(kOfficerPassword) + "\n");
  auto lines = complete_lines(r.out);
  if (r.exit_code != 0 || lines.empty()) throw std::runtime_error("promptwall audit passwd failed: " + r.out + r.err);
  return lines.front();
}

// node openai_client.js ARGS → its JSON line (or {"harness_error":...} with what it printed).
inline json run_node(const std::string& script, std::vector<std::string> args,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  args.insert(args.begin(), {"node", e2e_script(script)});
  auto r = run_command(args, "", timeout);
  auto lines = complete_lines(r.out);
  json parsed = lines.empty() ? json() : json::parse(lines.back(), nullptr, false);
  if (!parsed.is_object())
    return {{"harness_error", "node " + script + " exited " + std::to_string(r.exit_code) + ": " + tail(r.out + r.err, 1500)}};
  return parsed;
}

inline json openai_client(const std::string& base_url, const std::string& mode, const std::string& prompt,
                          std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--base-url", base_url, "--api-key", kClientApiKey, "--mode", mode, "--prompt", prompt};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_node("openai_client.js", args);
}

inline json stream_client(const std::string& url, const std::string& body, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--url", url, "--body", body};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_node("stream_client.js", args);
}

// True when the pieces were read over time, not all at once: the first and the last are at least
// `gap_ms` apart (a buffering gateway delivers the fake's 5 events × 100 ms in one go).
inline bool spread_over_time(const json& chunk_ms, int gap_ms = 50) {
  if (!chunk_ms.is_array() || chunk_ms.size() < 2) return false;
  return chunk_ms.back().get<int>() - chunk_ms.front().get<int>() >= gap_ms;
}

// ---------------------------------------------------------------------------------------------
// Certificates: the test CA and the fake upstream's certificate from the openssl CLI; the
// organisation CA from promptwall itself.

inline void must_run(std::vector<std::string> argv, const std::string& what) {
  auto r = run_command(argv);
  if (r.exit_code != 0) throw std::runtime_error(what + " failed: " + tail(r.out + r.err, 1500));
}

inline constexpr const char* kTestCaName = "promptwall e2e test CA";

struct Certificates {
  fs::path test_ca_crt, test_ca_key;  // trusted by the gateway for its upstreams (tls.upstream_ca)
  fs::path server_crt, server_key;    // the fake upstream's: localhost + 127.0.0.1, by the test CA
  fs::path org_ca_crt, org_ca_key;    // the organisation CA the gateway intercepts with
};

// The organisation CA is the one `promptwall ca init` makes, exactly as an office would.
inline void make_org_ca(const fs::path& dir, Certificates& c) {
  auto r = run_command({PROMPTWALL_BINARY, "ca", "init", "--dir", dir.string()});
  if (r.exit_code != 0) throw std::runtime_error("promptwall ca init failed: " + tail(r.out + r.err, 1500));
  c.org_ca_crt = dir / "ca.crt";
  c.org_ca_key = dir / "ca.key";
}

inline Certificates make_certificates(const fs::path& dir) {
  Certificates c;
  c.test_ca_crt = dir / "test-ca.crt";
  c.test_ca_key = dir / "test-ca.key";
  c.server_crt = dir / "localhost.crt";
  c.server_key = dir / "localhost.key";
  must_run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            c.test_ca_key.string(), "-out", c.test_ca_crt.string(), "-days", "2", "-subj", std::string("/CN=") + kTestCaName,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"},
           "openssl test CA");
  const auto csr = dir / "localhost.csr", ext = dir / "localhost.ext";
  must_run({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            c.server_key.string(), "-out", csr.string(), "-subj", "/CN=localhost"},
           "openssl server key");
  write_text(ext,
             "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
             "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  must_run({"openssl", "x509", "-req", "-in", csr.string(), "-CA", c.test_ca_crt.string(), "-CAkey", c.test_ca_key.string(),
            "-CAcreateserial", "-out", c.server_crt.string(), "-days", "2", "-extfile", ext.string()},
           "openssl server certificate");
  make_org_ca(dir / "org-ca", c);
  return c;
}

// ---------------------------------------------------------------------------------------------
// The fake upstream (fake_upstream.js), plain HTTP or HTTPS.

class FakeUpstream {
 public:
  // TLS when `cert` is given.
  FakeUpstream(const fs::path& dir, const std::string& name, const fs::path& cert = {}, const fs::path& key = {})
      : record_(dir / (name + ".records.jsonl")), stdout_(dir / (name + ".out")), stderr_(dir / (name + ".err")) {
    write_text(record_, "");
    std::vector<std::string> argv = {"node", e2e_script("fake_upstream.js"), "--port", "0", "--record", record_.string()};
    if (!cert.empty()) argv.insert(argv.end(), {"--tls-cert", cert.string(), "--tls-key", key.string()});
    process_ = std::make_unique<ChildProcess>(argv, stdout_, stderr_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      auto lines = complete_lines(read_text(stdout_));
      if (!lines.empty()) {
        port_ = json::parse(lines.front()).at("port").get<uint16_t>();
        break;
      }
      if (!process_->running() || std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("fake upstream " + name + " did not start: " + tail(read_text(stderr_)));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  uint16_t port() const { return port_; }
  size_t mark() const { return records().size(); }
  // Every request received, oldest first (fields: method, url, headers, body, body_base64, tls).
  std::vector<json> records() const {
    std::vector<json> out;
    for (const auto& line : complete_lines(read_text(record_))) out.push_back(json::parse(line));
    return out;
  }
  std::vector<json> records_since(size_t mark) const {
    auto all = records();
    return std::vector<json>(all.begin() + static_cast<std::ptrdiff_t>(std::min(mark, all.size())), all.end());
  }

 private:
  fs::path record_, stdout_, stderr_;
  std::unique_ptr<ChildProcess> process_;
  uint16_t port_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The gateway.

struct GatewayOptions {
  std::string packs = "[builtin]";   // rules.packs, as YAML; "" = none (rules.bundle in rules_extra)
  std::string extra_services;        // more service lines (YAML, indented by two spaces)
  std::string limits = "{max_body_bytes: 1MiB, timeouts: {header: 2s, upstream_response: 3s}}";  // as YAML
  std::string audit_extra;           // more keys of the `audit:` section (YAML lines, indented by two spaces)
  std::string audit_dir;             // the trail's directory; empty = <test dir>/audit
  std::string rules_extra;           // more keys of the `rules:` flow mapping, e.g. ", scoped_packs: [/x.yaml]"
  std::string extra_config;          // more top-level sections (YAML), e.g. `identity:` and `policy:`
  std::string listen_extra;          // more keys of the `listen:` flow mapping, e.g. ", proxy_protocol: {...}"
};

inline CommandResult serve_check(const fs::path& config) {
  return run_command({PROMPTWALL_BINARY, "serve", "--check", "--config", config.string()});
}

class GatewayFixture {
 public:
  explicit GatewayFixture(GatewayOptions options = {})
      : certs_(make_certificates(dir_.path())),
        upstream_(dir_.path(), "upstream"),
        upstream_tls_(dir_.path(), "upstream-tls", certs_.server_crt, certs_.server_key),
        config_(dir_.path() / "promptwall.yaml"),
        log_(dir_.path() / "gateway.log") {
    // A port picked free can be taken (by a client's ephemeral port) before the gateway binds it:
    // pick again then.
    for (int attempt = 1;; ++attempt) {
      const auto ports = free_ports(4);
      gateway_port_ = ports[0];
      proxy_port_ = ports[1];
      admin_port_ = ports[2];
      closed_port_ = ports[3];
      audit_dir_ = options.audit_dir.empty() ? dir_.path() / "audit" : fs::path(options.audit_dir);
      if (attempt == 1) {
        // What the product writes, kept for e2e.no_raw_secrets: its log and standard output, the
        // trail with its SQLite index (copied after the gateway has stopped; evidence.h).
        for (const auto& path : {log_, dir_.path() / "gateway.out", audit_dir_}) evidence_.watch(path);
      }
      write_text(config_, config_yaml(options));
      start();
      try {
        wait_ready();
        return;
      } catch (const std::exception&) {
        if (attempt == 3 || !contains(log(), "Address already in use")) throw;
      }
    }
  }

  const fs::path& dir() const { return dir_.path(); }

  // The gateway process again, on the same configuration and ports (after kill_hard or a stop).
  // Its log is appended to the same file.
  void start() {
    gateway_.reset();
    gateway_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{PROMPTWALL_BINARY, "serve", "--config", config_.string()}, dir_.path() / "gateway.out", log_,
        /*append=*/true);
  }
  // SIGKILL: no chance to flush, close or checkpoint anything.
  void kill_hard() {
    gateway_->signal(SIGKILL);
    while (gateway_->running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const fs::path& config() const { return config_; }
  const Certificates& certs() const { return certs_; }
  const FakeUpstream& upstream() const { return upstream_; }         // gemini, anthropic, generic
  const FakeUpstream& upstream_tls() const { return upstream_tls_; } // openai
  ChildProcess& process() { return *gateway_; }
  uint16_t closed_port() const { return closed_port_; }              // where nothing listens
  uint16_t gateway_port() const { return gateway_port_; }
  uint16_t admin_port() const { return admin_port_; }

  std::string url(std::string_view path) const { return "http://127.0.0.1:" + std::to_string(gateway_port_) + std::string(path); }
  std::string proxy() const { return "http://127.0.0.1:" + std::to_string(proxy_port_); }
  std::string admin_url(std::string_view path) const { return "http://127.0.0.1:" + std::to_string(admin_port_) + std::string(path); }
  std::string openai_base() const { return url("/openai/v1"); }

  // A request through the forward proxy that trusts the organisation CA, so an https URL of an
  // intercepted service is answered by the gateway (or the upstream it forwards to).
  HttpRequest via_proxy(std::string method, std::string url, std::optional<std::string> body = std::nullopt,
                        std::vector<std::string> headers = {}) const {
    HttpRequest req;
    req.method = std::move(method);
    req.url = std::move(url);
    req.proxy = proxy();
    req.cacert = certs_.org_ca_crt.string();
    req.body = std::move(body);
    req.headers = std::move(headers);
    return req;
  }
  // A form POST (application/x-www-form-urlencoded) to the admin listener: the review pages.
  HttpRequest admin_form(std::string_view path, std::string body, std::vector<std::string> headers) const {
    headers.push_back("Content-Type: application/x-www-form-urlencoded");
    HttpRequest req;
    req.method = "POST";
    req.url = admin_url(path);
    req.body = std::move(body);
    req.headers = std::move(headers);
    return req;
  }

  HttpResponse admin(const std::string& method, const std::string& path, bool with_token = true) const {
    HttpRequest req;
    req.method = method;
    req.url = admin_url(path);
    if (with_token) req.headers.push_back(std::string("Authorization: Bearer ") + kAdminToken);
    return http(req);
  }

  // What reached the upstreams since a mark, both fakes together.
  struct Mark {
    size_t plain, tls, decisions;
  };
  Mark mark() const { return {upstream_.mark(), upstream_tls_.mark(), decisions().size()}; }
  std::vector<json> forwarded_since(const Mark& m) const {
    auto out = upstream_.records_since(m.plain);
    auto tls = upstream_tls_.records_since(m.tls);
    out.insert(out.end(), tls.begin(), tls.end());
    return out;
  }

  // The audit trail: its directory, every record in order, and the decision events among them.
  const fs::path& audit_dir() const { return audit_dir_; }
  std::string audit_text() const {
    std::string out;
    if (fs::exists(audit_dir_))
      for (const auto& entry : fs::directory_iterator(audit_dir_))
        if (entry.path().extension() == ".jsonl") out += read_text(entry.path());
    return out;
  }
  std::vector<json> audit_records() const {
    std::vector<fs::path> files;
    if (fs::exists(audit_dir()))
      for (const auto& entry : fs::directory_iterator(audit_dir()))
        if (entry.path().extension() == ".jsonl") files.push_back(entry.path());
    std::sort(files.begin(), files.end());  // audit-DAY-SEQ: one test runs within a day
    std::vector<json> out;
    for (const auto& f : files)
      for (const auto& line : complete_lines(read_text(f))) out.push_back(json::parse(line, nullptr, false));
    return out;
  }
  std::vector<json> decisions() const {
    std::vector<json> out;
    for (auto& r : audit_records())
      if (r.value("type", "") == "decision") out.push_back(std::move(r));
    return out;
  }
  // Decision lines written since a mark; waits briefly, as the log may be written after the answer.
  std::vector<json> decisions_since(const Mark& m, size_t expected = 1) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3) * e2e_slowdown();
    for (;;) {
      auto all = decisions();
      if (all.size() >= m.decisions + expected || std::chrono::steady_clock::now() > deadline)
        return std::vector<json>(all.begin() + static_cast<std::ptrdiff_t>(std::min(m.decisions, all.size())), all.end());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  std::string log() const { return read_text(log_); }
  // The request's log line is written after its response is sent: wait for it rather than race it.
  bool log_eventually_contains(std::string_view text, std::chrono::seconds timeout = std::chrono::seconds(10)) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout * e2e_slowdown();
    while (log().find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }
  std::string log_tail() const { return tail(log()); }
  // For failure messages (Catch evaluates INFO when it is declared, so a log tail would be stale).
  std::string where_to_look() const {
    return "gateway log, config, records: " + dir_.path().string() + " (kept when PROMPTWALL_E2E_KEEP=1)";
  }

  // The value of one Prometheus sample (exact series text, labels included); 0 when absent.
  double metric(const std::string& series) const {
    auto r = admin("GET", "/metrics");
    std::istringstream in(r.body);
    for (std::string line; std::getline(in, line);)
      if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    return 0;
  }

  void wait_ready(std::chrono::seconds timeout = std::chrono::seconds(30)) {
    timeout *= e2e_slowdown();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (!gateway_->running())
        throw std::runtime_error("promptwall serve exited with " + std::to_string(gateway_->exit_code()) + ":\n" + log_tail());
      HttpRequest req;
      req.url = admin_url("/readyz");
      req.max_time_s = 1;
      if (http(req).status == 200) return;
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("promptwall serve not ready after " + std::to_string(timeout.count()) + " s:\n" + log_tail());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

 private:
  std::string config_yaml(const GatewayOptions& o) const {
    const auto d = dir_.path().string();
    const std::string up = "http://127.0.0.1:" + std::to_string(upstream_.port());
    std::ostringstream y;
    y << "listen: {gateway: 127.0.0.1:" << gateway_port_ << ", proxy: 127.0.0.1:" << proxy_port_
      << ", admin: 127.0.0.1:" << admin_port_ << o.listen_extra << "}\n"
      << "admin: {token: " << kAdminToken << "}\n"
      << "tls: {ca_cert: " << certs_.org_ca_crt.string() << ", ca_key: " << certs_.org_ca_key.string()
      << ", upstream_ca: " << certs_.test_ca_crt.string() << "}\n"
      << "rules: {" << (o.packs.empty() ? std::string() : "packs: " + o.packs + ", ") << "cache_dir: " << PROMPTWALL_TEST_CACHE_DIR << o.rules_extra << "}\n"
      << "audit:\n  dir: " << audit_dir_.string() << "\n  signing_key: " << d << "/audit-signing.pem\n  evidence_key: " << d
      << "/audit-evidence.key\n  record_clean: true\n" << o.audit_extra
      << "limits: " << o.limits << "\n"
      << "services:\n"
      << "  - {name: openai, prefix: /openai, hosts: [api.openai.com], upstream: \"https://localhost:" << upstream_tls_.port()
      << "\", schema: openai}\n"
      << "  - {name: gemini, prefix: /gemini, hosts: [generativelanguage.googleapis.com], upstream: \"" << up
      << "\", schema: gemini}\n"
      << "  - {name: anthropic, prefix: /anthropic, hosts: [api.anthropic.com], upstream: \"" << up << "\", schema: anthropic}\n"
      << "  - {name: generic, prefix: /generic, upstream: \"" << up << "\", schema: json}\n"
      << "  - {name: down, prefix: /down, upstream: \"http://127.0.0.1:" << closed_port_ << "\", schema: openai}\n"
      << "  - {name: deepseek, hosts: [api.deepseek.com], approved: false}\n"
      << "  - {name: monitored, prefix: /monitored, upstream: \"" << up << "\", schema: openai, policy: {mode: monitor}}\n"
      << "  - {name: strict, prefix: /strict, upstream: \"" << up << "\", schema: openai, policy: {overrides: {national_id: block}}}\n"
      << with_upstreams(o.extra_services, up) << o.extra_config;
    return y.str();
  }

  // extra_services may name the fakes: {UPSTREAM} (HTTP) and {UPSTREAM_TLS} (HTTPS, localhost).
  std::string with_upstreams(std::string services, const std::string& up) const {
    const std::string up_tls = "https://localhost:" + std::to_string(upstream_tls_.port());
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"{UPSTREAM}", up}, {"{UPSTREAM_TLS}", up_tls}})
      for (size_t at; (at = services.find(from)) != std::string::npos;) services.replace(at, from.size(), to);
    return services;
  }

  TempDir dir_;
  // Destroyed after the gateway process below has stopped, before the directory goes.
  EvidenceKeeper evidence_{"gateway"};
  Certificates certs_;
  FakeUpstream upstream_;
  FakeUpstream upstream_tls_;
  fs::path config_, log_, audit_dir_;
  uint16_t gateway_port_ = 0, proxy_port_ = 0, admin_port_ = 0, closed_port_ = 0;
  std::unique_ptr<ChildProcess> gateway_;
};

// One gateway per test process, started on first use and reused by every test case and section
// that needs nothing special (ctest runs each test case in its own process).
inline GatewayFixture& shared_gateway() {
  static GatewayFixture fixture;
  return fixture;
}

// ---------------------------------------------------------------------------------------------
// The texts the tests send (kClean, kSecretLine, kCccd...) are in sensitive_values.h.

inline std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
  return s;
}

inline std::string body_of(const json& record) { return record.at("body").get<std::string>(); }

}  // namespace promptwall::e2e
