// promptwall audit verify, the real binary on trails made by the real AuditWriter.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../unit/audit_trail_support.h"
#include "process.h"

using namespace promptwall::test;
namespace fs = std::filesystem;

TEST_CASE("audit verify: exit status and the named problem for each way of tampering", "[cli][audit]") {
  TempDir tmp;
  const fs::path original = tmp.path() / "original";
  make_trail(original, tmp.path() / "audit.key", 100, 4096);
  int n = 0;
  for (const auto& tamper : tampers()) {
    const fs::path copy = tmp.path() / ("copy" + std::to_string(n++));
    copy_trail(original, copy);
    tamper.apply(copy);
    const auto json = run_promptwall("audit verify " + shell_quote(copy.string()) + " --json");
    INFO(tamper.name << "\n" << json.out << json.err);
    REQUIRE(json.status == (tamper.kind.empty() ? 0 : 1));
    const auto report = nlohmann::json::parse(json.out);
    CHECK(report.at("intact") == tamper.kind.empty());
    if (!tamper.kind.empty()) CHECK(report.at("problem").at("kind") == tamper.kind);
    CHECK(report.at("warning").is_null() == !tamper.warning);

    const auto text = run_promptwall("audit verify --dir " + shell_quote(copy.string()));
    CHECK(text.status == json.status);
    if (tamper.kind.empty()) {
      CHECK_THAT(text.out, Catch::Contains("intact") && Catch::Contains("stronger"));
      if (tamper.warning) CHECK_THAT(text.out, Catch::Contains("WARNING: torn last record"));
    } else {
      CHECK_THAT(text.out, Catch::Contains("NOT INTACT (" + tamper.kind + ")") &&
                               Catch::Contains(report.at("problem").at("message").get<std::string>()));
    }
  }
}

TEST_CASE("audit verify: --public-key, and errors", "[cli][audit]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "trail";
  make_trail(dir, tmp.path() / "audit.key", 10);

  const auto own = promptwall::audit::SigningKey::load(tmp.path() / "audit.key");
  spit(tmp.path() / "auditor.pub", own.public_pem());
  auto r = run_promptwall("audit verify " + shell_quote(dir.string()) + " --public-key " + shell_quote((tmp.path() / "auditor.pub").string()));
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("records 11") && !Catch::Contains("stronger"));

  const auto other = promptwall::audit::SigningKey::load_or_create(tmp.path() / "other.key");
  spit(tmp.path() / "other.pub", other.public_pem());
  r = run_promptwall("audit verify " + shell_quote(dir.string()) + " --json --public-key " + shell_quote((tmp.path() / "other.pub").string()));
  CHECK(r.status == 1);
  CHECK(nlohmann::json::parse(r.out).at("problem").at("kind") == "unknown_key");

  r = run_promptwall("audit verify " + shell_quote((tmp.path() / "nowhere").string()));
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("not a directory"));
  r = run_promptwall("audit verify " + shell_quote(dir.string()) + " --public-key " + shell_quote((tmp.path() / "missing.pub").string()));
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("missing.pub"));
  r = run_promptwall("audit verify " + shell_quote(dir.string()) + " --bogus");
  CHECK(r.status == 2);
}
