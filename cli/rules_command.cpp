#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/ruleset_options.h"
#include "rules/example_runner.h"
#include "rules/rule_linter.h"

namespace promptwall::cli {
namespace {

constexpr std::string_view kRulesUsage =
    "usage: promptwall rules lint|test|compile|list [PACK|DIR ...] [--cache-dir DIR | --no-cache]\n"
    "       promptwall rules bundle|bundle-key|verify-bundle ... (signed rule bundles; rules bundle --help)\n"
    "  rules lint     check rule packs: schema, dialect, widths, examples (the built-in packs when none given)\n"
    "  rules test     run every rule's examples through the full scanner; exit 1 when any fails\n"
    "  rules compile  compile into the database cache, so the next start or reload loads instead\n"
    "  rules list     list the packs, the rules and the ruleset version\n"
    "  PACK|DIR is a rule pack file or a directory of *.yaml packs; `builtin` names the embedded packs.\n";

// Reads the packs as every other command does (RuleSetLoader::read), then lints instead of compiling.
int lint(const RulesetOptions& options, std::shared_ptr<const Normalizer> normalizer) {
  PackRead read = options.loader().read();
  std::vector<Diagnostic>& diags = read.diagnostics;
  const std::vector<RulePack>& packs = read.packs;
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

// Examples are skipped at load so that failing ones are reported here, one by one, with a count.
int test(const RulesetOptions& options) {
  auto rules = options.load(RuleSetLoader::Examples::skip);
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
// Examples run as `serve` runs them: a set that compiles but that serve would refuse fails here.
int compile(const RulesetOptions& options) {
  if (options.cache_dir.empty()) {
    std::cerr << "rules compile: needs a cache directory (--cache-dir DIR); --no-cache makes no sense here\n";
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  auto rules = options.load();
  if (!rules) return 2;
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::cout << "ruleset " << rules->version() << ": " << rules->rules().size() << " rule(s), "
            << rules->database_bytes() / 1024 << " KB of Hyperscan databases, "
            << (rules->loaded_from_cache() ? "loaded from" : "compiled into") << " " << options.cache_dir << " in "
            << static_cast<long>(ms) << " ms\n";
  return 0;
}

// Listing is for reading a pack, failing examples and all, so they do not refuse the set here.
int list(const RulesetOptions& options) {
  auto rules = options.load(RuleSetLoader::Examples::skip);
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
    std::cerr << kRulesUsage;
    return 2;
  }
  const std::string sub = argv[1];
  if (sub == "bundle" || sub == "bundle-key" || sub == "verify-bundle") return rules_bundle_command(argc, argv);
  RulesetOptions options;
  for (int i = 1; i < argc; ++i) {
    if (is_help(argv[i])) {
      std::cout << kRulesUsage;
      return 0;
    }
  }
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
  if (sub == "lint") return lint(options, std::make_shared<const Normalizer>());
  if (sub == "test") return test(options);
  if (sub == "list") return list(options);
  if (sub == "compile") return compile(options);
  std::cerr << "rules: unknown subcommand '" << sub << "' (lint, test, compile, list, bundle, bundle-key, verify-bundle)\n";
  return 2;
}

}  // namespace promptwall::cli
