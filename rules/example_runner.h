// ExampleRunner: `promptwall rules test`. Runs every rule's examples through the full scanner
// (normaliser, every view, Hyperscan, RE2, validators, context) of the whole compiled set, exactly
// as the gateway would, and reports each example that does not behave as its rule says.
#pragma once

#include <memory>
#include <vector>

#include "rules/rule.h"
#include "rules/ruleset.h"

namespace promptwall {

struct ExampleReport {
  size_t examples_run = 0;
  std::vector<Diagnostic> failures;  // one per failing example, at the example's line
};

class ExampleRunner {
 public:
  static ExampleReport run(std::shared_ptr<const RuleSet> rules);
};

}  // namespace promptwall
