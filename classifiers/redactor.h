// Redactor: replaces findings in a text by their rule's redaction style (docs/rule-format.md,
// "Redaction"), leaving every other byte as it was.
//
// One Redactor serves one request: `[LABEL-n]` numbers stay consistent across all the segments it
// redacts (the same text gets the same n), and differ between requests. A `pseudonym` style takes
// its n from the LabelNumbering it was handed (the gateway's per-requester vault); without one it
// acts exactly as `label`.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "classifiers/finding.h"
#include "classifiers/label_numbering.h"
#include "rules/ruleset.h"

namespace promptwall {

class Redactor {
 public:
  // `pseudonyms`, when set, must outlive the Redactor.
  explicit Redactor(const RuleSet& rules, LabelNumbering* pseudonyms = nullptr)
      : rules_(rules), pseudonyms_(pseudonyms) {}

  // `findings` must be those of `text` (spans into it). Overlapping findings are replaced once,
  // as one span, in the style of the finding that starts first (the longest on a tie).
  std::string redact(std::string_view text, const std::vector<Finding>& findings);

  // The replacement for one finding's text under `style`.
  std::string replacement(const RedactStyle& style, std::string_view value);

 private:
  const RuleSet& rules_;
  LabelNumbering* pseudonyms_;
  std::map<std::string, std::map<std::string, int>, std::less<>> labels_;  // label -> value -> n
};

}  // namespace promptwall
