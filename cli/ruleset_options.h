// The options every subcommand that needs rules shares: `--rules PACK|DIR` (repeatable; the
// built-in packs when absent), `--cache-dir DIR` and `--no-cache`. Only the parsing lives here:
// the RuleSet is built by rules/ruleset_loader.h, the same code `promptwall serve` uses, so
// `scan --rules X` and a gateway configured with X serve the same set.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rules/ruleset_loader.h"

namespace promptwall::cli {

struct RulesetOptions {
  std::vector<std::string> packs;  // empty: the built-in packs
  std::string cache_dir = RuleSetCompiler::default_cache_dir();

  // Consumes argv[i] (and its value) when it is one of these options; returns false otherwise.
  // Sets `error` for an option missing its value.
  bool parse(int argc, char** argv, int& i, std::string& error);

  RuleSetLoader loader(RuleSetLoader::Examples examples = RuleSetLoader::Examples::run) const;

  // Loads through loader(); prints every diagnostic (errors and warnings) to stderr; null when
  // the set is refused.
  std::shared_ptr<const RuleSet> load(RuleSetLoader::Examples examples = RuleSetLoader::Examples::run) const;
};

}  // namespace promptwall::cli
