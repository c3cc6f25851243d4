#include "cli/ruleset_options.h"

#include <iostream>

#include "rules/pack_loader.h"

namespace promptwall::cli {

bool RulesetOptions::parse(int argc, char** argv, int& i, std::string& error) {
  std::string arg = argv[i];
  auto value = [&]() -> const char* {
    if (i + 1 >= argc) {
      error = "option " + arg + " needs a value";
      return nullptr;
    }
    return argv[++i];
  };
  if (arg == "--rules") {
    if (const char* v = value()) packs.push_back(v);
    return true;
  }
  if (arg == "--cache-dir") {
    if (const char* v = value()) cache_dir = v;
    return true;
  }
  if (arg == "--no-cache") {
    cache_dir.clear();
    return true;
  }
  return false;
}

std::shared_ptr<const RuleSet> RulesetOptions::load(std::shared_ptr<const Normalizer> normalizer) const {
  std::vector<Diagnostic> diags;
  std::vector<RulePack> loaded = PackLoader::load_all(packs, diags);
  if (has_errors(diags)) {
    for (const auto& d : diags) std::cerr << to_string(d) << "\n";
    return nullptr;
  }
  CompileResult compiled = RuleSetCompiler(std::move(normalizer)).compile(std::move(loaded), CompileOptions{cache_dir});
  for (const auto& d : compiled.diagnostics) std::cerr << to_string(d) << "\n";
  return compiled.ruleset;
}

}  // namespace promptwall::cli
