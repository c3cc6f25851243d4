#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/ruleset_options.h"
#include "rules/example_runner.h"
#include "rules/pack_loader.h"
#include "rules/rule_linter.h"

namespace promptwall::cli {
namespace {

int lint(const std::vector<std::string>& paths, std::shared_ptr<const Normalizer> normalizer) {
  std::vector<Diagnostic> diags;
  std::vector<RulePack> packs = PackLoader::load_all(paths, diags);
  std::vector<Diagnostic> more = RuleLinter(normalizer).lint(packs);
  diags.insert(diags.end(), more.begin(), more.end());
  size_t errors = 0, warnings = 0, rules = 0;
  for (const auto& p : packs) rules += p.rules.size();
  for (const auto& d : diags) {
    std::cerr << to_string(d) << "\n";
    (d.level == Diagnostic::Level::error ? errors : warnings)++;
  }
  std::cout << "lint: " << packs.size() << " pack(s), " << rules << " rule(s): " << errors << " error(s), "
            << warnings << " warning(s)\n";
  return errors ? 1 : 0;
}

int test(const RulesetOptions& options, std::shared_ptr<const Normalizer> normalizer) {
  auto rules = options.load(normalizer);
  if (!rules) {
    std::cerr << "rules test: the packs do not compile (run 'promptwall rules lint')\n";
    return 2;
  }
  ExampleReport report = ExampleRunner::run(rules);
  for (const auto& f : report.failures) std::cerr << to_string(f) << "\n";
  std::cout << "rules test: " << rules->rules().size() << " rule(s), " << report.examples_run << " example(s): "
            << report.examples_run - report.failures.size() << " passed, " << report.failures.size()
            << " failed\n";
  return report.failures.empty() ? 0 : 1;
}

// Compiles into the cache so the next start (a restart, a reload) loads instead of compiling.
int compile(const RulesetOptions& options, std::shared_ptr<const Normalizer> normalizer) {
  if (options.cache_dir.empty()) {
    std::cerr << "rules compile: needs a cache directory (--cache-dir DIR); --no-cache makes no sense here\n";
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  auto rules = options.load(normalizer);
  if (!rules) return 2;
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::cout << "ruleset " << rules->version() << ": " << rules->rules().size() << " rule(s), "
            << rules->database_bytes() / 1024 << " KB of Hyperscan databases, "
            << (rules->loaded_from_cache() ? "loaded from" : "compiled into") << " " << options.cache_dir << " in "
            << static_cast<long>(ms) << " ms\n";
  return 0;
}

int list(const RulesetOptions& options, std::shared_ptr<const Normalizer> normalizer) {
  auto rules = options.load(normalizer);
  if (!rules) return 2;
  std::cout << "ruleset " << rules->version() << "\n";
  for (const auto& p : rules->packs()) std::cout << "pack " << p.name << " " << p.version << " (" << p.file << ")\n";
  for (const auto& r : rules->rules())
    std::cout << "  " << r.rule.id << "  " << r.rule.category << "  " << to_string(r.rule.severity) << "  "
              << to_string(r.rule.action) << "\n";
  return 0;
}

}  // namespace

int rules_command(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: promptwall rules lint|test|compile|list [PACK|DIR ...]\n";
    return 2;
  }
  const std::string sub = argv[1];
  RulesetOptions options;
  for (int i = 2; i < argc; ++i) {
    std::string error;
    if (options.parse(argc, argv, i, error)) {
      if (!error.empty()) {
        std::cerr << "rules " << sub << ": " << error << "\n";
        return 2;
      }
      continue;
    }
    options.packs.push_back(argv[i]);
  }
  auto normalizer = std::make_shared<const Normalizer>();
  if (sub == "lint") return lint(options.packs, normalizer);
  if (sub == "test") return test(options, normalizer);
  if (sub == "list") return list(options, normalizer);
  if (sub == "compile") return compile(options, normalizer);
  std::cerr << "rules: unknown subcommand '" << sub << "' (lint, test, compile, list)\n";
  return 2;
}

}  // namespace promptwall::cli
