// RuleLinter: everything `promptwall rules lint` checks beyond the schema: the patterns compile in
// both engines with bounded width, ids are unique, validators exist, patterns for folded views can
// match at all, patterns are not so short they fire everywhere, and every rule carries both kinds
// of example. Errors make the lint fail; warnings are advice, among them a pattern that holds no
// literal of three bytes or more (Hyperscan cannot prefilter it, so it slows the whole database).
#pragma once

#include <memory>
#include <vector>

#include "classifiers/normalizer.h"
#include "rules/rule.h"

namespace promptwall {

class RuleLinter {
 public:
  explicit RuleLinter(std::shared_ptr<const Normalizer> normalizer) : normalizer_(std::move(normalizer)) {}

  std::vector<Diagnostic> lint(const std::vector<RulePack>& packs) const;

 private:
  std::shared_ptr<const Normalizer> normalizer_;
};

}  // namespace promptwall
