// ExampleRecord: remembers, beside the compiled-database cache, that a rule set passed every one of
// its examples under this very build, so that the next load of the same packs need not run them
// again. Running them compiles every confirmer: ~30 s of CPU for a list of 10,000 terms at every
// start and reload of `serve`, ~0.4 s for the built-in packs at every `promptwall scan`.
//
// What a record stands for: the set's version (the SHA-256 of every pack's name, version and
// content: its rules, patterns and examples), its bundle, the Hyperscan engine's fingerprint and
// the GNU build ID of the executable and of every library loaded with it (any change to the code
// that runs the examples, ours or ICU's, RE2's, Hyperscan's, changes one). All of that is the
// record's name, so a record can only ever vouch for the exact set and build that earned it. An
// executable without a build ID remembers nothing: examples always run.
//
// Invariants: a record is written only after every example passed, atomically (temporary file
// renamed into place); an unreadable, malformed or missing record is simply not there. Trust is
// the database cache's: whoever can write that directory could plant a compiled database too.
//
// Pure file I/O, no global state; safe to use from any thread (distinct sets, distinct files;
// the same set written twice writes the same bytes).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "rules/ruleset.h"

namespace promptwall {

class ExampleRecord {
 public:
  // `cache_dir` empty: nothing is remembered. Reads the build IDs of what is loaded now.
  explicit ExampleRecord(std::string cache_dir);

  // How many examples `set` passed under this build, if a record says it did.
  std::optional<size_t> passed(const RuleSet& set) const;
  // Records that `set` passed all its `examples_run` examples. Best effort: a record that cannot
  // be written only costs the next load the examples.
  void remember(const RuleSet& set, size_t examples_run) const;

  // The executable's GNU build ID in hex, or "" when it has none.
  static std::string build_id();

 private:
  std::string path_for(const RuleSet& set) const;  // "" when nothing can be remembered
  std::string dir_;
  std::string build_key_;  // SHA-256 of the engine fingerprint and the build IDs; "" remembers nothing
};

}  // namespace promptwall
