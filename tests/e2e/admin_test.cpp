// The operator's side: health, metrics, rules and reload on the admin listener, the audit
// trail, reloads while traffic flows, a broken pack on reload, and `serve --check`.
#include <mutex>

#include "expectations.h"

using namespace promptwall::e2e;

TEST_CASE("admin endpoints", "[e2e][admin]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  SECTION("health and readiness") {
    CHECK(get(gw.admin_url("/healthz")).status == 200);
    CHECK(get(gw.admin_url("/readyz")).status == 200);
  }
  SECTION("metrics need the token and count decisions by service") {
    post(gw.url("/openai/v1/chat/completions"), chat_body(kSecretLine));
    CHECK(gw.admin("GET", "/metrics", false).status == 401);
    HttpRequest wrong;
    wrong.url = gw.admin_url("/metrics");
    wrong.headers = {"Authorization: Bearer not-the-token"};
    CHECK(http(wrong).status == 401);
    auto r = gw.admin("GET", "/metrics");
    CHECK(r.status == 200);
    INFO(r.body);
    CHECK(contains(r.body, R"(promptwall_requests_total{service="openai",decision="block"})"));
    CHECK(gw.metric(R"(promptwall_requests_total{service="openai",decision="block"})") >= 1);
  }
  SECTION("rules and reload report the ruleset version") {
    auto rules = gw.admin("GET", "/rules");
    CHECK(rules.status == 200);
    const auto version = rules.json_body().value("version", "");
    CHECK_FALSE(version.empty());
    auto reload = gw.admin("POST", "/reload");
    CHECK(reload.status == 200);
    INFO(reload.body);
    CHECK(reload.json_body().value("version", "") == version);  // same packs, same version
  }
}

TEST_CASE("the audit trail records each decision with masked evidence, never the sensitive text", "[e2e][admin][audit]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  auto m = gw.mark();
  CHECK(post(gw.url("/openai/v1/chat/completions"), chat_body(kCccdText)).status == 200);
  auto lines = gw.decisions_since(m);
  REQUIRE(lines.size() == 1);
  const auto& d = lines[0];
  INFO(d.dump());
  CHECK(d.value("decision", "") == "redact");
  CHECK(d.value("service", "") == "openai");
  CHECK(d.value("forwarded", false));
  CHECK(d.value("bytes_forwarded", 0) > 0);
  CHECK(d.value("v", 0) == 1);
  CHECK(d.value("seq", 0) > 0);
  CHECK(d.value("prev", "").size() == 64);
  REQUIRE(d["findings"].is_array());
  auto cccd = std::find_if(d["findings"].begin(), d["findings"].end(), [](const json& f) { return f.value("rule", "") == "vn.pii.cccd"; });
  REQUIRE(cccd != d["findings"].end());
  REQUIRE((*cccd)["evidence"].size() >= 1);
  const auto& evidence = (*cccd)["evidence"][0];
  CHECK(evidence.value("hmac", "").size() == 64);
  CHECK(contains(evidence.value("excerpt", ""), "\u00ab"));  // «the masked match»
  CHECK(evidence.value("where", "") == "messages[0].content");

  auto b = gw.mark();
  CHECK(post(gw.url("/openai/v1/chat/completions"), chat_body(kSecretLine)).status == 403);
  auto blocked = gw.decisions_since(b);
  REQUIRE(blocked.size() == 1);
  CHECK(blocked[0].value("decision", "") == "block");
  CHECK(blocked[0].value("reason", "") == "sensitive_content");
  CHECK_FALSE(blocked[0].value("forwarded", true));

  const auto text = gw.audit_text();
  CHECK_FALSE(contains(text, kCccd));
  CHECK_FALSE(contains(text, "TUYỆT MẬT"));
  CHECK_FALSE(contains(gw.log(), kCccd));
}

TEST_CASE("reloads under load: every request gets a proper, correct answer", "[e2e][admin]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  struct Outcome {
    int kind;
    int status;
    std::string decision;
    int curl_exit;
  };
  std::vector<Outcome> outcomes;
  std::mutex mu;
  // Three kinds in turn: clean (allow), CCCD (redact), secret (block).
  const std::vector<std::pair<std::string, std::pair<int, std::string>>> kinds = {
      {chat_body(kClean), {200, "allow"}}, {chat_body(kCccdText), {200, "redact"}}, {chat_body(kSecretLine), {403, "block"}}};
  std::thread client([&] {
    for (int i = 0; i < 45; ++i) {
      auto r = post(gw.url("/openai/v1/chat/completions"), kinds[i % 3].first);
      std::lock_guard lock(mu);
      outcomes.push_back({i % 3, r.status, r.header("X-Promptwall-Decision"), r.curl_exit});
    }
  });
  std::vector<int> reload_status;
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    reload_status.push_back(gw.admin("POST", "/reload").status);
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    gw.process().signal(SIGHUP);
  }
  client.join();
  for (int s : reload_status) CHECK(s == 200);
  CHECK(gw.process().running());
  REQUIRE(outcomes.size() == 45);
  int wrong = 0;
  for (const auto& o : outcomes) {
    const auto& [status, decision] = kinds[static_cast<size_t>(o.kind)].second;
    if (o.curl_exit != 0 || o.status != status || o.decision != decision) {
      ++wrong;
      UNSCOPED_INFO("kind " << o.kind << ": status " << o.status << ", decision '" << o.decision << "', curl exit " << o.curl_exit);
    }
  }
  CHECK(wrong == 0);
  CHECK(get(gw.admin_url("/readyz")).status == 200);
}

TEST_CASE("a reload with a broken pack is refused and the old rules keep serving", "[e2e][admin]") {
  TempDir packs;
  for (const auto& entry : fs::directory_iterator(fs::path(PROMPTWALL_SOURCE_DIR) / "rules" / "packs"))
    if (entry.path().extension() == ".yaml") fs::copy_file(entry.path(), packs.path() / entry.path().filename());
  GatewayOptions options;
  options.packs = "[" + packs.path().string() + "]";
  GatewayFixture gw(options);
  INFO(gw.where_to_look());

  const auto version = gw.admin("GET", "/rules").json_body().value("version", "");
  REQUIRE_FALSE(version.empty());
  write_text(packs.path() / "vn-identifiers.yaml", "pack: vn-identifiers\nrules:\n  - id: [broken\n");

  auto reload = gw.admin("POST", "/reload");
  INFO(reload.body);
  CHECK(reload.status >= 400);
  CHECK(reload.status < 500);
  CHECK(contains(reload.body, "vn-identifiers.yaml"));
  gw.process().signal(SIGHUP);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(gw.process().running());
  CHECK(gw.admin("GET", "/rules").json_body().value("version", "") == version);

  // The old ruleset still redacts.
  auto m = gw.mark();
  auto r = post(gw.url("/openai/v1/chat/completions"), chat_body(kCccdText));
  CHECK(r.status == 200);
  check_decision(r, "redact");
  check_forwarded_body(single_forward(gw, m), replace_all(chat_body(kCccdText), kCccd, "[CCCD-1]"));
}

TEST_CASE("serve --check validates a config and names file:line on errors", "[e2e][admin]") {
  auto& gw = shared_gateway();
  auto good = serve_check(gw.config());
  INFO(good.out << good.err);
  CHECK(good.exit_code == 0);

  auto lines = complete_lines(read_text(gw.config()));
  size_t line_no = 0;
  std::string bad_text;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto line = lines[i];
    if (contains(line, "name: gemini")) {
      line = replace_all(line, "schema: gemini", "schema: klingon");
      line_no = i + 1;
    }
    bad_text += line + "\n";
  }
  REQUIRE(line_no > 0);
  const auto bad = gw.dir() / "bad.yaml";
  write_text(bad, bad_text);
  auto r = serve_check(bad);
  INFO(r.out << r.err);
  CHECK(r.exit_code != 0);
  CHECK(contains(r.err, "bad.yaml:" + std::to_string(line_no)));
}

TEST_CASE("serve --check refuses an audit signing key it cannot load", "[e2e][admin][audit]") {
  auto& gw = shared_gateway();
  const fs::path broken_key = gw.dir() / "broken-signing.pem";
  write_text(broken_key, "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
  const std::string text = replace_all(read_text(gw.config()), (gw.dir() / "audit-signing.pem").string(), broken_key.string());
  REQUIRE(text != read_text(gw.config()));
  const fs::path config = gw.dir() / "broken-key.yaml";
  write_text(config, text);
  auto r = serve_check(config);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "audit:"));
  CHECK(contains(r.err, broken_key.string()));
}
