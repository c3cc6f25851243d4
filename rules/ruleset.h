// RuleSet: an immutable, compiled snapshot of rule packs: per view, one Hyperscan database of every
// rule's regex prefilter and one of the plain-text rules' literals, the RE2 confirmers (each compiled on its first hit),
// validators, context words and the pack versions, named by a content hash (the ruleset version).
//
// Shared by std::shared_ptr<const RuleSet>: a reload builds a new one off the hot path and swaps
// the pointer; whoever holds the old one keeps using it until done. Scanning needs per-thread
// Hyperscan scratch, which a Scanner (classifiers/scanner.h) allocates from this set's prototype.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "classifiers/normalizer.h"
#include "classifiers/validators.h"
#include "rules/lazy_regex.h"
#include "rules/rule.h"

struct hs_database;
struct hs_scratch;

namespace re2 {
class RE2;
}

namespace promptwall {

struct CompiledPattern {
  // See PatternDialect: group 1 = match, group 2 = the author's group. Compiled on the first hit
  // (LazyRegex), so a large term list loads without compiling thousands of confirmers.
  LazyRegex confirm;
  // The same confirmer with boundary classes of ASCII characters (TranslatedPattern::re2_latin):
  // what the scanner runs on a window of Latin text, where it matches exactly as `confirm` does.
  // No pattern() when the pattern has no {b}.
  LazyRegex confirm_latin;
  bool has_capture = false;
  // Bytes, from Hyperscan's analysis of the pattern, or counted for plain text (kept in the cache).
  uint32_t max_width = 0;
};

struct CompiledRule {
  Rule rule;
  std::vector<CompiledPattern> patterns;
  validators::Validator validator = nullptr;
  std::vector<std::unique_ptr<re2::RE2>> excludes;
  // Context words in folded form.
  std::vector<std::string> require, boost, penalize;
};

// Which rule and pattern a slot of a view's database stands for.
struct PatternRef {
  uint32_t rule;
  uint32_t pattern;
};

// A literal of the literal database: the slot of the pattern it stands for, and its length (a
// hit ends where the literal ends; the pattern's match may reach max_width either side of it).
struct LiteralRef {
  uint32_t slot;
  uint32_t length;
};

class RuleSet {
 public:
  // Every pattern a view scans has a slot (its index in `refs`). A plain-text pattern with
  // literals (PatternDialect, TranslatedPattern::literals) is in `literals`, every other one in
  // `db` with its slot as the Hyperscan expression id; either database may be absent.
  struct ViewDatabase {
    hs_database* db = nullptr;
    hs_database* literals = nullptr;
    std::vector<PatternRef> refs;          // by slot
    std::vector<LiteralRef> literal_refs;  // by the literal database's expression id
  };

  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;
  ~RuleSet();

  const std::vector<CompiledRule>& rules() const { return rules_; }
  const ViewDatabase* database(ViewKind kind) const {
    const auto& d = databases_[static_cast<size_t>(kind)];
    return d.db || d.literals ? &d : nullptr;
  }
  ViewMask views() const { return views_; }
  const Normalizer& normalizer() const { return *normalizer_; }
  const std::vector<RulePack>& packs() const { return packs_; }
  // SHA-256 (hex) of the packs' names, versions and contents: the ruleset version.
  const std::string& version() const { return version_; }
  // The signed rule bundle these packs came from (its author's version, rules/rule_bundle.h), or ""
  // when they were read from pack files. Travels with the set, so an event names the bundle whose
  // rules decided it, even across a swap.
  const std::string& bundle() const { return bundle_; }
  // A scratch prototype big enough for every database; Scanners clone it.
  hs_scratch* scratch_prototype() const { return scratch_; }
  // How the databases were obtained: compiled now or loaded from the cache.
  bool loaded_from_cache() const { return from_cache_; }
  size_t database_bytes() const;

 private:
  friend class RuleSetCompiler;
  RuleSet() = default;

  std::vector<RulePack> packs_;
  std::vector<CompiledRule> rules_;
  std::array<ViewDatabase, kViewKinds> databases_{};
  ViewMask views_ = 0;
  std::shared_ptr<const Normalizer> normalizer_;
  std::string version_;
  std::string bundle_;
  hs_scratch* scratch_ = nullptr;
  bool from_cache_ = false;
};

struct CompileOptions {
  // A constructor, not an aggregate, so CompileOptions{dir} still says all it needs to.
  CompileOptions(std::string cache_dir_ = {}, std::string bundle_ = {})
      : cache_dir(std::move(cache_dir_)), bundle(std::move(bundle_)) {}
  // Where compiled databases are cached; empty disables the cache.
  std::string cache_dir;
  // The signed bundle the packs came from (RuleSet::bundle()); "" for pack files.
  std::string bundle;
};

struct CompileResult {
  std::shared_ptr<const RuleSet> ruleset;  // null when there were errors
  std::vector<Diagnostic> diagnostics;
};

class RuleSetCompiler {
 public:
  explicit RuleSetCompiler(std::shared_ptr<const Normalizer> normalizer);

  // Checks and compiles `packs`. Errors (an unknown validator, a pattern either engine rejects,
  // a duplicate id) name the rule, pattern and source line; any error yields no RuleSet.
  CompileResult compile(std::vector<RulePack> packs, const CompileOptions& options = {}) const;

  // The default cache directory: $PROMPTWALL_CACHE_DIR, else $XDG_CACHE_HOME/promptwall, else
  // ~/.cache/promptwall; empty when none can be determined.
  static std::string default_cache_dir();

 private:
  std::shared_ptr<const Normalizer> normalizer_;
};

}  // namespace promptwall
