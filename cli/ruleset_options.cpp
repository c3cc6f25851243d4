#include "cli/ruleset_options.h"

#include <iostream>

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

RuleSetLoader RulesetOptions::loader(RuleSetLoader::Examples examples) const {
  std::vector<std::string> sources = packs;
  if (sources.empty()) sources.emplace_back(RuleSetLoader::kBuiltin);
  return RuleSetLoader(std::move(sources), cache_dir, {}, examples);
}

std::shared_ptr<const RuleSet> RulesetOptions::load(RuleSetLoader::Examples examples) const {
  RuleLoad load = loader(examples).load();
  for (const auto& d : load.diagnostics) std::cerr << to_string(d) << "\n";
  return load.ruleset;
}

}  // namespace promptwall::cli
