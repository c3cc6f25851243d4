// Transparent mode in a small office built from network namespaces:
//
//   client ns  10.99.1.2 ──veth── 10.99.1.1 (lan0)  gateway ns  (wan0) 10.99.2.1 ──veth── services ns
//   default route via the gateway   ip_forward, ops/nftables/promptwall.nft    10.99.2.10 ai.example.test
//   /etc/netns/<ns>/hosts           `promptwall serve` (listen.transparent)      (fake AI, HTTPS :443)
//                                                                              10.99.2.20 web.example.test
//                                                                              (static site, :80 :443)
//                                                                              10.99.2.30 shadow.example.test
//                                                                              (unapproved; nothing there)
//
// The client knows nothing of the gateway: its TCP 80/443 is redirected by the shipped nft rules.
// Namespaces are named per run and deleted, with every process in them, even when a check fails.
// Needs root, `ip netns` and `nft`: without them the test says why and skips.
#include <sys/stat.h>
#include <unistd.h>

#include "expectations.h"

using namespace promptwall::e2e;

namespace {

constexpr const char* kAiAddress = "10.99.2.10";
constexpr const char* kWebAddress = "10.99.2.20";
constexpr const char* kShadowAddress = "10.99.2.30";
constexpr const char* kHosts =
    "127.0.0.1 localhost\n10.99.2.10 ai.example.test\n10.99.2.20 web.example.test\n10.99.2.30 shadow.example.test\n";

// Why the office cannot be built here; empty when it can.
std::string missing_prerequisite() {
  if (geteuid() != 0) return "not root";
  for (const char* tool : {"ip", "nft", "openssl", "node", "curl", "sha256sum"})
    if (run_command({"sh", "-c", std::string("command -v ") + tool}).exit_code != 0) return std::string(tool) + " is missing";
  // Namespaces may still be unusable: in a chroot (ops/fresh-debian-test.sh) `ip netns` cannot
  // remount / as a slave, so every command inside a namespace fails. Try one, then remove it.
  const std::string probe = "pw" + std::to_string(getpid()) + "-probe";
  if (run_command({"ip", "netns", "add", probe}).exit_code != 0) return "ip netns add fails here";
  const auto inside = run_command({"ip", "-n", probe, "link", "set", "lo", "up"});
  run_command({"ip", "netns", "delete", probe});
  if (inside.exit_code != 0) {
    std::string why = inside.err;
    while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
    return "network namespaces cannot be entered here (" + why + ")";
  }
  return "";
}

// The network namespaces of one run and their /etc/netns files: deleted when this goes away.
class Namespaces {
 public:
  Namespaces() {
    const std::string run = "pw" + std::to_string(getpid()) + "-";
    client = run + "client";
    gateway = run + "gateway";
    services = run + "services";
    try {
      for (const auto* ns : {&client, &gateway, &services}) {
        must_run({"ip", "netns", "add", *ns}, "ip netns add " + *ns);
        created_.push_back(*ns);
        must_run({"ip", "-n", *ns, "link", "set", "lo", "up"}, "lo up");
      }
    } catch (...) {
      remove();  // a constructor that throws gets no destructor
      throw;
    }
  }
  ~Namespaces() { remove(); }
  Namespaces(const Namespaces&) = delete;
  Namespaces& operator=(const Namespaces&) = delete;

  void write_hosts(const std::string& ns, const std::string& text) const {
    fs::create_directories(fs::path("/etc/netns") / ns);
    write_text(fs::path("/etc/netns") / ns / "hosts", text);
  }

  std::string client, gateway, services;

 private:
  void remove() {
    for (const auto& ns : created_) {
      run_command({"ip", "netns", "pids", ns});  // (diagnostics only; processes are stopped before this)
      run_command({"ip", "netns", "del", ns});
      std::error_code ec;
      fs::remove_all(fs::path("/etc/netns") / ns, ec);
    }
    created_.clear();
  }

  std::vector<std::string> created_;
};

std::vector<std::string> in_ns(const std::string& ns, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"ip", "netns", "exec", ns});
  return argv;
}

// A server certificate for `name` (and `ip`) from the test CA.
void issue_certificate(const Certificates& c, const fs::path& dir, const std::string& name, const std::string& ip) {
  const auto key = dir / (name + ".key"), csr = dir / (name + ".csr"), crt = dir / (name + ".crt"), ext = dir / (name + ".ext");
  must_run({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key.string(),
            "-out", csr.string(), "-subj", "/CN=" + name},
           "openssl key for " + name);
  write_text(ext, "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
                  "subjectAltName=DNS:" + name + ",IP:" + ip + "\n");
  must_run({"openssl", "x509", "-req", "-in", csr.string(), "-CA", c.test_ca_crt.string(), "-CAkey", c.test_ca_key.string(),
            "-CAcreateserial", "-out", crt.string(), "-days", "2", "-extfile", ext.string()},
           "openssl certificate for " + name);
}

std::string sha256_of(const std::string& bytes) {
  auto r = run_command({"sha256sum"}, bytes);
  return r.out.substr(0, 64);
}

// The SHA-256 fingerprint of a PEM certificate ("AB:CD:..."), from openssl x509.
std::string fingerprint_of_pem(const std::string& pem) {
  auto r = run_command({"openssl", "x509", "-noout", "-fingerprint", "-sha256"}, pem);
  const auto eq = r.out.find('=');
  return eq == std::string::npos ? "" : trim(r.out.substr(eq + 1));
}

// Replaces the value of `define NAME = ...` in an nft file; throws when the file has no such line.
std::string set_nft_variable(std::string text, const std::string& name, const std::string& value) {
  const std::string key = "define " + name + " = ";
  const auto at = text.find(key);
  if (at == std::string::npos) throw std::runtime_error("the nft file has no " + key);
  const auto end = text.find('\n', at);
  return text.replace(at, end - at, key + value);
}

struct OfficeOptions {
  bool tproxy = false;         // promptwall-tproxy.nft and `transparent: {tproxy: true}`
  bool organisation_ca = true; // false: no CA configured or in the (empty) state directory
  std::string listen = "0.0.0.0:3129";  // listen.transparent (YAML scalar)
};

class Office {
 public:
  explicit Office(OfficeOptions options = {})
      : tproxy_(options.tproxy),
        organisation_ca_(options.organisation_ca),
        listen_(options.listen),
        certs_(make_certificates(dir_.path())) {
    build_network();
    issue_certificate(certs_, dir_.path(), "ai.example.test", kAiAddress);
    issue_certificate(certs_, dir_.path(), "web.example.test", kWebAddress);
    write_text(dir_.path() / "bundle.crt", read_text(certs_.org_ca_crt) + read_text(certs_.test_ca_crt));
    start_services();
    apply_rules();
    start_gateway();
  }
  ~Office() {
    // Every process dies before its namespace goes (Namespaces is destroyed after this body).
    processes_.clear();
  }

  const Namespaces& ns() const { return ns_; }
  const fs::path& dir() const { return dir_.path(); }
  const Certificates& certs() const { return certs_; }
  fs::path bundle() const { return dir_.path() / "bundle.crt"; }  // organisation CA + the test CA
  fs::path config() const { return dir_.path() / "promptwall.yaml"; }
  const std::string& download() const { return download_; }

  // curl in the client namespace; the client knows nothing of the gateway.
  HttpResponse client_http(const HttpRequest& req) const {
    std::vector<std::string> argv = {"curl", "-sS", "-v", "-X", req.method, "--max-time", std::to_string(req.max_time_s),
                                     "--noproxy", "*"};
    for (const auto& h : req.headers) argv.insert(argv.end(), {"-H", h});
    if (req.body) argv.insert(argv.end(), {"--data-binary", "@-"});
    if (!req.cacert.empty()) argv.insert(argv.end(), {"--cacert", req.cacert});
    argv.push_back(req.url);
    auto run = run_command(in_ns(ns_.client, argv), req.body.value_or(""),
                           std::chrono::milliseconds(static_cast<int>(req.max_time_s * 1000) + 5000));
    HttpResponse r;
    r.curl_exit = run.exit_code;
    r.body = std::move(run.out);
    r.log = std::move(run.err);
    parse_curl_trace(r);
    return r;
  }

  HttpResponse chat(const std::string& url, const std::string& content, const fs::path& cacert) const {
    HttpRequest req;
    req.method = "POST";
    req.url = url;
    req.body = chat_body(content);
    req.headers = {"Content-Type: application/json", "Authorization: Bearer sk-e2e-test"};
    req.cacert = cacert.string();
    return client_http(req);
  }

  // What the fake AI service and the web site received.
  std::vector<json> ai_records() const { return records(dir_.path() / "ai.records.jsonl"); }
  std::vector<json> site_records() const { return records(dir_.path() / "site.records.jsonl"); }

  std::vector<json> decisions() const {
    std::vector<json> out;
    for (const auto& entry : fs::directory_iterator(dir_.path() / "audit"))
      if (entry.path().extension() == ".jsonl")
        for (const auto& line : complete_lines(read_text(entry.path()))) {
          auto record = json::parse(line, nullptr, false);
          if (record.value("type", "") == "decision") out.push_back(record);
        }
    return out;
  }

  // Waits for `condition` (records are written as requests arrive) for up to 5 s.
  template <class F>
  static bool eventually(F condition) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!condition()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }

  CommandResult in_gateway(std::vector<std::string> argv, const std::string& input = "") const {
    return run_command(in_ns(ns_.gateway, std::move(argv)), input);
  }

  // One Prometheus sample of the gateway's admin listener (inside its namespace); 0 when absent.
  double metric(const std::string& series) const {
    auto r = in_gateway({"curl", "-sS", "--noproxy", "*", "-H", std::string("Authorization: Bearer ") + kAdminToken,
                         "http://127.0.0.1:9090/metrics"});
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);)
      if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    return 0;
  }

  std::string gateway_log() const { return read_text(dir_.path() / "gateway.log"); }
  std::string where_to_look() const { return "logs, config, records: " + dir_.path().string() + " (kept when PROMPTWALL_E2E_KEEP=1)"; }

 private:
  static std::vector<json> records(const fs::path& file) {
    std::vector<json> out;
    for (const auto& line : complete_lines(read_text(file))) out.push_back(json::parse(line, nullptr, false));
    return out;
  }

  void build_network() {
    const auto& c = ns_.client;
    const auto& g = ns_.gateway;
    const auto& s = ns_.services;
    must_run({"ip", "link", "add", "lan-c", "netns", c, "type", "veth", "peer", "name", "lan0", "netns", g}, "veth client");
    must_run({"ip", "link", "add", "wan-s", "netns", s, "type", "veth", "peer", "name", "wan0", "netns", g}, "veth services");
    must_run({"ip", "-n", c, "addr", "add", "10.99.1.2/24", "dev", "lan-c"}, "client address");
    must_run({"ip", "-n", c, "link", "set", "lan-c", "up"}, "client link");
    must_run({"ip", "-n", c, "route", "add", "default", "via", "10.99.1.1"}, "client route");
    must_run({"ip", "-n", g, "addr", "add", "10.99.1.1/24", "dev", "lan0"}, "gateway LAN address");
    must_run({"ip", "-n", g, "addr", "add", "10.99.2.1/24", "dev", "wan0"}, "gateway WAN address");
    must_run({"ip", "-n", g, "link", "set", "lan0", "up"}, "gateway LAN link");
    must_run({"ip", "-n", g, "link", "set", "wan0", "up"}, "gateway WAN link");
    must_run(in_ns(g, {"sysctl", "-qw", "net.ipv4.ip_forward=1"}), "ip_forward");
    for (const char* a : {"10.99.2.2/24", "10.99.2.10/24", "10.99.2.20/24", "10.99.2.30/24"})
      must_run({"ip", "-n", s, "addr", "add", a, "dev", "wan-s"}, std::string("services address ") + a);
    must_run({"ip", "-n", s, "link", "set", "wan-s", "up"}, "services link");
    must_run({"ip", "-n", s, "route", "add", "default", "via", "10.99.2.1"}, "services route");
    ns_.write_hosts(c, kHosts);
    ns_.write_hosts(g, kHosts);
    if (tproxy_) {
      // TPROXY's policy routing, as in the comments of promptwall-tproxy.nft.
      must_run({"ip", "-n", g, "rule", "add", "fwmark", "0x1/0x1", "lookup", "100"}, "ip rule");
      must_run({"ip", "-n", g, "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table", "100"}, "ip route local");
    }
  }

  // Starts a server in a namespace and waits for its first stdout line.
  void start(const std::string& ns, const std::string& name, std::vector<std::string> argv) {
    const auto out = dir_.path() / (name + ".out"), err = dir_.path() / (name + ".err");
    processes_.push_back(std::make_unique<ChildProcess>(in_ns(ns, std::move(argv)), out, err));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (complete_lines(read_text(out)).empty()) {
      if (!processes_.back()->running() || std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error(name + " did not start: " + tail(read_text(err)));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  void start_services() {
    const auto d = dir_.path();
    write_text(d / "ai.records.jsonl", "");
    write_text(d / "site.records.jsonl", "");
    // 1 MiB of bytes of every value: what a download through the splice must keep exactly.
    std::mt19937 random(42);
    download_.resize(1 << 20);
    for (auto& b : download_) b = static_cast<char>(random() & 0xff);
    fs::create_directories(d / "site");
    write_text(d / "site" / "download.bin", download_);
    start(ns_.services, "ai",
          {"node", e2e_script("fake_upstream.js"), "--host", kAiAddress, "--port", "443", "--record",
           (d / "ai.records.jsonl").string(), "--tls-cert", (d / "ai.example.test.crt").string(), "--tls-key",
           (d / "ai.example.test.key").string()});
    start(ns_.services, "site",
          {"node", e2e_script("static_site.js"), "--host", kWebAddress, "--root", (d / "site").string(), "--record",
           (d / "site.records.jsonl").string(), "--http-port", "80", "--https-port", "443", "--tls-cert",
           (d / "web.example.test.crt").string(), "--tls-key", (d / "web.example.test.key").string(), "--udp",
           std::string(kAiAddress) + ":443", "--udp", std::string(kWebAddress) + ":443"});
  }

  // The shipped rules, with the office's variables set as an administrator would.
  void apply_rules() {
    const auto file = fs::path(PROMPTWALL_SOURCE_DIR) / "ops" / "nftables" / (tproxy_ ? "promptwall-tproxy.nft" : "promptwall.nft");
    std::string rules = read_text(file);
    rules = set_nft_variable(rules, "LAN_IF", "\"lan0\"");
    rules = set_nft_variable(rules, "LAN_CIDR", "10.99.1.0/24");
    rules = set_nft_variable(rules, "TRANSPARENT_PORT", "3129");
    write_text(dir_.path() / "rules.nft", rules);
    must_run(in_ns(ns_.gateway, {"nft", "-f", (dir_.path() / "rules.nft").string()}), "nft -f " + file.string());
  }

  void start_gateway() {
    const auto d = dir_.path().string();
    std::ostringstream y;
    // The forward proxy too, for CONNECTs to the office's addresses (10.99.1.1:3128 from the client).
    y << "listen: {transparent: " << listen_ << ", proxy: '0.0.0.0:3128', admin: 127.0.0.1:9090}\n"
      << (tproxy_ ? "transparent: {tproxy: true}\n" : "")
      << "admin: {token: " << kAdminToken << "}\n"
      << "tls: {upstream_ca: " << certs_.test_ca_crt.string();
    if (organisation_ca_) y << ", ca_cert: " << certs_.org_ca_crt.string() << ", ca_key: " << certs_.org_ca_key.string();
    y << "}\n"
      << "rules: {packs: [builtin], cache_dir: " << PROMPTWALL_TEST_CACHE_DIR << "}\n"
      << "audit: {dir: " << d << "/audit, signing_key: " << d << "/audit-signing.pem, evidence_key: " << d
      << "/audit-evidence.key}\n"
      << "limits: {timeouts: {header: 3s, upstream_response: 5s}}\n"
      << "services:\n"
      << "  - {name: ai, hosts: [ai.example.test], upstream: \"https://ai.example.test\", schema: openai}\n"
      << "  - {name: shadow, hosts: [shadow.example.test], approved: false}\n"
      << "  - {name: web-known, hosts: [known.example.test], upstream: \"https://known.example.test\", inspect: false}\n";
    write_text(config(), y.str());
    // The state directory is the run's own, so no organisation CA is found there by default.
    fs::create_directories(dir_.path() / "state");
    for (const auto& path : {dir_.path() / "gateway.log", dir_.path() / "gateway.out", dir_.path() / "audit"}) evidence_.watch(path);
    processes_.push_back(std::make_unique<ChildProcess>(
        in_ns(ns_.gateway, {"env", "PROMPTWALL_STATE_DIR=" + (dir_.path() / "state").string(), PROMPTWALL_BINARY, "serve",
                            "--config", config().string()}),
        dir_.path() / "gateway.out", dir_.path() / "gateway.log"));
    auto& gateway = *processes_.back();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      if (!gateway.running()) throw std::runtime_error("promptwall serve exited:\n" + tail(gateway_log()));
      if (in_gateway({"curl", "-sf", "--noproxy", "*", "--max-time", "1", "http://127.0.0.1:9090/readyz"}).exit_code == 0) return;
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("promptwall serve not ready:\n" + tail(gateway_log()));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  bool tproxy_;
  bool organisation_ca_;
  std::string listen_;
  TempDir dir_;
  // The gateway's log, trail and index for e2e.no_raw_secrets, copied after processes_ stopped.
  EvidenceKeeper evidence_{"gateway"};
  Namespaces ns_;
  Certificates certs_;
  std::string download_;
  std::vector<std::unique_ptr<ChildProcess>> processes_;
};

// The certificate the client is shown for host:443, by openssl s_client in the client namespace
// (with no SNI at all when `server_name` is empty).
std::string presented_fingerprint(const Office& office, const std::string& host, const std::string& server_name) {
  std::vector<std::string> argv = {"openssl", "s_client", "-connect", host + ":443"};
  if (server_name.empty()) argv.push_back("-noservername");
  else argv.insert(argv.end(), {"-servername", server_name});
  auto r = run_command(in_ns(office.ns().client, argv), "", std::chrono::seconds(15));
  return fingerprint_of_pem(r.out);
}

bool has_promptwall_header(const json& raw_headers) {
  for (size_t i = 0; i < raw_headers.size(); i += 2)
    if (lower(raw_headers[i].get<std::string>()).rfind("x-promptwall", 0) == 0) return true;
  return false;
}

}  // namespace

TEST_CASE("transparent mode: an office whose TCP 80/443 is redirected to promptwall", "[e2e][transparent]") {
  if (const auto missing = missing_prerequisite(); !missing.empty()) {
    WARN("SKIPPED: transparent-mode test: " << missing << " (it needs root, ip netns and nft, as in CI)");
    return;
  }
  // A dual-stack listener: the IPv4 clients' connections arrive v4-mapped, and their original
  // destination still comes from SO_ORIGINAL_DST.
  Office office({.listen = "'[::]:3129'"});
  INFO(office.where_to_look());

  SECTION("HTTPS to the AI host, organisation CA trusted: intercepted, the CCCD redacted, the event audited") {
    const auto sent = chat_body(kCccdText);
    auto r = office.chat("https://ai.example.test/v1/chat/completions", kCccdText, office.bundle());
    INFO(tail(r.log, 3000) << "\n" << tail(office.gateway_log()));
    CHECK(r.curl_exit == 0);
    CHECK(r.status == 200);
    CHECK_FALSE(contains(r.tls_issuer, kTestCaName));  // the leaf came from the organisation CA
    check_decision(r, "redact");
    auto got = office.ai_records();
    REQUIRE(got.size() == 1);
    CHECK(got[0]["url"] == "/v1/chat/completions");
    check_forwarded_body(got[0], replace_all(sent, kCccd, "[CCCD-1]"));
    auto events = office.decisions();
    REQUIRE(events.size() == 1);
    CHECK(events[0]["service"] == "ai");
    CHECK(events[0]["decision"] == "redact");
    CHECK(contains(events[0].value("client", ""), "10.99.1.2:"));
    CHECK_FALSE(contains(events[0].dump(), kCccd));
    CHECK(office.metric("promptwall_transparent_connections_total{outcome=\"intercepted\"}") >= 1);
  }

  SECTION("plain HTTP to the AI host: routed by its Host header, inspected, sent to the service's upstream") {
    const auto sent = chat_body(kCccdText);
    auto r = office.chat("http://ai.example.test/v1/chat/completions", kCccdText, {});
    INFO(tail(r.log, 3000) << "\n" << tail(office.gateway_log()));
    CHECK(r.status == 200);
    check_decision(r, "redact");
    auto got = office.ai_records();
    REQUIRE(got.size() == 1);
    CHECK(got[0]["tls"] == true);  // on to https://ai.example.test, the service's upstream
    check_forwarded_body(got[0], replace_all(sent, kCccd, "[CCCD-1]"));
  }

  SECTION("the non-AI HTTPS host passes byte for byte: its own certificate, the exact download") {
    const auto expected = fingerprint_of_pem(read_text(office.dir() / "web.example.test.crt"));
    REQUIRE_FALSE(expected.empty());
    CHECK(presented_fingerprint(office, "web.example.test", "web.example.test") == expected);
    HttpRequest req;
    req.url = "https://web.example.test/download.bin";
    req.cacert = office.certs().test_ca_crt.string();  // the site's own CA only: no organisation CA involved
    auto r = office.client_http(req);
    INFO(tail(r.log, 2000) << "\n" << tail(office.gateway_log()));
    CHECK(r.curl_exit == 0);
    CHECK(r.status == 200);
    CHECK(r.body.size() == office.download().size());
    CHECK(sha256_of(r.body) == sha256_of(office.download()));
    CHECK_FALSE(r.has_header("X-Promptwall-Request-Id"));
    CHECK(office.metric("promptwall_transparent_connections_total{outcome=\"spliced\"}") >= 1);
  }

  SECTION("TLS naming no host is refused to an AI service's address, spliced to any other") {
    // ai.example.test resolves to 10.99.2.10 in the gateway's namespace: the address is the
    // AI service's, and a connection naming no host there cannot be inspected (issue 12, item 8).
    const auto ai_own = fingerprint_of_pem(read_text(office.dir() / "ai.example.test.crt"));
    REQUIRE_FALSE(ai_own.empty());
    const auto refused_before = office.metric("promptwall_refusals_total{reason=\"uninspectable_connection\"}");
    const auto no_name = presented_fingerprint(office, kAiAddress, "");
    CHECK(no_name.empty());  // closed before any certificate: neither the server's nor a leaf
    CHECK(no_name != ai_own);
    CHECK(office.ai_records().empty());
    CHECK(Office::eventually([&] {
      for (const auto& e : office.decisions())
        if (e.value("reason", "") == "uninspectable_connection" && e.value("service", "") == "ai") return true;
      return false;
    }));
    CHECK(office.metric("promptwall_refusals_total{reason=\"uninspectable_connection\"}") > refused_before);
    // The web site's address is no AI service's: TLS without a name there passes as before.
    const auto web_own = fingerprint_of_pem(read_text(office.dir() / "web.example.test.crt"));
    CHECK(presented_fingerprint(office, kWebAddress, "") == web_own);
    CHECK(presented_fingerprint(office, "ai.example.test", "ai.example.test") != ai_own);  // named: intercepted
  }

  SECTION("a CONNECT or absolute-form request to the AI service's address is refused; another address tunnels") {
    // The client asks the forward proxy for an IP address: no name to intercept it as.
    auto connect = [&](const std::string& url) {
      return run_command(in_ns(office.ns().client, {"curl", "-sS", "-v", "--max-time", "10", "-p", "-x",
                                                     "http://10.99.1.1:3128", url}),
                         "", std::chrono::seconds(15));
    };
    auto refused = connect(std::string("http://") + kAiAddress + "/v1/models");
    INFO(refused.err << "\n" << tail(office.gateway_log()));
    CHECK(refused.exit_code != 0);
    CHECK(contains(refused.err, "403"));
    CHECK(office.ai_records().empty());
    CHECK(Office::eventually([&] {
      for (const auto& e : office.decisions())
        if (e.value("reason", "") == "uninspectable_connection" && e.value("method", "") == "CONNECT") return true;
      return false;
    }));
    // The same address in an absolute-form request (plain HTTP through the proxy, no CONNECT).
    auto absolute = run_command(in_ns(office.ns().client, {"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                                                           "--max-time", "10", "-x", "http://10.99.1.1:3128",
                                                           std::string("http://") + kAiAddress + "/v1/models"}),
                                "", std::chrono::seconds(15));
    INFO(absolute.err);
    CHECK(absolute.out == "403");
    CHECK(office.ai_records().empty());
    CHECK(Office::eventually([&] {
      for (const auto& e : office.decisions())
        if (e.value("reason", "") == "uninspectable_connection" && e.value("method", "") == "GET") return true;
      return false;
    }));
    auto tunnelled = connect(std::string("http://") + kWebAddress + "/download.bin");
    INFO(tunnelled.err);
    CHECK(tunnelled.exit_code == 0);
    CHECK(sha256_of(tunnelled.out) == sha256_of(office.download()));
  }

    SECTION("plain HTTP to the non-AI host passes untouched") {
    HttpRequest req;
    req.url = "http://web.example.test/download.bin";
    req.headers = {"X-Office-Test: kept"};
    auto r = office.client_http(req);
    INFO(tail(r.log, 2000) << "\n" << tail(office.gateway_log()));
    CHECK(r.status == 200);
    CHECK(sha256_of(r.body) == sha256_of(office.download()));
    CHECK_FALSE(r.has_header("X-Promptwall-Request-Id"));
    auto got = office.site_records();
    REQUIRE(got.size() == 1);
    CHECK(got[0]["tls"] == false);
    CHECK(got[0]["url"] == "/download.bin");
    // The head arrived as curl wrote it: its headers in order, nothing added or removed.
    const json expected_headers = {"Host", "web.example.test", "User-Agent", got[0]["raw_headers"][3], "Accept", "*/*",
                                   "X-Office-Test", "kept"};
    CHECK(got[0]["raw_headers"] == expected_headers);
    CHECK_FALSE(has_promptwall_header(got[0]["raw_headers"]));
  }

  SECTION("a client without the organisation CA fails its handshake to the AI host only") {
    auto ai = office.chat("https://ai.example.test/v1/chat/completions", kClean, office.certs().test_ca_crt);
    INFO(tail(ai.log, 2000));
    CHECK(ai.curl_exit == 60);  // the peer's certificate is not trusted
    CHECK(ai.status == 0);
    CHECK(office.ai_records().empty());
    HttpRequest req;
    req.url = "https://web.example.test/download.bin";
    req.cacert = office.certs().test_ca_crt.string();
    auto web = office.client_http(req);
    CHECK(web.curl_exit == 0);
    CHECK(web.status == 200);
    CHECK(sha256_of(web.body) == sha256_of(office.download()));
  }

  SECTION("an unapproved AI service is intercepted to show the refusal, and nothing leaves") {
    auto r = office.chat("https://shadow.example.test/v1/chat/completions", kClean, office.bundle());
    INFO(tail(r.log, 2000) << "\n" << tail(office.gateway_log()));
    CHECK(r.curl_exit == 0);
    CHECK(r.status == 403);
    CHECK(r.header("X-Promptwall-Decision") == "refused");
    CHECK(contains(r.body, "shadow"));
    CHECK(has_non_ascii(r.body));  // Vietnamese first, then English
    // A refusal's event is written after the answer (nothing was forwarded to wait for).
    REQUIRE(Office::eventually([&] { return office.decisions().size() == 1; }));
    auto events = office.decisions();
    CHECK(events[0]["reason"] == "unapproved_service");
    CHECK(events[0]["forwarded"] == false);
  }

  SECTION("the loop guard refuses a connection addressed to the transparent port itself") {
    HttpRequest req;
    req.url = "http://10.99.1.1:3129/";
    req.max_time_s = 5;
    auto r = office.client_http(req);
    CHECK(r.status == 0);  // closed without an answer, never relayed back to ourselves
    CHECK(Office::eventually([&] { return contains(office.gateway_log(), "loop guard"); }));
    REQUIRE(Office::eventually([&] { return office.decisions().size() == 1; }));
    CHECK(office.decisions()[0]["reason"] == "unsupported_request");
    CHECK(office.metric("promptwall_transparent_connections_total{outcome=\"refused\"}") == 1);
    CHECK(office.metric("promptwall_transparent_connections_total{outcome=\"spliced\"}") == 0);
  }

  SECTION("QUIC: UDP 443 to an AI address is dropped, to another address it passes") {
    // Fill the AI address sets from the catalog, as promptwall-nft-set.service does.
    auto sets = office.in_gateway({PROMPTWALL_BINARY, "nft-set", "--config", office.config().string()});
    INFO(sets.out << sets.err);
    REQUIRE(sets.exit_code == 0);
    CHECK(contains(sets.out, kAiAddress));
    CHECK(contains(sets.out, kShadowAddress));
    CHECK_FALSE(contains(sets.out, kWebAddress));  // not a service, and known.example.test is not inspected
    REQUIRE(office.in_gateway({"nft", "-f", "-"}, sets.out).exit_code == 0);

    auto send_udp = [&](const std::string& address) {
      return run_command(in_ns(office.ns().client, {"bash", "-c", "printf quic > /dev/udp/" + address + "/443"}));
    };
    REQUIRE(send_udp(kAiAddress).exit_code == 0);
    REQUIRE(send_udp(kWebAddress).exit_code == 0);
    auto datagrams_to = [&](const std::string& address) {
      size_t n = 0;
      for (const auto& rec : office.site_records())
        if (rec.value("kind", "") == "udp" && rec.value("to", "") == address + ":443") ++n;
      return n;
    };
    // The second datagram arrived: the first, sent before it on the same path, had its chance.
    CHECK(Office::eventually([&] { return datagrams_to(kWebAddress) == 1; }));
    CHECK(datagrams_to(kAiAddress) == 0);
    auto chain = office.in_gateway({"nft", "list", "chain", "inet", "promptwall", "forward"});
    INFO(chain.out);
    CHECK(contains(chain.out, "ip daddr @ai_ipv4 counter packets 1 "));
  }
}

TEST_CASE("transparent mode with TPROXY: intercepted and spliced as with REDIRECT", "[e2e][transparent]") {
  if (const auto missing = missing_prerequisite(); !missing.empty()) {
    WARN("SKIPPED: transparent-mode test: " << missing << " (it needs root, ip netns and nft, as in CI)");
    return;
  }
  Office office({.tproxy = true});
  INFO(office.where_to_look());
  const auto sent = chat_body(kCccdText);
  auto ai = office.chat("https://ai.example.test/v1/chat/completions", kCccdText, office.bundle());
  INFO(tail(ai.log, 3000) << "\n" << tail(office.gateway_log()));
  CHECK(ai.status == 200);
  check_decision(ai, "redact");
  auto got = office.ai_records();
  REQUIRE(got.size() == 1);
  check_forwarded_body(got[0], replace_all(sent, kCccd, "[CCCD-1]"));

  HttpRequest req;
  req.url = "https://web.example.test/download.bin";
  req.cacert = office.certs().test_ca_crt.string();
  auto web = office.client_http(req);
  CHECK(web.status == 200);
  CHECK(sha256_of(web.body) == sha256_of(office.download()));
  CHECK(office.metric("promptwall_transparent_connections_total{outcome=\"spliced\"}") >= 1);
}

TEST_CASE("transparent mode without an organisation CA: TLS to AI hosts is closed, never passed unseen",
          "[e2e][transparent]") {
  if (const auto missing = missing_prerequisite(); !missing.empty()) {
    WARN("SKIPPED: transparent-mode test: " << missing << " (it needs root, ip netns and nft, as in CI)");
    return;
  }
  Office office({.organisation_ca = false});
  INFO(office.where_to_look());
  auto ai = office.chat("https://ai.example.test/v1/chat/completions", kCccdText, office.certs().test_ca_crt);
  INFO(tail(ai.log, 2000) << "\n" << tail(office.gateway_log()));
  CHECK(ai.status == 0);     // closed: the client trusts the real server's CA, yet never reaches it
  CHECK(ai.curl_exit != 0);
  CHECK(office.ai_records().empty());
  REQUIRE(Office::eventually([&] { return office.decisions().size() == 1; }));
  CHECK(office.decisions()[0]["service"] == "ai");
  CHECK(office.decisions()[0]["forwarded"] == false);
  CHECK(office.metric("promptwall_transparent_connections_total{outcome=\"refused\"}") == 1);

  // Other sites are unaffected.
  HttpRequest req;
  req.url = "https://web.example.test/download.bin";
  req.cacert = office.certs().test_ca_crt.string();
  auto web = office.client_http(req);
  CHECK(web.status == 200);
  CHECK(sha256_of(web.body) == sha256_of(office.download()));
}
