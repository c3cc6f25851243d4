// Loading, linting and compiling rule packs: good packs pass, every kind of broken pack fails with
// a message that names the file, line and rule.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "rules/example_runner.h"
#include "rules/rule_linter.h"
#include "../support/temp_dir.h"
#include "test_support.h"

using namespace promptwall;
using namespace promptwall::test;

namespace {

bool mentions(const std::vector<Diagnostic>& diags, const std::string& text, int line = 0) {
  for (const auto& d : diags)
    if (to_string(d).find(text) != std::string::npos && (line == 0 || d.where.line == line)) return true;
  return false;
}

std::vector<Diagnostic> lint_yaml(const std::string& yaml) {
  LoadedPack loaded = PackLoader::load_text("test.yaml", yaml);
  std::vector<Diagnostic> diags = loaded.diagnostics;
  if (loaded.pack) {
    auto more = RuleLinter(shared_normalizer()).lint({*loaded.pack});
    diags.insert(diags.end(), more.begin(), more.end());
  }
  return diags;
}

}  // namespace

TEST_CASE("the built-in packs lint clean and all their examples pass") {
  std::vector<Diagnostic> diags;
  auto packs = builtin_packs(diags);
  REQUIRE(packs.size() >= 4);
  auto lint = RuleLinter(shared_normalizer()).lint(packs);
  for (const auto& d : lint) UNSCOPED_INFO(to_string(d));
  CHECK_FALSE(has_errors(lint));

  ExampleReport report = ExampleRunner::run(builtin_ruleset());
  for (const auto& f : report.failures) UNSCOPED_INFO(to_string(f));
  CHECK(report.failures.empty());
  CHECK(report.examples_run > 200);
  // Every built-in rule has at least three examples of each kind of its own.
  for (const auto& r : builtin_ruleset()->rules()) {
    INFO(r.rule.id);
    CHECK(r.rule.match_examples.size() >= 3);
    CHECK(r.rule.ignore_examples.size() >= 3);
  }
}

TEST_CASE("schema errors name the file and line") {
  auto diags = lint_yaml(one_rule_pack("    patterns: ['abc']\n    severty: high\n"));
  CHECK(mentions(diags, "test.yaml:12: error: rule t.rule: unknown key 'severty'"));

  diags = lint_yaml("pack: t\nversion: '1'\nrules:\n  - id: t.a\n    description: d\n");
  CHECK(mentions(diags, "missing required field 'category'"));
  CHECK(mentions(diags, "missing required field 'patterns'"));
  CHECK(mentions(diags, "missing 'message'"));

  diags = lint_yaml("pack: t\nversion: '1'\nrules:\n  - id: t.a\n   bad: [\n");
  CHECK(mentions(diags, "YAML syntax error"));

  diags = lint_yaml(one_rule_pack("    patterns: ['abc']\n").replace(one_rule_pack("").find("severity: low"), 13,
                                                                  "severity: huge"));
  CHECK(mentions(diags, "severity must be"));
  diags = lint_yaml(one_rule_pack("    patterns: ['abc']\n    views: [raw, sideways]\n"));
  CHECK(mentions(diags, "unknown view 'sideways'"));
  diags = lint_yaml(one_rule_pack("    patterns: ['abc']\n    redact: {style: label}\n"));
  CHECK(mentions(diags, "needs a 'label'"));
}

TEST_CASE("pattern problems are lint errors with the engine's reason") {
  CHECK(mentions(lint_yaml(one_rule_pack("    patterns: ['ab+c']\n")), "unbounded repeat", 11));
  CHECK(mentions(lint_yaml(one_rule_pack("    patterns: ['\\bmat\\b']\n")), "use {b}"));
  CHECK(mentions(lint_yaml(one_rule_pack("    patterns: ['a[b']\n")), "unterminated"));
  CHECK(mentions(lint_yaml(one_rule_pack("    patterns: ['x{1,300}y{1,300}']\n")), "600 bytes; the limit is 512"));
  // Both engines parse it, but Hyperscan cannot build a repeat this large in UTF-8 mode.
  CHECK(mentions(lint_yaml(one_rule_pack("    patterns: ['(?:x|y){2,300}\\p{L}{200}']\n")), "Hyperscan rejects it: Pattern too large"));
  CHECK(mentions(lint_yaml(one_rule_pack("    patterns: ['a{1,2}']\n")), "too broad"));
  CHECK(mentions(lint_yaml(one_rule_pack("    patterns: ['(?:abc)?']\n")), "empty string"));
  CHECK(mentions(lint_yaml(one_rule_pack("    patterns: ['\\p{Bogus}xyz']\n")), "rejects it"));
  CHECK(mentions(lint_yaml(one_rule_pack("    patterns: ['Mật']\n    views: [folded]\n")), "can never match"));
  CHECK(mentions(lint_yaml(one_rule_pack("    patterns: ['abc']\n    validate: nosuch\n")), "unknown validator 'nosuch'"));
}

TEST_CASE("duplicate ids and missing examples are lint errors") {
  std::string two = one_rule_pack("    patterns: ['abc']\n") +
                    "  - id: t.rule\n    description: d\n    category: custom_term\n    severity: low\n"
                    "    action: warn\n    patterns: ['xyz']\n    message: {vi: 'a', en: 'b'}\n"
                    "    examples: {match: [], ignore: ['q']}\n";
  auto diags = lint_yaml(two);
  CHECK(mentions(diags, "duplicate rule id"));
  CHECK(mentions(diags, "no 'match' examples"));
}

TEST_CASE("rules test reports each failing example with rule id and line") {
  auto r = compile_yaml(
      "pack: t\nversion: '1'\nrules:\n"
      "  - id: t.word\n    description: d\n    category: custom_term\n    severity: low\n    action: warn\n"
      "    patterns: ['{b}(?i)project falcon{b}']\n    message: {vi: 'a', en: 'b'}\n"
      "    examples:\n"
      "      match:\n"
      "        - 'About Project Falcon today'\n"   // line 13: passes
      "        - 'About Project Eagle today'\n"    // line 14: fails, not found
      "      ignore:\n"
      "        - 'projectfalcon is one word'\n"    // line 16: passes
      "        - 'the project falcon plan'\n");    // line 17: fails, found
  REQUIRE(r.ruleset);
  ExampleReport report = ExampleRunner::run(r.ruleset);
  CHECK(report.examples_run == 4);
  REQUIRE(report.failures.size() == 2);
  CHECK(report.failures[0].where.line == 14);
  CHECK(report.failures[0].rule_id == "t.word");
  CHECK(to_string(report.failures[0]).find("match example not found") != std::string::npos);
  CHECK(report.failures[1].where.line == 17);
  CHECK(to_string(report.failures[1]).find("ignore example matched") != std::string::npos);
}

TEST_CASE("places weights are read strictly, errors naming the file and line", "[places]") {
  LoadedPack ok = PackLoader::load_text("test.yaml", one_rule_pack("    patterns: ['abc']\n    confidence: 0.4\n"
                                                                   "    places: {header: 0.3, prominent: 0.25, footer: -1}\n"));
  REQUIRE(ok.pack);
  CHECK(ok.diagnostics.empty());
  const auto& weights = ok.pack->rules.at(0).places;
  REQUIRE(weights.size() == 3);
  CHECK(weights[0].tag == PlaceTag::header);
  CHECK(weights[0].weight == Approx(0.3));
  CHECK(weights[1].tag == PlaceTag::prominent);
  CHECK(weights[1].weight == Approx(0.25));
  CHECK(weights[2].tag == PlaceTag::footer);
  CHECK(weights[2].weight == Approx(-1));

  CHECK(mentions(lint_yaml(one_rule_pack("    patterns: ['abc']\n    places:\n      header: 0.3\n      heading: 0.3\n")),
                 "test.yaml:14: error: rule t.rule: unknown place 'heading' in 'places' (header, footer, prominent,"));
  CHECK(mentions(lint_yaml(one_rule_pack("    patterns: ['abc']\n    places: {header: 1.5}\n")),
                 "the weight of place 'header' must be between -1 and 1", 12));
  CHECK(mentions(lint_yaml(one_rule_pack("    patterns: ['abc']\n    places: {header: much}\n")), "'places' must be a number"));
  CHECK(mentions(lint_yaml(one_rule_pack("    patterns: ['abc']\n    places: [header]\n")),
                 "'places' must be a mapping of place to weight", 12));
  CHECK(mentions(lint_yaml(one_rule_pack("    patterns: ['abc']\n    places: {header: 0.3, header: 0.2}\n")),
                 "weighed twice"));
  // An example's place: one tag or a list, each known.
  const std::string pack =
      "pack: t\nversion: '1'\nrules:\n  - id: t.a\n    description: d\n    category: custom_term\n"
      "    severity: low\n    action: warn\n    patterns: ['abc']\n    message: {vi: 'a', en: 'b'}\n"
      "    examples:\n      match:\n        - {text: 'abc', place: header}\n"
      "        - {text: 'abc', place: [sheet, prominent]}\n      ignore:\n        - {text: 'xyz', place: margin}\n";
  LoadedPack loaded = PackLoader::load_text("test.yaml", pack);
  REQUIRE(loaded.pack);
  CHECK(mentions(loaded.diagnostics, "test.yaml:16: error: rule t.a: unknown place 'margin' in 'place'"));
  const Rule& rule = loaded.pack->rules.at(0);
  CHECK(rule.match_examples.at(0).places == place_bit(PlaceTag::header));
  CHECK(rule.match_examples.at(1).places == (place_bit(PlaceTag::sheet) | place_bit(PlaceTag::prominent)));
}

TEST_CASE("the linter asks placed examples of a rule that weighs places and rejects one that can never fire", "[places]") {
  auto diags = lint_yaml(one_rule_pack("    patterns: ['abc']\n    confidence: 0.4\n    places: {header: 0.3}\n"));
  CHECK(mentions(diags, "no example has a 'place'"));
  CHECK_FALSE(mentions(diags, "can never report"));
  diags = lint_yaml(one_rule_pack("    patterns: ['abc']\n    confidence: 0.3\n    places: {header: 0.1, footer: -0.2}\n"));
  CHECK(mentions(diags, "confidence 0.3 with every positive place weight stays below 0.5"));
  diags = lint_yaml(one_rule_pack("    patterns: ['abc']\n    confidence: 0.45\n"));
  CHECK(mentions(diags, "confidence 0.45 stays below 0.5: the rule can never report a finding"));
  // Context words may lift it: not the linter's to judge.
  diags = lint_yaml(one_rule_pack("    patterns: ['abc']\n    confidence: 0.45\n    context: {boost: [xyz]}\n"));
  CHECK_FALSE(mentions(diags, "can never report"));
}

TEST_CASE("rules test scans an example with a place as text read from a document there", "[places]") {
  auto r = compile_yaml(
      "pack: t\nversion: '1'\nrules:\n"
      "  - id: t.stamp\n    description: d\n    category: classification_marking\n    severity: critical\n"
      "    action: block\n    confidence: 0.4\n    places: {header: 0.3}\n    views: [folded]\n"
      "    patterns: ['^(mat) so']\n    message: {vi: 'a', en: 'b'}\n"
      "    examples:\n"
      "      match:\n"
      "        - {text: 'MẬT Số 15', place: header}\n"          // line 16: passes
      "        - 'MẬT Số 15'\n"                                 // line 17: fails, no place
      "        - {text: 'MẬT Số 15', place: [footer, table]}\n"  // line 18: fails, no weight there
      "      ignore:\n"
      "        - 'MẬT Số 15'\n"                                 // line 20: passes
      "        - {text: 'MẬT Số 15', place: [table, header]}\n"); // line 21: fails, found
  REQUIRE(r.ruleset);
  ExampleReport report = ExampleRunner::run(r.ruleset);
  CHECK(report.examples_run == 5);
  REQUIRE(report.failures.size() == 3);
  CHECK(report.failures[0].where.line == 17);
  CHECK(report.failures[1].where.line == 18);
  CHECK(report.failures[2].where.line == 21);
  CHECK(to_string(report.failures[2]).find("ignore example matched \"MẬT\"") != std::string::npos);
}

TEST_CASE("the compiled-database cache is used when valid and recompiled when not") {
  // A cache of its own (not the shared test cache), which the compiler creates.
  const TempDir scratch;
  const auto dir = scratch.path() / "cache";
  std::vector<Diagnostic> diags;
  RuleSetCompiler compiler(shared_normalizer());
  auto first = compiler.compile(builtin_packs(diags), CompileOptions{dir.string()});
  REQUIRE(first.ruleset);
  CHECK_FALSE(first.ruleset->loaded_from_cache());
  auto second = compiler.compile(builtin_packs(diags), CompileOptions{dir.string()});
  REQUIRE(second.ruleset);
  CHECK(second.ruleset->loaded_from_cache());
  CHECK(second.ruleset->version() == first.ruleset->version());

  // Corrupt every cache entry: the next compile must not trust it.
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x5A');
  }
  auto third = compiler.compile(builtin_packs(diags), CompileOptions{dir.string()});
  REQUIRE(third.ruleset);
  CHECK_FALSE(third.ruleset->loaded_from_cache());
  // Truncated entries likewise.
  for (const auto& entry : std::filesystem::directory_iterator(dir)) std::filesystem::resize_file(entry.path(), 40);
  auto fourth = compiler.compile(builtin_packs(diags), CompileOptions{dir.string()});
  REQUIRE(fourth.ruleset);
  CHECK_FALSE(fourth.ruleset->loaded_from_cache());
  // A rewritten entry is trusted again, and scans the same.
  auto fifth = compiler.compile(builtin_packs(diags), CompileOptions{dir.string()});
  REQUIRE(fifth.ruleset);
  CHECK(fifth.ruleset->loaded_from_cache());
}

TEST_CASE("the ruleset version is a content hash") {
  auto a = compile_yaml(one_rule_pack("    patterns: ['abc']\n"));
  auto b = compile_yaml(one_rule_pack("    patterns: ['abd']\n"));
  REQUIRE(a.ruleset);
  REQUIRE(b.ruleset);
  CHECK(a.ruleset->version().size() == 64);
  CHECK(a.ruleset->version() != b.ruleset->version());
  CHECK(compile_yaml(one_rule_pack("    patterns: ['abc']\n")).ruleset->version() == a.ruleset->version());
}

TEST_CASE("a text that opens with a stray comma is refused, not read forever", "[packs][aliases]") {
  // Found by fuzzing the loader: yaml-cpp 0.7's parser reports an empty document forever for it,
  // and the alias check walked documents until there were none.
  for (const std::string text : {",", ",\xcd\xcd\xcd", "# a comment\n,\n", "  ,"}) {
    LoadedPack loaded = PackLoader::load_text("test.yaml", text);
    CHECK_FALSE(loaded.pack);
    CHECK(mentions(loaded.diagnostics, "a pack must be a mapping", 1));
  }
}

TEST_CASE("a pack with YAML aliases is refused at the alias's line, an anchor alone is fine", "[packs][aliases]") {
  // Found by fuzzing the loader: aliases share nodes, so a pack of repeated `- *r` whose examples
  // share a list of places multiplied the schema walk (a 51 KB pack took a minute to load).
  const std::string rule =
      "  - &r\n    id: t.a\n    description: d\n    category: custom_term\n    severity: low\n    action: warn\n"
      "    patterns: ['abc']\n    message: {vi: 'a', en: 'b'}\n"
      "    examples:\n      ignore: [y]\n      match:\n        - {text: abc, place: &p [header, footer]}\n"
      "        - {text: abd, place: *p}\n";
  LoadedPack aliased = PackLoader::load_text("test.yaml", "pack: t\nversion: '1'\nrules:\n" + rule + "  - *r\n");
  CHECK_FALSE(aliased.pack);
  // The first alias is the examples' `*p` (line 16), before the rule's `*r`.
  CHECK(mentions(aliased.diagnostics, "test.yaml:16: error: YAML aliases (*name) are not allowed in a rule pack", 16));

  std::string bomb = "pack: t\nversion: '1'\nrules:\n" + rule;
  for (int i = 0; i < 2000; ++i) bomb += "  - *r\n";
  LoadedPack refused = PackLoader::load_text("test.yaml", bomb);
  CHECK_FALSE(refused.pack);
  CHECK(refused.diagnostics.size() == 1);

  std::string anchored = rule;
  anchored.replace(anchored.find("place: *p"), 9, "place: [header]");
  LoadedPack fine = PackLoader::load_text("test.yaml", "pack: t\nversion: '1'\nrules:\n" + anchored);
  REQUIRE(fine.pack);
  CHECK(fine.diagnostics.empty());
  CHECK(fine.pack->rules.at(0).match_examples.size() == 2);
}
