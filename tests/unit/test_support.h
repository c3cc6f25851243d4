// Helpers shared by the unit tests: one Normalizer per process (its fold table is derived from
// ICU once), and compiling packs from YAML text.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "rules/pack_loader.h"
#include "rules/ruleset.h"

namespace promptwall::test {

inline std::shared_ptr<const Normalizer> shared_normalizer() {
  static const auto n = std::make_shared<const Normalizer>();
  return n;
}

inline CompileResult compile_yaml(const std::string& yaml) {
  LoadedPack loaded = PackLoader::load_text("test.yaml", yaml);
  CompileResult r;
  if (!loaded.pack) {
    r.diagnostics = loaded.diagnostics;
    return r;
  }
  r = RuleSetCompiler(shared_normalizer()).compile({*loaded.pack});
  r.diagnostics.insert(r.diagnostics.begin(), loaded.diagnostics.begin(), loaded.diagnostics.end());
  if (has_errors(r.diagnostics)) r.ruleset.reset();
  return r;
}

inline std::shared_ptr<const RuleSet> builtin_ruleset() {
  static const std::shared_ptr<const RuleSet> set = [] {
    std::vector<Diagnostic> diags;
    auto packs = builtin_packs(diags);
    REQUIRE_FALSE(has_errors(diags));
    auto r = RuleSetCompiler(shared_normalizer()).compile(std::move(packs), CompileOptions{PROMPTWALL_TEST_CACHE_DIR});
    for (const auto& d : r.diagnostics) UNSCOPED_INFO(to_string(d));
    REQUIRE(r.ruleset);
    return r.ruleset;
  }();
  return set;
}

// A one-rule pack around `rule_body` (the YAML of one rule's fields, indented by 4).
inline std::string one_rule_pack(const std::string& rule_body) {
  return "pack: t\nversion: '1'\nrules:\n  - id: t.rule\n    description: d\n    category: custom_term\n"
         "    severity: low\n    action: warn\n    message: {vi: 'Thông báo', en: 'Message'}\n"
         "    examples: {match: ['x'], ignore: ['y']}\n" +
         rule_body;
}

}  // namespace promptwall::test
