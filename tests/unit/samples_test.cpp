// The built-in packs against labelled prompts (format and scoring: ../shared/samples/README.md):
// every expected item found (same category, overlapping span) and no other finding in a scored
// category. Runs the shared dev samples and this project's own wider set, tests/data/.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include "classifiers/scanner.h"
#include "test_support.h"

using namespace promptwall;
using namespace promptwall::test;

namespace {

const std::set<std::string> kScored = {"classification_marking", "restricted_marking", "doc_number", "national_id",
                                       "passport", "tax_code", "social_insurance", "phone", "email",
                                       "bank_account", "credit_card", "secret", "ip_address"};

void check_samples(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  Scanner scanner(builtin_ruleset());
  std::string line;
  size_t samples = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++samples;
    auto sample = nlohmann::json::parse(line);
    const std::string text = sample["text"];
    const std::string id = sample["id"];
    auto findings = scanner.scan(text).findings;
    std::vector<bool> used(findings.size(), false);
    for (const auto& e : sample["expect"]) {
      const std::string category = e["category"];
      const std::string match = e["match"];
      size_t b = text.find(match), end = b + match.size();
      bool found = false;
      for (size_t i = 0; i < findings.size(); ++i) {
        if (findings[i].category == category && findings[i].span.begin < end && b < findings[i].span.end) {
          found = true;
          used[i] = true;
        }
      }
      INFO(id << ": expected " << category << " \"" << match << "\" in: " << text);
      CHECK(found);
    }
    // A scored finding that covered no expected item of its category is a false positive.
    for (size_t i = 0; i < findings.size(); ++i) {
      if (used[i] || !kScored.count(findings[i].category)) continue;
      FAIL_CHECK(id << ": false positive " << findings[i].rule_id << " \""
                    << text.substr(findings[i].span.begin, findings[i].span.end - findings[i].span.begin)
                    << "\" in: " << text);
    }
  }
  CHECK(samples > 0);
}

}  // namespace

TEST_CASE("built-in packs on the shared dev samples") {
  check_samples(std::string(PROMPTWALL_SHARED_DIR) + "/samples/vn-dev-samples.jsonl");
}

TEST_CASE("built-in packs on the project's own labelled samples") {
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(PROMPTWALL_SOURCE_DIR) + "/tests/data")) {
    if (entry.path().extension() != ".jsonl") continue;
    INFO(entry.path().filename().string());
    check_samples(entry.path().string());
    ++files;
  }
  CHECK(files >= 1);
}
