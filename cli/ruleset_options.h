// The options every subcommand that needs rules shares: `--rules PACK|DIR` (repeatable; the
// built-in packs when absent), `--cache-dir DIR` and `--no-cache`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rules/ruleset.h"

namespace promptwall::cli {

struct RulesetOptions {
  std::vector<std::string> packs;
  std::string cache_dir = RuleSetCompiler::default_cache_dir();

  // Consumes argv[i] (and its value) when it is one of these options; returns false otherwise.
  // Sets `error` for an option missing its value.
  bool parse(int argc, char** argv, int& i, std::string& error);

  // Loads and compiles; prints diagnostics to stderr; null on any error.
  std::shared_ptr<const RuleSet> load(std::shared_ptr<const Normalizer> normalizer) const;
};

}  // namespace promptwall::cli
