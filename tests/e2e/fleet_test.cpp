// Issue 17's fleet, end to end with the real servers on loopback: a PostgreSQL 15 central store
// (PostgresCluster), three gateways (fleet.gateway_id gw-1..3, each its own state and trail,
// audit.central.url, rules from one signed bundle in a watched directory) behind HAProxy 2.6
// (haproxy_front.h: send-proxy-v2, /readyz checks through the PROXY protocol). Traffic through
// HAProxy from three client addresses (three units), clean and violating; gw-2 killed with
// SIGKILL mid-load and restarted; PostgreSQL stopped mid-load and started again. Afterwards:
//   - every request that got an answer carries X-Promptwall-Request-Id, and its decision event is
//     in exactly one gateway's trail, exactly once, with the unit of the client that sent it;
//   - the central store holds each of those events exactly once (pw_events by request_id), from
//     all three gateways, and `promptwall audit verify --central` finds each gateway's chain intact
//     against that gateway's own public key;
//   - the review page of gw-1 (audit.central.review), in Chromium, lists blocked requests of all
//     three gateways and shows the per-unit usage chart with the three units;
//   - a bundle with a bad signature dropped into the watched directory is refused by all three,
//     which keep serving (and blocking with) the bundle they had.
// Label e2e; about a minute.
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "../support/postgres_cluster.h"
#include "expectations.h"
#include "haproxy_front.h"

using namespace promptwall::e2e;
using promptwall::test::PostgresCluster;

namespace {

constexpr const char* kBalancer = "127.0.0.9";
constexpr const char* kGoodVersion = "2026.12.07-1";
constexpr const char* kBadVersion = "2026.12.07-2";
// Client address → the unit identity.units gives it.
const std::vector<std::pair<std::string, std::string>> kClients = {
    {"127.0.0.2", "so-tu-phap"}, {"127.0.0.3", "so-y-te"}, {"127.0.0.4", "ubnd-xa-an-phu"}};

struct Bundles {
  TempDir dir{"fleet-bundles"};
  fs::path incoming = dir.path() / "incoming";
  fs::path signer = dir.path() / "signer";      // the organisation's key
  fs::path stranger = dir.path() / "stranger";  // a key no gateway trusts

  Bundles() {
    fs::create_directories(incoming);
    must_run({PROMPTWALL_BINARY, "rules", "bundle-key", "--out", signer.string()}, "rules bundle-key");
    must_run({PROMPTWALL_BINARY, "rules", "bundle-key", "--out", stranger.string()}, "rules bundle-key");
    make(signer, kGoodVersion, incoming / "rules-1.bundle");
  }
  void make(const fs::path& key_dir, const std::string& version, const fs::path& out) const {
    must_run({PROMPTWALL_BINARY, "rules", "bundle", "--key", (key_dir / "bundle-signing.pem").string(), "--version",
              version, "--out", out.string(), std::string(PROMPTWALL_SOURCE_DIR) + "/rules/packs"},
             "rules bundle");
  }
  fs::path public_key() const { return signer / "bundle-signing.pub"; }
};


// gw-1's review page reads the central store: the officers' view of the whole fleet.
GatewayOptions fleet_member(int n, const PostgresCluster& pg, const Bundles& bundles) {
  GatewayOptions o;
  o.packs = "";  // the bundle is the one rule source
  o.rules_extra = ", bundle: {dir: " + bundles.incoming.string() + ", public_key: " + bundles.public_key().string() +
                  ", poll_interval: 1s, state_dir: " + (bundles.dir / ("gw-" + std::to_string(n) + "-state")).string() + "}";
  o.listen_extra = std::string(", proxy_protocol: {listeners: [gateway, admin], from: [") + kBalancer + "/32]}";
  o.audit_extra = "  traffic_interval: 1s\n  central: {url: '" + pg.url() + "', retry_interval: 500ms" +
                  (n == 1 ? ", review: true" : "") + "}\n";
  if (n == 1)
    o.audit_extra += "  review: {officers: [{name: " + std::string(kOfficer) + ", password_hash: \"" + officer_hash() + "\"}]}\n";
  std::string units;
  for (const auto& [address, unit] : kClients) units += (units.empty() ? "" : ", ") + ("'" + address + "/32': " + unit);
  o.extra_config = "fleet: {gateway_id: gw-" + std::to_string(n) + ", province: 'Tỉnh " + std::to_string(n) + "'}\n" +
                   "identity:\n  units: {" + units + "}\n";
  return o;
}

struct Answer {
  std::string request_id;
  std::string unit;  // the sender's
  int status = 0;
};

// Clients sending through HAProxy until told to stop: each its own address, clean and violating
// texts in turn. Keeps every answer that named its request.
class Load {
 public:
  explicit Load(std::string url) : url_(std::move(url)) {
    for (size_t c = 0; c < kClients.size(); ++c) threads_.emplace_back([this, c] { run(c); });
  }
  ~Load() { stop(); }
  void stop() {
    stopping_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  std::vector<Answer> answers() const {
    std::lock_guard lock(mutex_);
    return answers_;
  }
  size_t unanswered() const { return unanswered_; }

 private:
  void run(size_t c) {
    const std::vector<std::string> texts = {kClean, kSecretLine, kCccdText, kClean};
    for (size_t i = 0; !stopping_; ++i) {
      HttpRequest req;
      req.method = "POST";
      req.url = url_;
      req.interface = kClients[c].first;
      req.body = chat_body(texts[i % texts.size()]);
      req.headers = {"Content-Type: application/json", "Authorization: Bearer sk-e2e-test"};
      req.max_time_s = 10;
      const HttpResponse r = http(req);
      const std::string id = r.header("X-Promptwall-Request-Id");
      std::lock_guard lock(mutex_);
      if (r.status > 0 && !id.empty()) answers_.push_back({id, kClients[c].second, r.status});
      else ++unanswered_;
    }
  }

  std::string url_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<Answer> answers_;
  std::atomic<size_t> unanswered_{0};
  std::vector<std::thread> threads_;
};

void pause_for(std::chrono::milliseconds d) { std::this_thread::sleep_for(d * e2e_slowdown()); }

}  // namespace

TEST_CASE("fleet: three gateways behind HAProxy, a gateway killed and PostgreSQL restarted mid-load, every event "
          "central exactly once, a badly signed bundle refused by all",
          "[e2e][fleet]") {
  if (!PostgresCluster::available() || !HaproxyFront::available()) {
    WARN("SKIPPED: needs PostgreSQL 15 (postgresql) and HAProxy (haproxy) installed");
    return;
  }
  PostgresCluster pg;
  Bundles bundles;
  std::vector<std::unique_ptr<GatewayFixture>> gateways;
  for (int n = 1; n <= 3; ++n) gateways.push_back(std::make_unique<GatewayFixture>(fleet_member(n, pg, bundles)));
  std::vector<HaproxyBackend> backends;
  for (int n = 1; n <= 3; ++n)
    backends.push_back({"gw-" + std::to_string(n), gateways[n - 1]->gateway_port(), gateways[n - 1]->admin_port(), true});
  HaproxyFront haproxy(gateways[0]->dir() / "haproxy", backends, kBalancer);
  for (const auto& b : backends) REQUIRE(haproxy.wait_status(b.name, "UP", std::chrono::seconds(15)));
  GatewayFixture& killed = *gateways[1];

  // ---- load, with a gateway killed and the central store down for a while ----
  {
    Load load(haproxy.url("/openai/v1/chat/completions"));
    pause_for(std::chrono::milliseconds(2500));
    killed.kill_hard();
    REQUIRE(haproxy.wait_status("gw-2", "DOWN", std::chrono::seconds(10)));
    pause_for(std::chrono::milliseconds(1000));
    killed.start();
    killed.wait_ready();
    REQUIRE(haproxy.wait_status("gw-2", "UP", std::chrono::seconds(15)));
    pause_for(std::chrono::milliseconds(1500));
    pg.stop();
    const size_t before_outage = load.answers().size();
    pause_for(std::chrono::milliseconds(3000));
    const size_t during_outage = load.answers().size() - before_outage;
    pg.start();
    pause_for(std::chrono::milliseconds(2000));
    load.stop();

    const std::vector<Answer> answers = load.answers();
    INFO(answers.size() << " answered, " << load.unanswered() << " without an answer (cut by the SIGKILL)");
    REQUIRE(answers.size() >= 30);
    CHECK(during_outage > 0);  // requests went on while the central store was down

    // ---- every answered request: one event, in one gateway's trail, with its sender's unit ----
    std::map<std::string, std::vector<std::pair<int, json>>> events;  // request_id → (gateway, event)
    for (int n = 1; n <= 3; ++n)
      for (auto& e : gateways[n - 1]->decisions()) events[e.value("request_id", "")].emplace_back(n, std::move(e));
    std::set<int> served_by;
    size_t blocked = 0;
    for (const auto& a : answers) {
      INFO("request " << a.request_id << " (HTTP " << a.status << ")");
      const auto it = events.find(a.request_id);
      REQUIRE(it != events.end());
      REQUIRE(it->second.size() == 1);
      const json& e = it->second.front().second;
      CHECK(e["unit"] == a.unit);  // the PROXY header's client, not the balancer
      CHECK(e["rules_bundle"] == kGoodVersion);
      served_by.insert(it->second.front().first);
      if (e["decision"] == "block") ++blocked;
    }
    CHECK(served_by.size() == 3);
    CHECK(blocked > 0);

    // ---- the central store: each of them exactly once, once the backlogs have drained ----
    std::string missing;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60) * e2e_slowdown();
    for (;;) {
      std::map<std::string, int> central;
      std::istringstream rows(pg.psql("SELECT request_id || '|' || count(*) FROM pw_events GROUP BY request_id"));
      for (std::string row; std::getline(rows, row);) {
        const size_t bar = row.rfind('|');
        if (bar != std::string::npos) central[row.substr(0, bar)] = std::stoi(row.substr(bar + 1));
      }
      missing.clear();
      size_t duplicated = 0;
      for (const auto& a : answers) {
        const auto it = central.find(a.request_id);
        if (it == central.end()) missing += a.request_id + " ";
        else if (it->second != 1) ++duplicated;
      }
      REQUIRE(duplicated == 0);  // idempotent on (gateway_id, seq) and event_id: never twice
      if (missing.empty() || std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    INFO("not in pw_events after 60 s: " << missing);
    CHECK(missing.empty());
    CHECK(pg.psql("SELECT count(DISTINCT gateway_id) FROM pw_events WHERE gateway_id IN ('gw-1','gw-2','gw-3')") == "3");

    // ---- each gateway's chain, as the central store holds it, verifies against its own key ----
    for (int n = 1; n <= 3; ++n) {
      const fs::path dir = gateways[n - 1]->dir();
      must_run({"openssl", "pkey", "-in", (dir / "audit-signing.pem").string(), "-pubout", "-out",
                (dir / "audit-signing.pub").string()},
               "openssl pkey -pubout");
      const auto v = run_command({PROMPTWALL_BINARY, "audit", "verify", "--central", pg.url(), "--gateway",
                                  "gw-" + std::to_string(n), "--public-key", (dir / "audit-signing.pub").string()});
      INFO("gw-" << n << ": " << v.out << v.err);
      CHECK(v.exit_code == 0);
      CHECK(contains(v.out, "intact"));
    }
  }

  // ---- the officers' page on gw-1, over the central store: every gateway's violations, the usage chart ----
  {
    // The traffic counts reach the trail every second and the store soon after.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20) * e2e_slowdown();
    while (pg.psql("SELECT count(DISTINCT unit) FROM pw_traffic WHERE unit <> ''") != std::to_string(kClients.size()) &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    GatewayFixture& review = *gateways[0];
    json r = run_node("fleet_review_browser.js",
                      {"--base", review.admin_url(""), "--name", kOfficer, "--password", kOfficerPassword, "--gateways",
                       "gw-1,gw-2,gw-3"},
                      std::chrono::seconds(60));
    INFO(r.dump(2));
    REQUIRE_FALSE(r.contains("harness_error"));
    REQUIRE_FALSE(r.contains("error"));
    CHECK(r["signed_in_url"] == "/review");
    const auto options = r["gateway_options"].get<std::vector<std::string>>();
    for (int n = 1; n <= 3; ++n) {
      const std::string id = "gw-" + std::to_string(n);
      CHECK(std::find(options.begin(), options.end(), id) != options.end());
      // The page's blocked events of gw-N are gw-N's, as its own trail says.
      std::set<std::string> blocked_here;
      for (const auto& e : gateways[n - 1]->decisions())
        if (e["decision"] == "block") blocked_here.insert(e.value("event_id", ""));
      const auto listed = r["by_gateway"][id].get<std::vector<std::string>>();
      INFO(id);
      CHECK_FALSE(listed.empty());
      for (const auto& event_id : listed) CHECK(blocked_here.count(event_id) == 1);
    }
    CHECK(r["usage_chart"] == true);
    const auto units = r["usage_units"].get<std::vector<std::string>>();
    for (const auto& [address, unit] : kClients) CHECK(std::find(units.begin(), units.end(), unit) != units.end());
    CHECK(r["console_errors"].empty());
  }

  // ---- a bundle signed with a key nobody trusts: refused by all three, the old one still serves ----
  std::vector<double> refused_before;
  for (auto& gw : gateways) refused_before.push_back(gw->metric("promptwall_rules_bundle_refused_total"));
  bundles.make(bundles.stranger, kBadVersion, bundles.incoming / "rules-2.bundle");
  for (size_t i = 0; i < gateways.size(); ++i) {
    GatewayFixture& gw = *gateways[i];
    INFO("gw-" << i + 1 << ": " << gw.where_to_look());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20) * e2e_slowdown();
    while (gw.metric("promptwall_rules_bundle_refused_total") <= refused_before[i] &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(gw.metric("promptwall_rules_bundle_refused_total") > refused_before[i]);
    CHECK(gw.metric(std::string("promptwall_rules_bundle_info{version=\"") + kGoodVersion + "\"}") == 1);
    CHECK(gw.metric(std::string("promptwall_rules_bundle_info{version=\"") + kBadVersion + "\"}") == 0);
    // Still detecting with the old bundle: a secrecy field straight to this gateway is blocked.
    auto m = gw.mark();
    auto r = post(gw.url("/openai/v1/chat/completions"), chat_body(kSecretLine), {"Authorization: Bearer sk-e2e-test"});
    CHECK(r.status == 403);
    auto events = gw.decisions_since(m);
    REQUIRE(events.size() == 1);
    CHECK(events[0]["decision"] == "block");
    CHECK(events[0]["rules_bundle"] == kGoodVersion);
    check_nothing_forwarded(gw, m);
  }
}
