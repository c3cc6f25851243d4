// SampleScore: how the built-in packs did on one labelled prompt (format: ../shared/samples/README.md).
//
// Purpose: the one definition of "found" and "false positive" that both the samples test (which
// fails on any miss or stray finding) and the [.measure] recall/precision table count with, so
// the figures in bench/README.md mean exactly what the test suite enforces.
// Invariants: an expected item is found when a finding of the same category overlaps the first
// occurrence of its `match` in the text; a finding in a scored category that covers no expected
// item of its category is a false positive; findings in unscored categories (credential,
// custom_term) count as neither.
// Threads: pure functions over a caller's Scanner (which belongs to one thread).
// Errors: a malformed sample line throws nlohmann::json's exception (the test then fails on it).
#pragma once

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "classifiers/scanner.h"

namespace promptwall::test {

inline const std::set<std::string>& scored_categories() {
  static const std::set<std::string> kScored = {
      "classification_marking", "restricted_marking", "doc_number", "national_id", "passport",
      "tax_code",               "social_insurance",   "phone",      "email",       "bank_account",
      "credit_card",            "secret",             "ip_address"};
  return kScored;
}

struct ExpectedItem {
  std::string category;
  std::string match;
  bool found = false;
};

struct StrayFinding {
  std::string rule_id;
  std::string category;
  std::string text;
};

struct SampleScore {
  std::string id;
  std::string text;
  std::vector<ExpectedItem> expected;
  // Per scored category: findings that covered at least one expected item of their category.
  std::vector<std::string> true_positive_categories;
  std::vector<StrayFinding> false_positives;
};

inline SampleScore score_sample(Scanner& scanner, const nlohmann::json& sample) {
  SampleScore score;
  score.id = sample["id"].get<std::string>();
  score.text = sample["text"].get<std::string>();
  const std::vector<Finding> findings = scanner.scan(score.text).findings;
  std::vector<bool> used(findings.size(), false);
  for (const auto& e : sample["expect"]) {
    ExpectedItem item{e["category"].get<std::string>(), e["match"].get<std::string>(), false};
    const size_t b = score.text.find(item.match), end = b + item.match.size();
    for (size_t i = 0; i < findings.size(); ++i) {
      if (findings[i].category == item.category && findings[i].span.begin < end && b < findings[i].span.end) {
        item.found = true;
        used[i] = true;
      }
    }
    score.expected.push_back(std::move(item));
  }
  for (size_t i = 0; i < findings.size(); ++i) {
    if (!scored_categories().count(findings[i].category)) continue;
    if (used[i]) {
      score.true_positive_categories.push_back(findings[i].category);
    } else {
      score.false_positives.push_back(
          {findings[i].rule_id, findings[i].category,
           score.text.substr(findings[i].span.begin, findings[i].span.end - findings[i].span.begin)});
    }
  }
  return score;
}

}  // namespace promptwall::test
