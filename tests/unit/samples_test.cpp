// The built-in packs against labelled prompts (format and scoring: ../shared/samples/README.md):
// every expected item found (same category, overlapping span) and no other finding in a scored
// category (sample_scoring.h). Runs the shared dev samples and this project's own sets, the
// *.jsonl files directly in tests/data/ (not its subfolders, so a set that waits for a detector
// change can be kept in one, e.g. tests/data/pending/, without failing the suite).
//
// Also the measurement: recall and precision per category and per form on one labelled set,
// scored the same way. It is a table, not a gate: `unit_tests "[.measure]"` prints it
// (bench/README.md keeps the before/after figures of issue 19). The set is
// $PROMPTWALL_MEASURE_SAMPLES, else tests/data/structured-samples.jsonl. A sample's form is its id without the trailing number: st-json-03 → st-json.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "classifiers/scanner.h"
#include "sample_scoring.h"
#include "test_support.h"

using namespace promptwall;
using namespace promptwall::test;

namespace {

void check_samples(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  Scanner scanner(builtin_ruleset());
  std::string line;
  size_t samples = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++samples;
    const SampleScore score = score_sample(scanner, nlohmann::json::parse(line));
    for (const auto& item : score.expected) {
      INFO(score.id << ": expected " << item.category << " \"" << item.match << "\" in: " << score.text);
      CHECK(item.found);
    }
    // A scored finding that covered no expected item of its category is a false positive.
    for (const auto& stray : score.false_positives) {
      FAIL_CHECK(score.id << ": false positive " << stray.rule_id << " \"" << stray.text << "\" in: " << score.text);
    }
  }
  CHECK(samples > 0);
}

// Counts for one row of the table: expected items and how many were found (recall), findings that
// covered an expected item and findings that covered none (precision).
struct Tally {
  size_t expected = 0;
  size_t found = 0;
  size_t true_findings = 0;
  size_t false_findings = 0;
};

std::string ratio(size_t num, size_t den) {
  if (den == 0) return "–";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(num) / static_cast<double>(den));
  return buf;
}

std::string table(const std::string& first_column, const std::map<std::string, Tally>& rows) {
  std::string out = "| " + first_column + " | expected | found | recall | findings | false pos. | precision |\n" +
                    "|---|---:|---:|---:|---:|---:|---:|\n";
  Tally all;
  auto line = [&](const std::string& name, const Tally& t) {
    out += "| " + name + " | " + std::to_string(t.expected) + " | " + std::to_string(t.found) + " | " +
           ratio(t.found, t.expected) + " | " + std::to_string(t.true_findings + t.false_findings) + " | " +
           std::to_string(t.false_findings) + " | " + ratio(t.true_findings, t.true_findings + t.false_findings) +
           " |\n";
  };
  for (const auto& [name, t] : rows) {
    line(name, t);
    all.expected += t.expected;
    all.found += t.found;
    all.true_findings += t.true_findings;
    all.false_findings += t.false_findings;
  }
  line("**all**", all);
  return out;
}

std::string form_of(const std::string& id) {
  const size_t dash = id.rfind('-');
  return dash == std::string::npos ? id : id.substr(0, dash);
}

std::string samples_path() {
  if (const char* env = std::getenv("PROMPTWALL_MEASURE_SAMPLES")) return env;
  const std::string data = std::string(PROMPTWALL_SOURCE_DIR) + "/tests/data/";
  return data + "structured-samples.jsonl";
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

TEST_CASE("a sample's score counts found items, misses and stray findings") {
  Scanner scanner(builtin_ruleset());
  const auto sample = nlohmann::json::parse(R"({"id": "t-1",
    "text": "Số CCCD: 001203012345, thư gửi tuyen.pv@ninhbinh.gov.vn, hộ chiếu chưa có.",
    "expect": [{"category": "national_id", "match": "001203012345"},
               {"category": "passport", "match": "hộ chiếu"}]})");
  const SampleScore score = score_sample(scanner, sample);
  REQUIRE(score.expected.size() == 2);
  CHECK(score.expected[0].found);
  CHECK_FALSE(score.expected[1].found);  // no passport number in the text: a miss, not a pass
  REQUIRE(score.false_positives.size() == 1);
  CHECK(score.false_positives[0].category == "email");  // found but not expected
  CHECK(score.true_positive_categories == std::vector<std::string>{"national_id"});
}

TEST_CASE("recall and precision per category on the structured samples", "[.measure]") {
  const std::string path = samples_path();
  std::ifstream in(path);
  REQUIRE(in);
  Scanner scanner(builtin_ruleset());
  std::map<std::string, Tally> by_category, by_form;
  std::string misses, strays;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const SampleScore score = score_sample(scanner, nlohmann::json::parse(line));
    Tally& form = by_form[form_of(score.id)];
    for (const auto& item : score.expected) {
      Tally& t = by_category[item.category];
      ++t.expected;
      ++form.expected;
      t.found += item.found;
      form.found += item.found;
      if (!item.found) misses += "  " + score.id + " " + item.category + " " + item.match + "\n";
    }
    for (const auto& category : score.true_positive_categories) {
      ++by_category[category].true_findings;
      ++form.true_findings;
    }
    for (const auto& stray : score.false_positives) {
      ++by_category[stray.category].false_findings;
      ++form.false_findings;
      strays += "  " + score.id + " " + stray.rule_id + " " + stray.text + "\n";
    }
  }
  std::printf("samples: %s\n\n%s\n%s\nmissed:\n%s\nfalse positives:\n%s", path.c_str(),
              table("category", by_category).c_str(), table("form", by_form).c_str(), misses.c_str(),
              strays.c_str());
  CHECK_FALSE(by_category.empty());
}
