// PseudonymVault (gateway/pseudonyms/pseudonym_vault.h): the same value keeps its label per
// requester within the TTL, new values get new numbers, scopes never share, TTL and size cap
// evict, and a request records exactly the labels it issued.
#include <catch2/catch.hpp>

#include <thread>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "audit/event.h"
#include "classifiers/redactor.h"
#include "classifiers/scanner.h"
#include "gateway/config/config.h"
#include "gateway/pseudonyms/pseudonym_vault.h"
#include "rules/pack_loader.h"
#include "rules/rule_linter.h"
#include "test_support.h"

using namespace promptwall;
using namespace promptwall::gateway;
using promptwall::test::compile_yaml;
using namespace std::chrono_literals;

namespace {
const PseudonymVault::Clock::time_point t0{};
}

TEST_CASE("the vault gives a value the same number per scope and label, and new values the next", "[pseudonyms]") {
  PseudonymVault vault(PseudonymLimits{1h, 1000, 4});
  const std::string a = PseudonymVault::scope_of("an", "10.0.0.1", "openai");
  CHECK(vault.number(a, "CCCD", "066087004913", t0) == 1);
  CHECK(vault.number(a, "CCCD", "001099012345", t0 + 1s) == 2);
  CHECK(vault.number(a, "CCCD", "066087004913", t0 + 2s) == 1);
  CHECK(vault.number(a, "SĐT", "0912345678", t0 + 2s) == 1);  // each NAME numbers on its own
  // Another user, the same user at another service, and an address-only requester: their own numbers.
  const std::string b = PseudonymVault::scope_of("binh", "10.0.0.1", "openai");
  CHECK(vault.number(b, "CCCD", "001099012345", t0 + 3s) == 1);
  CHECK(vault.number(PseudonymVault::scope_of("an", "10.0.0.1", "anthropic"), "CCCD", "001099012345", t0) == 1);
  CHECK(vault.number(PseudonymVault::scope_of("", "10.0.0.1", "openai"), "CCCD", "066087004913", t0) == 1);
  CHECK(PseudonymVault::scope_of("", "an", "openai") != PseudonymVault::scope_of("an", "", "openai"));
  CHECK(vault.size() == 6);
}

TEST_CASE("an entry expires a TTL after its last use, and the value then gets a new number", "[pseudonyms]") {
  PseudonymVault vault(PseudonymLimits{60s, 1000, 1});
  const std::string s = PseudonymVault::scope_of("an", "", "openai");
  CHECK(vault.number(s, "CCCD", "066087004913", t0) == 1);
  CHECK(vault.number(s, "CCCD", "066087004913", t0 + 50s) == 1);   // used: lives to t0+110s
  CHECK(vault.number(s, "CCCD", "001099012345", t0 + 100s) == 2);
  CHECK(vault.number(s, "CCCD", "066087004913", t0 + 109s) == 1);  // still within its renewed TTL
  // Both unused for longer than the TTL: gone; numbering starts over with the scope's counter.
  CHECK(vault.number(s, "EMAIL", "a@b.vn", t0 + 300s) == 1);
  CHECK(vault.size() == 1);
  CHECK(vault.number(s, "CCCD", "001099012345", t0 + 301s) == 1);
}

TEST_CASE("past the size cap the least recently used entries go first", "[pseudonyms]") {
  PseudonymVault vault(PseudonymLimits{1h, 3, 1});
  const std::string s = PseudonymVault::scope_of("an", "", "openai");
  CHECK(vault.number(s, "CCCD", "v1", t0) == 1);
  CHECK(vault.number(s, "CCCD", "v2", t0 + 1s) == 2);
  CHECK(vault.number(s, "CCCD", "v3", t0 + 2s) == 3);
  CHECK(vault.number(s, "CCCD", "v1", t0 + 3s) == 1);  // v1 used again: v2 is now the oldest
  CHECK(vault.number(s, "CCCD", "v4", t0 + 4s) == 4);  // evicts v2
  CHECK(vault.size() == 3);
  CHECK(vault.number(s, "CCCD", "v1", t0 + 5s) == 1);
  CHECK(vault.number(s, "CCCD", "v3", t0 + 5s) == 3);
  CHECK(vault.number(s, "CCCD", "v2", t0 + 6s) == 5);  // evicted: a new number, never one in use
}

TEST_CASE("a request records the labels it issued, each once, with their values", "[pseudonyms]") {
  PseudonymVault vault(PseudonymLimits{});
  const std::string s = PseudonymVault::scope_of("an", "", "openai");
  vault.number(s, "CCCD", "older", t0);  // issued to an earlier request
  RequestPseudonyms request(vault, s, t0 + 1s);
  CHECK(request.number("CCCD", "066087004913") == 2);
  CHECK(request.number("SĐT", "0912 345 678") == 1);
  CHECK(request.number("CCCD", "066087004913") == 2);
  REQUIRE(request.issued().size() == 2);
  CHECK(request.issued()[0].label == "[CCCD-2]");
  CHECK(request.issued()[0].value == "066087004913");
  CHECK(request.issued()[1].label == "[SĐT-1]");
  CHECK(request.issued()[1].value == "0912 345 678");
}

TEST_CASE("the vault numbers consistently from many threads at once", "[pseudonyms]") {
  PseudonymVault vault(PseudonymLimits{1h, 100000, 8});
  const std::string s = PseudonymVault::scope_of("an", "", "openai");
  std::vector<std::thread> threads;
  std::vector<std::vector<int>> got(4);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string value = std::to_string(1000 + i);
        got[t].push_back(vault.number(s, "CCCD", value, t0));
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 1; t < 4; ++t) CHECK(got[t] == got[0]);
  std::vector<int> sorted = got[0];
  std::sort(sorted.begin(), sorted.end());
  CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());  // no two values share an n
}

TEST_CASE("the redactor numbers pseudonyms from the vault, and acts as label without one", "[pseudonyms]") {
  auto compiled = compile_yaml(
      "pack: t\nversion: '1'\nrules:\n"
      "  - id: t.phone\n    description: d\n    category: phone\n    severity: low\n    action: redact\n"
      "    patterns: ['{b}0\\d{9}{b}']\n    redact: {style: pseudonym, label: SĐT}\n"
      "    message: {vi: 'a', en: 'b'}\n    examples: {match: ['x'], ignore: ['y']}\n"
      "  - id: t.id\n    description: d\n    category: national_id\n    severity: low\n    action: redact\n"
      "    patterns: ['{b}\\d{12}{b}']\n    redact: {style: label, label: CCCD}\n"
      "    message: {vi: 'a', en: 'b'}\n    examples: {match: ['x'], ignore: ['y']}\n");
  REQUIRE(compiled.ruleset);
  REQUIRE(compiled.ruleset->rules()[0].rule.redact.kind == RedactStyle::Kind::pseudonym);
  Scanner scanner(compiled.ruleset);
  const std::string text = "Gọi 0912345678 hoặc 0987654321, CCCD 066087004913, lại 0912345678.";
  const auto findings = scanner.scan(text).findings;

  // Without a numbering: exactly the label style.
  CHECK(Redactor(*compiled.ruleset).redact(text, findings) ==
        "Gọi [SĐT-1] hoặc [SĐT-2], CCCD [CCCD-1], lại [SĐT-1].");

  // With the vault: this requester has [SĐT-1] already for another number; labels continue.
  PseudonymVault vault(PseudonymLimits{});
  const std::string scope = PseudonymVault::scope_of("an", "", "openai");
  vault.number(scope, "SĐT", "0900000000", t0);
  RequestPseudonyms numbering(vault, scope, t0 + 1s);
  Redactor redactor(*compiled.ruleset, &numbering);
  CHECK(redactor.redact(text, findings) == "Gọi [SĐT-2] hoặc [SĐT-3], CCCD [CCCD-1], lại [SĐT-2].");
  REQUIRE(numbering.issued().size() == 2);  // the label-style CCCD is not a pseudonym
  CHECK(numbering.issued()[0].label == "[SĐT-2]");
  CHECK(numbering.issued()[1].value == "0987654321");
  // The next request of the same requester resends the number: the same label.
  RequestPseudonyms next(vault, scope, t0 + 2s);
  const std::string again = "nhắc lại 0987654321";
  CHECK(Redactor(*compiled.ruleset, &next).redact(again, scanner.scan(again).findings) == "nhắc lại [SĐT-3]");
}

TEST_CASE("the pack loader reads the pseudonym style and refuses labels that could not be found back", "[pseudonyms]") {
  const auto rule = [](const std::string& redact) {
    return "pack: t\nversion: '1'\nrules:\n"
           "  - id: t.x\n    description: d\n    category: phone\n    severity: low\n    action: redact\n"
           "    patterns: ['x']\n    redact: " + redact + "\n"
           "    message: {vi: 'a', en: 'b'}\n    examples: {match: ['x'], ignore: ['y']}\n";
  };
  LoadedPack missing = PackLoader::load_text("t.yaml", rule("{style: pseudonym}"));
  REQUIRE(missing.diagnostics.size() == 1);
  CHECK(missing.diagnostics[0].message.find("needs a 'label'") != std::string::npos);
  LoadedPack spaced = PackLoader::load_text("t.yaml", rule("{style: pseudonym, label: 'A B'}"));
  REQUIRE(spaced.diagnostics.size() == 1);
  CHECK(spaced.diagnostics[0].message.find("may not hold") != std::string::npos);
  LoadedPack name = PackLoader::load_text("t.yaml", rule("{style: pseudonym, label: TÊN}"));
  CHECK(name.diagnostics.empty());
  REQUIRE(name.pack);
  CHECK(name.pack->rules[0].redact.label == "TÊN");
}

TEST_CASE("the linter refuses one label name used both as pseudonym and as plain label", "[pseudonyms]") {
  const auto rule = [](const std::string& id, const std::string& redact) {
    return "  - id: " + id + "\n    description: d\n    category: phone\n    severity: low\n    action: redact\n"
           "    patterns: ['{b}0\\d{9}{b}']\n    redact: " + redact + "\n"
           "    message: {vi: 'a', en: 'b'}\n    examples: {match: ['0912345678'], ignore: ['y']}\n";
  };
  const auto lint = [](const std::string& yaml) {
    LoadedPack loaded = PackLoader::load_text("t.yaml", yaml);
    REQUIRE(loaded.pack);
    std::vector<Diagnostic> errors;
    for (auto& d : RuleLinter(promptwall::test::shared_normalizer()).lint({*loaded.pack}))
      if (d.level == Diagnostic::Level::error) errors.push_back(std::move(d));
    return errors;
  };
  const std::string head = "pack: t\nversion: '1'\nrules:\n";
  const auto mixed = lint(head + rule("t.a", "{style: pseudonym, label: SĐT}") + rule("t.b", "{style: label, label: SĐT}"));
  REQUIRE(mixed.size() == 1);
  CHECK(mixed[0].rule_id == "t.a");
  CHECK(mixed[0].message.find("plain label in rule 't.b'") != std::string::npos);
  CHECK(lint(head + rule("t.a", "{style: pseudonym, label: SĐT}") + rule("t.b", "{style: pseudonym, label: SĐT}")).empty());
}

TEST_CASE("the decision event counts pseudonyms and holds nothing else of them", "[pseudonyms]") {
  promptwall::audit::DecisionEvent e;
  e.request_id = "r1";
  CHECK(to_json_object(e).find("pseudonyms") == std::string::npos);  // 0: not written
  e.pseudonyms = 3;
  const std::string line = to_json_object(e);
  const auto j = nlohmann::json::parse(line);
  CHECK(j["pseudonyms"] == 3);
  CHECK(promptwall::audit::decision_from_json(j).pseudonyms == 3);
}

TEST_CASE("the pseudonyms section: on by default, a switch, a TTL and a cap within bounds", "[pseudonyms]") {
  const std::string listen = "listen: {gateway: 127.0.0.1:8080}\n";
  const GatewayConfig defaults = parse_gateway_config(listen, "t.yaml", "/base");
  CHECK(defaults.pseudonyms.enabled);
  CHECK(defaults.pseudonyms.ttl == std::chrono::hours(1));
  CHECK(defaults.pseudonyms.max_entries == 100000);
  const GatewayConfig off =
      parse_gateway_config(listen + "pseudonyms: {enabled: false, ttl: 10m, max_entries: 500}\n", "t.yaml", "/base");
  CHECK_FALSE(off.pseudonyms.enabled);
  CHECK(off.pseudonyms.ttl == std::chrono::minutes(10));
  CHECK(off.pseudonyms.max_entries == 500);
  const auto error_of = [&](const std::string& section) {
    try {
      parse_gateway_config(listen + section, "t.yaml", "/base");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK(error_of("pseudonyms: {ttl: 5s}\n").find("pseudonyms.ttl") != std::string::npos);
  CHECK(error_of("pseudonyms: {max_entries: 10}\n").find("pseudonyms.max_entries") != std::string::npos);
  CHECK(error_of("pseudonyms: {vault: disk}\n").find("pseudonyms.vault") != std::string::npos);
  // The embedded default carries the section with the same values.
  const GatewayConfig embedded = parse_gateway_config(default_gateway_config_yaml(), "<embedded default>", "/run/pw");
  CHECK(embedded.pseudonyms.enabled);
  CHECK(embedded.pseudonyms.ttl == std::chrono::hours(1));
}
