// Scanner: finds every rule's matches in one segment of text.
//
//   Normalizer (views) -> Hyperscan, one pass per view over one database holding every rule of
//   that view -> RE2 on a window sized from the pattern's maximum width, for the exact span and
//   the finding group -> validator, entropy, exclusions, context -> Findings, merged across views.
//
// Context words are read in a window around the candidate and, when the candidate lies in a table
// cell or a JSON, XML or YAML value, under its header or key (classifiers/structure_map.h) as if
// that stood right before it; a table cell or JSON/XML value is read without its neighbours. The
// structure is read only for candidates whose rule has context words, and only as far as they need
// (StructureLookup: JSON and XML once per segment, tables, key lines and lists around the line).
//
// A segment read from a document may come with a PlaceMap (classifiers/place_map.h): a rule's
// place weights are then added for the tags at the finding's first byte, after context and before
// the 0.5 threshold, the confidence clamped to [0, 1]. Without a map, or for a rule without
// weights, nothing is looked up: a chat prompt is judged exactly as before.
//
// A Scanner owns Hyperscan scratch space, so it belongs to one thread at a time; make one per
// thread (cheap: a scratch clone). It keeps its RuleSet alive, so a reload that swaps the shared
// set never pulls rules from under a scan in progress.
#pragma once

#include <array>

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "classifiers/finding.h"
#include "classifiers/place_map.h"
#include "classifiers/structure_map.h"
#include "classifiers/text_views.h"
#include "rules/ruleset.h"

namespace promptwall {

struct ScanResult {
  // Ordered by span, then rule id.
  std::vector<Finding> findings;
  // Set when the segment was not valid UTF-8 (offset of the first bad byte); the rest was still
  // scanned with the bad bytes replaced.
  std::optional<uint32_t> invalid_utf8_at;
};

class Scanner {
 public:
  explicit Scanner(std::shared_ptr<const RuleSet> rules);
  ~Scanner();
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  // What was found: one finding per item, as the gateway and `promptwall scan` report them.
  // `places`: where the runs of `text` sit in its document (null: not from a document); it is
  // read during the call only.
  ScanResult scan(std::string_view text, const PlaceMap* places = nullptr);
  // Which rules matched: findings merged only within each rule (across its views and patterns),
  // so every rule that matched shows. `rules test` asks this.
  ScanResult scan_rules(std::string_view text, const PlaceMap* places = nullptr);

  const RuleSet& ruleset() const { return *rules_; }
  const std::shared_ptr<const RuleSet>& ruleset_ptr() const { return rules_; }

 private:
  void confirm(const TextViews& views, ViewKind kind, std::string_view original, StructureLookup& structure,
               const PlaceMap* places, std::vector<Finding>& out);
  void evaluate(const TextViews& views, ViewKind kind, uint32_t rule_index, Span view_span,
                std::string_view original, StructureLookup& structure, const PlaceMap* places,
                std::vector<Finding>& out);
  // `field`: the cell or value the candidate lies in (null: none); `label`: its header or key and
  // the key that holds it, folded (empty without a field).
  std::optional<double> context_confidence(const CompiledRule& rule, std::string_view original, Span span,
                                           const StructureField* field, const StructureReader::Label& label);

  std::shared_ptr<const RuleSet> rules_;
  struct hs_scratch* scratch_ = nullptr;
  // Reused between scans: Hyperscan's hits as (expression id, end offset), then the RE2 windows
  // they open as (slot, begin, end).
  std::vector<std::pair<uint32_t, uint32_t>> hits_, literal_hits_;
  std::vector<std::array<uint32_t, 3>> windows_;
  // A candidate's context, folded: the fold's scratch (which holds the text after it) and the
  // text before it (after its label, when it has one). Most findings with a context rule fold
  // two windows; kept, they allocate nothing.
  View context_fold_;
  std::string context_before_;
  TextViews views_;  // the segment's views, rebuilt into the same buffers by every scan
};

}  // namespace promptwall
