// Finding: one confirmed match of one rule, located in the original bytes of a segment.
#pragma once

#include <cstdint>
#include <string>

#include "classifiers/offset_map.h"
#include "classifiers/text_views.h"
#include "vocabulary/verdict.h"

namespace promptwall {

// A candidate whose confidence (base, context words, place weights) ends below this is no finding.
inline constexpr double kMinFindingConfidence = 0.5;

struct Finding {
  uint32_t rule_index = 0;  // into RuleSet::rules() of the set that found it
  std::string rule_id;
  std::string category;
  Severity severity = Severity::low;
  Action action = Action::log;
  double confidence = 0;
  Span span;                      // byte offsets into the original segment, before any normalisation
  ViewKind view = ViewKind::raw;  // the view that found it first
};

}  // namespace promptwall
