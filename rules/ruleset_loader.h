// RuleSetLoader: the one way a RuleSet is built from pack files, for `promptwall serve` (at startup
// and on every reload), `promptwall scan` and `promptwall rules`: read the packs (built-in, files,
// directories, scoped packs), compile them through the database cache, then run every rule's
// examples through the full scanner. A set whose examples fail is refused like one that does not
// compile, so a broken pack never replaces a working set, and `scan --rules X` refuses exactly
// the packs `serve` would refuse.
//
// Invariants: the same sources give the same RuleSet (same version) whichever command asks; a
// RuleLoad holds a set only when there are no errors. Examples are the one thing a caller may
// skip: `rules test` and `rules lint` report failing examples themselves rather than be refused.
// With a cache directory, a set this build has seen pass its examples is not run through them
// again (ExampleRecord: 10,000 terms would cost ~30 s at every start).
//
// Pure and synchronous, no global state; a loader is immutable once built, so load() may run on
// any thread (the server runs it off the hot path: it takes seconds on a cache miss). Errors are
// values (Diagnostics with file:line), never exceptions.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rules/rule.h"
#include "rules/ruleset.h"

namespace promptwall {

struct RuleLoad {
  std::shared_ptr<const RuleSet> ruleset;  // null when refused
  std::vector<Diagnostic> diagnostics;     // errors (and warnings) with file:line
  size_t examples_run = 0;
  // The examples were not run again: this build passed them for this very set before, and the
  // cache directory remembers it (rules/example_record.h).
  bool examples_remembered = false;
  bool ok() const { return ruleset != nullptr; }
  // The errors, one per line, for a log line or an admin reply.
  std::string error_text() const;
};

// The packs read, before compiling: what `rules lint` checks.
struct PackRead {
  std::vector<RulePack> packs;
  std::vector<Diagnostic> diagnostics;
};

// A pack handed over as text (from a verified rule bundle, rules/rule_bundle.h) rather than a file.
struct PackText {
  std::string file;     // names the source in messages, e.g. "bundle 2026.12.07-1: packs/x.yaml"
  std::string content;  // the YAML
  bool scoped = false;  // a scoped pack: its name must be its file's stem, as for scoped_packs
};

class RuleSetLoader {
 public:
  // Whether a set whose examples fail is refused. `run` for anything that scans with the set.
  enum class Examples : uint8_t { run, skip };

  // The word that stands for the embedded packs in `packs` (configuration and `--rules` alike).
  static constexpr std::string_view kBuiltin = "builtin";

  // `packs`: kBuiltin for the embedded packs, otherwise pack files or directories of *.yaml; an
  // empty list is an error ("no rule packs configured"), so callers say kBuiltin for the default.
  // `cache_dir`: the compiled-database cache; empty disables it.
  // `scoped_packs`: pack files compiled in as well, each of which must declare the name its file
  // has without .yaml (policy scopes name them so; gateway/identity/policy_scopes.h).
  RuleSetLoader(std::vector<std::string> packs, std::string cache_dir, std::vector<std::string> scoped_packs = {},
                Examples examples = Examples::run);

  // The packs of a verified rule bundle, in memory: nothing is read from disk but the cache.
  // `bundle` (its version) is recorded in the RuleSet (RuleSet::bundle()). A named function, not a
  // constructor: `RuleSetLoader({}, dir, {file})` must keep meaning pack files.
  static RuleSetLoader from_texts(std::vector<PackText> texts, std::string bundle, std::string cache_dir,
                                  Examples examples = Examples::run);

  // Reads and checks the packs without compiling; errors (unreadable file, schema, a scoped pack
  // misnamed) are in the diagnostics.
  PackRead read() const;

  RuleLoad load() const;

  const std::string& cache_dir() const { return cache_dir_; }

 private:
  std::vector<std::string> packs_;
  std::string cache_dir_;
  std::vector<std::string> scoped_packs_;
  std::vector<PackText> texts_;
  std::string bundle_;
  Examples examples_;
  std::shared_ptr<const Normalizer> normalizer_;
};

}  // namespace promptwall
