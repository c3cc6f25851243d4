// The rule-pack model: what a rule author writes (docs/rule-format.md), as plain values. Loading
// (pack_loader.h) fills it from YAML; compiling (ruleset_compiler.h) turns it into a RuleSet.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "classifiers/text_views.h"
#include "vocabulary/place_tag.h"  // PlaceTag: shared with classifiers/ and the gateway
#include "vocabulary/verdict.h"    // Severity, Action: shared with classifiers/

namespace promptwall {

// The categories of ../shared/samples/README.md plus those organisation lists need.
bool is_known_category(std::string_view category);

// Where something came from, for messages that rule authors can act on.
struct SourceLocation {
  std::string file;
  int line = 0;  // 1-based; 0 when unknown
};
std::string to_string(const SourceLocation& where);

struct RedactStyle {
  // pseudonym: written like label, but the gateway numbers it per requester (the same value keeps
  // its n across requests) and restores the value in the reply; elsewhere it acts as label.
  enum class Kind : uint8_t { mask, partial, label, pseudonym };
  Kind kind = Kind::mask;
  int keep = 4;       // partial: letters and digits kept at the end
  std::string label;  // label and pseudonym: the NAME in [NAME-n] (UTF-8, may be non-ASCII)
};

struct ContextSpec {
  enum class Direction : uint8_t { both, before, after };
  int window = 40;         // code points before and/or after the finding
  bool same_line = false;  // the window stops at line breaks
  // Which side the words are looked for: a label precedes its value, so "firmware" before an
  // address says it is a version while "phiên bản" after it belongs to the next sentence.
  Direction direction = Direction::both;
  std::vector<std::string> require, boost, penalize;
};

struct Example {
  std::string text;
  std::optional<std::string> finding;  // the exact text a finding must cover, when pinned
  // `place:`: the whole text is scanned as if it sat there in a document (0: a chat prompt).
  PlaceTags places = 0;
  SourceLocation where;
};

// `places:` in a rule: added to a finding's confidence when the text at its first byte carries
// the tag (only text read from documents carries tags), before the 0.5 threshold.
struct PlaceWeight {
  PlaceTag tag = PlaceTag::header;
  double weight = 0;  // -1..1
};

struct PatternSource {
  std::string text;
  SourceLocation where;
};

struct Rule {
  std::string id;
  std::string description;
  std::string category;
  Severity severity = Severity::medium;
  Action action = Action::warn;
  double confidence = 0.8;
  ViewMask views = view_bit(ViewKind::raw);
  std::vector<PatternSource> patterns;
  std::string validate;  // empty: none
  std::optional<double> min_entropy;
  std::optional<ContextSpec> context;
  std::vector<PlaceWeight> places;  // in the order written, each tag at most once
  std::vector<std::string> exclude_patterns;
  std::vector<std::string> exclude_values;
  RedactStyle redact;
  std::string message_vi;
  std::string message_en;
  std::vector<Example> match_examples;
  std::vector<Example> ignore_examples;
  SourceLocation where;
  std::string pack;  // name of the pack that holds it
};

struct RulePack {
  std::string name;
  std::string version;
  std::string description;
  std::string file;     // path, or "builtin:<name>.yaml"
  std::string content;  // the YAML text exactly as read; the ruleset version hashes it
  std::vector<Rule> rules;
};

// A problem with a pack or rule, for `rules lint`, `rules test` and compile errors.
struct Diagnostic {
  enum class Level : uint8_t { error, warning };
  Level level = Level::error;
  SourceLocation where;
  std::string rule_id;  // empty for pack-level problems
  std::string message;
};
std::string to_string(const Diagnostic& d);
bool has_errors(const std::vector<Diagnostic>& diagnostics);

}  // namespace promptwall
