// Issue 17, one rule source: signed rule bundles made with `promptwall rules bundle` and served by
// a real gateway from a watched directory and from a URL (static_site.js over HTTP). A new good
// bundle is swapped in (its version in /metrics, /rules and the next audit event, its new rule
// enforced); a bundle signed with another key is refused while the old one keeps serving and
// detecting; a restart without the source serves the last good bundle; with none at all AI
// traffic is refused (503 rules_unavailable, /readyz says why) until one arrives.
#include <thread>

#include "expectations.h"

using namespace promptwall::e2e;

namespace {

// A pack that blocks one word, with its examples (a bundle is refused without passing ones).
std::string word_pack(const std::string& name, const std::string& word) {
  return "pack: " + name +
         "\nversion: '1'\nrules:\n"
         "  - id: custom." + word + "\n    description: the code word " + word + "\n    category: custom_term\n"
         "    severity: high\n    action: block\n    patterns: ['(?i){b}" + word + "{b}']\n"
         "    message: {vi: 'Từ mã nội bộ', en: 'An internal code word'}\n"
         "    examples:\n      match: ['" + word + "', 'the " + word + " plan', '" + word + " now']\n"
         "      ignore: ['" + word + "s', 'a " + word + "ry', 'other']\n";
}

// The authors' side: a key pair and the packs of each version, bundled by the real CLI.
struct Authors {
  TempDir dir{"bundle-authors"};
  Authors() {
    must_run({PROMPTWALL_BINARY, "rules", "bundle-key", "--out", (dir / "keys").string()}, "rules bundle-key");
    must_run({PROMPTWALL_BINARY, "rules", "bundle-key", "--out", (dir / "stranger").string()}, "rules bundle-key");
    fs::create_directories(dir / "v1");
    fs::create_directories(dir / "v2");
    write_text(dir / "v1" / "falcon.yaml", word_pack("falcon", "falcon"));
    write_text(dir / "v2" / "falcon.yaml", word_pack("falcon", "falcon"));
    write_text(dir / "v2" / "heron.yaml", word_pack("heron", "heron"));
  }
  fs::path public_key() const { return dir / "keys" / "bundle-signing.pub"; }
  // Bundles `packs_dir` (with the built-in packs) as `version` into `out`, signed by `signer`.
  void bundle(const std::string& version, const std::string& packs_dir, const fs::path& out,
              const std::string& signer = "keys") const {
    must_run({PROMPTWALL_BINARY, "rules", "bundle", "--key", (dir / signer / "bundle-signing.pem").string(), "--version",
              version, "--out", out.string(), "builtin", (dir / packs_dir).string()},
             "rules bundle " + version);
  }
};

int chat_status(const GatewayFixture& gw, const std::string& text) {
  return post(gw.url("/openai/v1/chat/completions"), chat_body(text)).status;
}

// Polls until `done` (the gateway polls its source every second here).
template <class Done>
bool eventually(Done done, std::chrono::seconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit * e2e_slowdown();
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

std::string bundle_info(const std::string& version) { return "promptwall_rules_bundle_info{version=\"" + version + "\"}"; }

}  // namespace

TEST_CASE("a watched directory: new bundles swapped in, a forged one refused, the last good one after a restart",
          "[e2e][bundles]") {
  Authors authors;
  TempDir place{"bundle-gateway"};
  const fs::path incoming = place / "incoming", state = place / "bundle-state";
  fs::create_directories(incoming);
  authors.bundle("2026.12.07-1", "v1", incoming / "rules-1.bundle");

  GatewayOptions options;
  options.packs = "";
  options.rules_extra = ", bundle: {dir: " + incoming.string() + ", public_key: " + authors.public_key().string() +
                        ", poll_interval: 1s, state_dir: " + state.string() + "}";
  GatewayFixture gw(options);
  INFO(gw.where_to_look());

  // Version 1 serves: its word is blocked, the built-in packs came with it, the version is reported.
  CHECK(gw.metric(bundle_info("2026.12.07-1")) == 1);
  CHECK(gw.admin("GET", "/rules").json_body().value("bundle", "") == "2026.12.07-1");
  auto m = gw.mark();
  CHECK(chat_status(gw, "the falcon plan is ready") == 403);
  CHECK(chat_status(gw, "the heron plan is ready") == 200);
  CHECK(chat_status(gw, kSecretLine) == 403);  // a built-in rule
  auto events = gw.decisions_since(m, 3);
  REQUIRE(events.size() >= 3);
  for (const auto& e : events) CHECK(e.value("rules_bundle", "") == "2026.12.07-1");

  // Version 2 arrives (written beside, renamed in: the CLI does so): swapped in, heron now blocked.
  authors.bundle("2026.12.07-2", "v2", incoming / "rules-2.bundle");
  REQUIRE(eventually([&] { return gw.metric(bundle_info("2026.12.07-2")) == 1; }));
  CHECK(gw.metric(bundle_info("2026.12.07-1")) == 0);
  m = gw.mark();
  CHECK(chat_status(gw, "the heron plan is ready") == 403);
  events = gw.decisions_since(m);
  REQUIRE(events.size() == 1);
  CHECK(events[0].value("rules_bundle", "") == "2026.12.07-2");
  CHECK(events[0]["findings"][0].value("rule", "") == "custom.heron");
  CHECK(gw.log_eventually_contains("rule bundle 2026.12.07-2"));

  // Version 3 signed by a stranger: refused, counted once, version 2 keeps serving and detecting.
  authors.bundle("2026.12.07-3", "v1", incoming / "rules-3.bundle", "stranger");
  REQUIRE(eventually([&] { return gw.metric("promptwall_rules_bundle_refused_total") >= 1; }));
  CHECK(gw.log_eventually_contains("signature does not verify"));
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // two more polls
  CHECK(gw.metric("promptwall_rules_bundle_refused_total") == 1);
  CHECK(gw.metric(bundle_info("2026.12.07-2")) == 1);
  CHECK(chat_status(gw, "the heron plan is ready") == 403);
  CHECK(chat_status(gw, "a plain question") == 200);
  // POST /reload asks the source now: nothing newer, the served bundle stays.
  auto reload = gw.admin("POST", "/reload");
  CHECK(reload.status == 200);

  // Killed, the directory emptied: the restart serves the last good bundle, kept in state_dir.
  gw.kill_hard();
  for (const auto& entry : fs::directory_iterator(incoming)) fs::remove(entry.path());
  gw.start();
  gw.wait_ready();
  CHECK(gw.metric(bundle_info("2026.12.07-2")) == 1);
  CHECK(chat_status(gw, "the heron plan is ready") == 403);
  CHECK(gw.log_eventually_contains("starting on the last good bundle 2026.12.07-2"));

  // No source bundle and no last good one: it starts, refuses AI traffic and says why; a bundle
  // dropped in makes it ready, without a restart.
  gw.kill_hard();
  fs::remove(state / "current.bundle");
  gw.start();
  HttpResponse ready;
  REQUIRE(eventually([&] {
    HttpRequest req;
    req.url = gw.admin_url("/readyz");
    ready = http(req);
    return ready.status == 503 && contains(ready.body, "no rule bundle");
  }));
  CHECK(contains(ready.body, "AI traffic is refused"));
  m = gw.mark();
  auto refused = post(gw.url("/openai/v1/chat/completions"), chat_body("a plain question"));
  CHECK(refused.status == 503);
  CHECK(contains(refused.body, "rules_unavailable"));
  check_nothing_forwarded(gw, m);
  authors.bundle("2026.12.07-4", "v2", incoming / "rules-4.bundle");
  gw.wait_ready();
  CHECK(gw.metric(bundle_info("2026.12.07-4")) == 1);
  CHECK(chat_status(gw, "a plain question") == 200);
  CHECK(chat_status(gw, "the falcon plan is ready") == 403);
}

TEST_CASE("a URL: the bundle pulled over HTTP, a newer one swapped in, a forged one refused", "[e2e][bundles]") {
  Authors authors;
  TempDir place{"bundle-site"};
  fs::create_directories(place / "site");
  authors.bundle("2026.12.07-1", "v1", place / "site" / "promptwall.bundle");
  const uint16_t port = free_port();
  ChildProcess site({"node", e2e_script("static_site.js"), "--host", "127.0.0.1", "--root", (place / "site").string(),
                     "--record", (place / "site.records.jsonl").string(), "--http-port", std::to_string(port), "--etag"},
                    place / "site.out", place / "site.err");
  REQUIRE(eventually([&] { return contains(read_text(place / "site.out"), "ready"); }));

  GatewayOptions options;
  options.packs = "";
  options.rules_extra = ", bundle: {url: 'http://127.0.0.1:" + std::to_string(port) + "/promptwall.bundle', public_key: " +
                        authors.public_key().string() + ", poll_interval: 1s, state_dir: " + (place / "state").string() + "}";
  GatewayFixture gw(options);
  INFO(gw.where_to_look());
  CHECK(gw.metric(bundle_info("2026.12.07-1")) == 1);
  CHECK(chat_status(gw, "the heron plan is ready") == 200);

  // Unchanged, the bundle costs a 304: the gateway sends the ETag it was given.
  auto answered_304 = [&] {
    for (const auto& line : complete_lines(read_text(place / "site.records.jsonl")))
      if (json::parse(line).value("status", 0) == 304) return true;
    return false;
  };
  REQUIRE(eventually(answered_304));

  // Published by renaming over the old file, as a web server's document root is updated.
  authors.bundle("2026.12.07-2", "v2", place / "site" / "next.bundle");
  fs::rename(place / "site" / "next.bundle", place / "site" / "promptwall.bundle");
  REQUIRE(eventually([&] { return gw.metric(bundle_info("2026.12.07-2")) == 1; }));
  auto m = gw.mark();
  CHECK(chat_status(gw, "the heron plan is ready") == 403);
  auto events = gw.decisions_since(m);
  REQUIRE(events.size() == 1);
  CHECK(events[0].value("rules_bundle", "") == "2026.12.07-2");

  authors.bundle("2026.12.07-3", "v1", place / "site" / "next.bundle", "stranger");
  fs::rename(place / "site" / "next.bundle", place / "site" / "promptwall.bundle");
  REQUIRE(eventually([&] { return gw.metric("promptwall_rules_bundle_refused_total") >= 1; }));
  CHECK(gw.metric(bundle_info("2026.12.07-2")) == 1);
  CHECK(chat_status(gw, "the heron plan is ready") == 403);
  // An explicit reload says why the source's bundle is not served (reported once, then quiet).
  CHECK(gw.log_eventually_contains("signature does not verify"));

  // The site goes away: the gateway keeps serving and says the source is unreachable.
  site.stop();
  CHECK(gw.log_eventually_contains("rule bundle source unreachable"));
  CHECK(chat_status(gw, "the heron plan is ready") == 403);
  CHECK(get(gw.admin_url("/readyz")).status == 200);
}

TEST_CASE("HTTPS: a gateway starts on its last good bundle while the source is down, then pulls a newer one",
          "[e2e][bundles]") {
  Authors authors;
  TempDir place{"bundle-tls-site"};
  fs::create_directories(place / "site");
  fs::create_directories(place / "state");
  // The last good bundle from an earlier run; the source is not up yet.
  authors.bundle("2026.12.07-1", "v1", place / "state" / "current.bundle");
  const uint16_t port = free_port();
  GatewayOptions options;
  options.packs = "";
  options.rules_extra = ", bundle: {url: 'https://localhost:" + std::to_string(port) + "/promptwall.bundle', public_key: " +
                        authors.public_key().string() + ", poll_interval: 1s, state_dir: " + (place / "state").string() + "}";
  GatewayFixture gw(options);
  INFO(gw.where_to_look());
  CHECK(gw.metric(bundle_info("2026.12.07-1")) == 1);
  CHECK(gw.log_eventually_contains("starting on the last good bundle 2026.12.07-1"));
  CHECK(gw.log_eventually_contains("cannot connect"));
  CHECK(chat_status(gw, "the falcon plan is ready") == 403);

  // The site comes up over TLS with a certificate of the test CA (tls.upstream_ca): pulled, verified, served.
  authors.bundle("2026.12.07-2", "v2", place / "site" / "promptwall.bundle");
  ChildProcess site({"node", e2e_script("static_site.js"), "--host", "127.0.0.1", "--root", (place / "site").string(),
                     "--record", (place / "site.records.jsonl").string(), "--https-port", std::to_string(port),
                     "--tls-cert", gw.certs().server_crt.string(), "--tls-key", gw.certs().server_key.string()},
                    place / "site.out", place / "site.err");
  REQUIRE(eventually([&] { return gw.metric(bundle_info("2026.12.07-2")) == 1; }));
  CHECK(gw.log_eventually_contains("rule bundle source reachable again"));
  auto m = gw.mark();
  CHECK(chat_status(gw, "the heron plan is ready") == 403);
  auto events = gw.decisions_since(m);
  REQUIRE(events.size() == 1);
  CHECK(events[0].value("rules_bundle", "") == "2026.12.07-2");
  for (const auto& line : complete_lines(read_text(place / "site.records.jsonl"))) CHECK(json::parse(line).value("tls", false));

  // The site replays the older signed bundle and the gateway restarts: it stays on 2 (its last good
  // bundle sets the floor) and refuses the replay.
  authors.bundle("2026.12.07-1", "v1", place / "site" / "old.bundle");
  fs::rename(place / "site" / "old.bundle", place / "site" / "promptwall.bundle");
  gw.kill_hard();
  gw.start();
  gw.wait_ready();
  CHECK(gw.metric(bundle_info("2026.12.07-2")) == 1);
  REQUIRE(eventually([&] { return gw.metric("promptwall_rules_bundle_refused_total") >= 1; }));
  CHECK(gw.log_eventually_contains("version 2026.12.07-1 is not newer than 2026.12.07-2"));
  CHECK(chat_status(gw, "the heron plan is ready") == 403);
}

TEST_CASE("a bundle's scoped pack counts only for the unit whose policy names it", "[e2e][bundles]") {
  Authors authors;
  TempDir place{"bundle-scoped"};
  fs::create_directories(place / "incoming");
  write_text(authors.dir / "strict-legal.yaml", word_pack("strict-legal", "heron"));
  must_run({PROMPTWALL_BINARY, "rules", "bundle", "--key", (authors.dir / "keys" / "bundle-signing.pem").string(),
            "--version", "1", "--out", (place / "incoming" / "r.bundle").string(), (authors.dir / "v1").string(),
            "--scoped", (authors.dir / "strict-legal.yaml").string()},
           "rules bundle --scoped");
  GatewayOptions options;
  options.packs = "";
  options.rules_extra = ", bundle: {dir: " + (place / "incoming").string() + ", public_key: " +
                        authors.public_key().string() + ", poll_interval: 1s, state_dir: " + (place / "state").string() + "}";
  options.extra_config =
      "identity:\n  units: {'127.0.0.2/32': van-phong, '127.0.0.3/32': phap-che}\n"
      "policy:\n  units: {phap-che: {packs: [strict-legal]}}\n";
  GatewayFixture gw(options);
  INFO(gw.where_to_look());
  auto from = [&](const std::string& address, const std::string& text) {
    HttpRequest req;
    req.method = "POST";
    req.url = gw.url("/openai/v1/chat/completions");
    req.body = chat_body(text);
    req.interface = address;
    req.headers = {"Content-Type: application/json"};
    return http(req).status;
  };
  CHECK(from("127.0.0.3", "the heron plan is ready") == 403);  // phap-che names the pack
  CHECK(from("127.0.0.2", "the heron plan is ready") == 200);  // van-phong does not
  CHECK(from("127.0.0.2", "the falcon plan is ready") == 403); // an ordinary pack counts for everyone

  // A bundle without the scoped pack the policy names is refused; the served one stays.
  must_run({PROMPTWALL_BINARY, "rules", "bundle", "--key", (authors.dir / "keys" / "bundle-signing.pem").string(),
            "--version", "2", "--out", (place / "incoming" / "r2.bundle").string(), (authors.dir / "v1").string()},
           "rules bundle");
  REQUIRE(eventually([&] { return gw.metric("promptwall_rules_bundle_refused_total") >= 1; }));
  CHECK(gw.log_eventually_contains("the policy scopes name pack 'strict-legal'"));
  CHECK(gw.metric(bundle_info("1")) == 1);
  CHECK(from("127.0.0.3", "the heron plan is ready") == 403);
}
