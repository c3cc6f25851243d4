// RuleSetLoader: the one way serve, scan and rules build a RuleSet from pack files.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../support/temp_dir.h"
#include "rules/example_record.h"
#include "rules/ruleset_loader.h"
#include "test_support.h"

using namespace promptwall;
using promptwall::test::TempDir;

namespace {

const std::string kCache = PROMPTWALL_TEST_CACHE_DIR;

// One rule whose second match example does not match: it compiles, but its examples fail.
std::string failing_pack(const std::string& name) {
  return "pack: " + name +
         "\nversion: '1'\nrules:\n"
         "  - id: " + name + ".word\n    description: d\n    category: custom_term\n    severity: low\n"
         "    action: warn\n    patterns: ['(?i){b}falcon{b}']\n    message: {vi: 'a', en: 'b'}\n"
         "    examples:\n      match: ['Falcon', 'Eagle']\n      ignore: ['falcons']\n";
}

std::string passing_pack(const std::string& name) {
  return "pack: " + name +
         "\nversion: '1'\nrules:\n"
         "  - id: custom.falcon\n    description: d\n    category: custom_term\n    severity: low\n"
         "    action: warn\n    patterns: ['(?i){b}falcon{b}']\n    message: {vi: 'a', en: 'b'}\n"
         "    examples:\n      match: ['Falcon', 'a falcon']\n      ignore: ['falcons']\n";
}

}  // namespace

TEST_CASE("builtin loads the embedded packs and runs their examples", "[ruleset_loader]") {
  const RuleLoad load = RuleSetLoader({std::string(RuleSetLoader::kBuiltin)}, kCache).load();
  INFO(load.error_text());
  REQUIRE(load.ok());
  CHECK(load.examples_run > 0);
  // The same set as compiling the embedded packs directly: one version whoever asks.
  CHECK(load.ruleset->version() == test::builtin_ruleset()->version());
  const RuleLoad skipped = RuleSetLoader({std::string(RuleSetLoader::kBuiltin)}, kCache, {},
                                         RuleSetLoader::Examples::skip).load();
  REQUIRE(skipped.ok());
  CHECK(skipped.examples_run == 0);
  CHECK(skipped.ruleset->version() == load.ruleset->version());
}

TEST_CASE("failing examples refuse the set unless the caller skips them", "[ruleset_loader]") {
  const TempDir dir;
  const std::string pack = dir.file("failing.yaml", failing_pack("failing"));
  const RuleLoad refused = RuleSetLoader({pack}, kCache).load();
  CHECK_FALSE(refused.ok());
  CHECK(refused.examples_run == 3);
  CHECK(refused.error_text().find("failing.yaml:12: error: rule failing.word: match example not found") !=
        std::string::npos);
  const RuleLoad skipped = RuleSetLoader({pack}, kCache, {}, RuleSetLoader::Examples::skip).load();
  CHECK(skipped.ok());
}

TEST_CASE("a scoped pack must be named like its file", "[ruleset_loader]") {
  const TempDir dir;
  const std::string good = dir.file("strict-legal.yaml", passing_pack("strict-legal"));
  const std::string misnamed = dir.file("interns.yaml", passing_pack("other"));
  const RuleLoad ok = RuleSetLoader({std::string(RuleSetLoader::kBuiltin)}, kCache, {good}).load();
  INFO(ok.error_text());
  REQUIRE(ok.ok());
  const auto& packs = ok.ruleset->packs();
  CHECK(std::any_of(packs.begin(), packs.end(), [](const RulePack& p) { return p.name == "strict-legal"; }));
  const RuleLoad bad = RuleSetLoader({std::string(RuleSetLoader::kBuiltin)}, kCache, {misnamed}).load();
  CHECK_FALSE(bad.ok());
  CHECK(bad.error_text().find("scoped pack 'other' must be named 'interns' like its file") != std::string::npos);
  // read() reports the same problem without compiling.
  const PackRead read = RuleSetLoader({}, kCache, {misnamed}).read();
  CHECK(has_errors(read.diagnostics));
}

TEST_CASE("no packs, or a pack that does not parse, is an error with file:line", "[ruleset_loader]") {
  const RuleLoad none = RuleSetLoader({}, kCache).load();
  CHECK_FALSE(none.ok());
  CHECK(none.error_text().find("no rule packs configured") != std::string::npos);
  const TempDir dir;
  const std::string broken = dir.file("broken.yaml", "pack: b\nversion: '1'\nrules:\n  - id: b.x\n    description: d\n");
  const RuleLoad load = RuleSetLoader({broken}, kCache).load();
  CHECK_FALSE(load.ok());
  CHECK(load.error_text().find("broken.yaml:4") != std::string::npos);
}

TEST_CASE("a set this build saw pass its examples is not run through them again", "[ruleset_loader]") {
  // The ExampleRecord beside the database cache (rules/example_record.h): ~30 s saved at every
  // start of a 10,000-term list. Examples compile every confirmer they hit; a remembered pass
  // leaves them all to their first real hit.
  REQUIRE_FALSE(ExampleRecord::build_id().empty());  // Debian's toolchain links one in
  const TempDir dir, cache;
  const std::string pack = dir.file("falcon.yaml", passing_pack("falcon"));
  auto compiled_confirmers = [](const RuleSet& set) {
    size_t n = 0;
    for (const auto& rule : set.rules())
      for (const auto& p : rule.patterns) n += p.confirm.compiled() || p.confirm_latin.compiled();
    return n;
  };
  const RuleLoad first = RuleSetLoader({pack}, cache.path().string()).load();
  REQUIRE(first.ok());
  CHECK_FALSE(first.examples_remembered);
  CHECK(first.examples_run == 3);
  CHECK(compiled_confirmers(*first.ruleset) == 1);

  const RuleLoad second = RuleSetLoader({pack}, cache.path().string()).load();
  REQUIRE(second.ok());
  CHECK(second.examples_remembered);
  CHECK(second.examples_run == 3);
  CHECK(compiled_confirmers(*second.ruleset) == 0);
  CHECK(second.ruleset->version() == first.ruleset->version());

  // Another set (one example more) is run again; no cache directory remembers nothing.
  const std::string other = dir.file("falcon.yaml", passing_pack("falcon") + "\n");
  const RuleLoad changed = RuleSetLoader({other}, cache.path().string()).load();
  REQUIRE(changed.ok());
  CHECK(changed.ruleset->version() != first.ruleset->version());
  CHECK_FALSE(changed.examples_remembered);
  const RuleLoad uncached = RuleSetLoader({pack}, "").load();
  REQUIRE(uncached.ok());
  CHECK_FALSE(uncached.examples_remembered);
}

TEST_CASE("a failing set is never remembered, and a record that does not parse is not there", "[ruleset_loader]") {
  const TempDir dir, cache;
  const std::string pack = dir.file("failing.yaml", failing_pack("failing"));
  for (int i = 0; i < 2; ++i) {
    const RuleLoad refused = RuleSetLoader({pack}, cache.path().string()).load();
    CHECK_FALSE(refused.ok());
    CHECK_FALSE(refused.examples_remembered);
  }
  for (const auto& entry : std::filesystem::directory_iterator(cache.path()))
    CHECK(entry.path().extension() != ".examples");

  // A record cut short or edited is ignored: the examples run, and the record is written anew.
  const std::string good = dir.file("falcon.yaml", passing_pack("falcon"));
  REQUIRE(RuleSetLoader({good}, cache.path().string()).load().ok());
  std::filesystem::path record;
  for (const auto& entry : std::filesystem::directory_iterator(cache.path()))
    if (entry.path().extension() == ".examples") record = entry.path();
  REQUIRE_FALSE(record.empty());
  for (const char* bad : {"", "promptwall examples passed v1: 3", "promptwall examples passed v1: x3\n",
                          "promptwall examples passed v2: 3\n"}) {
    INFO(bad);
    std::ofstream(record, std::ios::trunc) << bad;
    const RuleLoad again = RuleSetLoader({good}, cache.path().string()).load();
    REQUIRE(again.ok());
    CHECK_FALSE(again.examples_remembered);
  }
  CHECK(RuleSetLoader({good}, cache.path().string()).load().examples_remembered);
}
