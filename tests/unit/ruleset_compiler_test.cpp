// What makes large rule sets compile and load fast (issue 14) without changing what they find:
// confirmers compiled on their first hit, widths kept in the database cache, plain-text patterns
// not compiled by RE2 just to check them, and the lint warning about patterns Hyperscan cannot
// prefilter.
#include <catch2/catch.hpp>
#include <hs/hs.h>
#include <re2/re2.h>

#include <set>
#include <thread>

#include "classifiers/scanner.h"
#include "rules/database_cache.h"
#include "rules/lazy_regex.h"
#include "rules/pattern_dialect.h"
#include "rules/rule_linter.h"
#include "../support/temp_dir.h"
#include "test_support.h"

using namespace promptwall;
using namespace promptwall::test;

namespace {

// Three term rules the way an organisation writes them, and one identifier rule.
const char* kTermPack = R"(pack: org
version: '1'
rules:
  - id: org.project
    description: d
    category: custom_term
    severity: high
    action: block
    patterns: ['(?i){b}Dự án Sao Mai{b}', '{b}DASM\-17{b}']
    message: {vi: 'a', en: 'b'}
    examples: {match: ['x'], ignore: ['y']}
  - id: org.unit
    description: d
    category: custom_term
    severity: high
    action: block
    views: [folded, compact]
    patterns: ['{b}phong ?ke ?hoach{b}']
    message: {vi: 'a', en: 'b'}
    examples: {match: ['x'], ignore: ['y']}
  - id: org.person
    description: d
    category: custom_term
    severity: high
    action: block
    views: [folded]
    patterns: ['{b}nguyen van an{b}']
    message: {vi: 'a', en: 'b'}
    examples: {match: ['x'], ignore: ['y']}
  - id: org.staff-id
    description: d
    category: custom_term
    severity: high
    action: block
    patterns: ['{b}(NV\d{6}){b}']
    message: {vi: 'a', en: 'b'}
    examples: {match: ['x'], ignore: ['y']}
)";

std::vector<RulePack> term_packs() {
  LoadedPack loaded = PackLoader::load_text("org.yaml", kTermPack);
  for (const auto& d : loaded.diagnostics) UNSCOPED_INFO(to_string(d));
  REQUIRE(loaded.pack);
  return {*loaded.pack};
}

std::shared_ptr<const RuleSet> compile(const std::string& cache_dir) {
  CompileResult r = RuleSetCompiler(shared_normalizer()).compile(term_packs(), CompileOptions{cache_dir});
  for (const auto& d : r.diagnostics) UNSCOPED_INFO(to_string(d));
  REQUIRE(r.ruleset);
  return r.ruleset;
}

std::vector<std::pair<std::string, std::string>> findings(const std::shared_ptr<const RuleSet>& set,
                                                          const std::string& text) {
  Scanner scanner(set);
  std::vector<std::pair<std::string, std::string>> out;
  for (const Finding& f : scanner.scan(text).findings)
    out.emplace_back(set->rules()[f.rule_index].rule.id, text.substr(f.span.begin, f.span.end - f.span.begin));
  return out;
}

}  // namespace

TEST_CASE("plain-text patterns are told apart from patterns RE2 must check", "[ruleset_compiler]") {
  for (const char* plain : {"(?i){b}Dự án Sao Mai{b}", "{b}du ?an ?sao ?mai{b}", "{b}DASM\\-17{b}", "Tối mật",
                            "mã số: A\\.7"}) {
    INFO(plain);
    DialectResult r = PatternDialect::translate(plain);
    REQUIRE(r.errors.empty());
    CHECK(r.pattern.plain_text);
  }
  for (const char* regex : {"{b}\\d{12}{b}", "(?i)mật|mat", "[Mm]ật", "ab{2}", "a.c", "(mật)", "\\pL{3}", "a\\dc"}) {
    INFO(regex);
    DialectResult r = PatternDialect::translate(regex);
    REQUIRE(r.errors.empty());
    CHECK_FALSE(r.pattern.plain_text);
  }
}

TEST_CASE("a confirmer compiles once however many threads ask for it first", "[ruleset_compiler]") {
  LazyRegex lazy("(?m)(?:^|[^\\p{L}\\p{M}\\p{N}_])((?i)dự án)(?:[^\\p{L}\\p{M}\\p{N}_]|$)");
  CHECK_FALSE(lazy.compiled());
  std::vector<const re2::RE2*> seen(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i) threads.emplace_back([&, i] { seen[i] = lazy.get(); });
  for (auto& t : threads) t.join();
  CHECK(lazy.compiled());
  CHECK(std::set<const re2::RE2*>(seen.begin(), seen.end()).size() == 1);
  REQUIRE(seen[0]->ok());
  CHECK(re2::RE2::PartialMatch("Báo cáo DỰ ÁN mới", *lazy));
  CHECK_FALSE(re2::RE2::PartialMatch("dự ánh", *lazy));

  // Moved while building a set: the compiled object goes with it.
  LazyRegex moved(std::move(lazy));
  CHECK(moved.get() == seen[0]);
}

TEST_CASE("a set from the cache compiles no confirmer until a hit and finds exactly the same",
          "[ruleset_compiler]") {
  const TempDir dir("ruleset-compiler");
  const auto fresh = compile(dir.path().string());
  CHECK_FALSE(fresh->loaded_from_cache());
  const auto cached = compile(dir.path().string());
  REQUIRE(cached->loaded_from_cache());

  REQUIRE(cached->rules().size() == fresh->rules().size());
  for (size_t r = 0; r < fresh->rules().size(); ++r) {
    const auto& a = fresh->rules()[r].patterns;
    const auto& b = cached->rules()[r].patterns;
    REQUIRE(a.size() == b.size());
    for (size_t p = 0; p < a.size(); ++p) {
      CHECK(b[p].max_width == a[p].max_width);  // from the cache entry, not analysed again
      CHECK(b[p].confirm.pattern() == a[p].confirm.pattern());
      CHECK_FALSE(b[p].confirm.compiled());
    }
  }
  // The compile checked the regex pattern with RE2 and kept it; plain text was not compiled.
  CHECK(fresh->rules()[3].patterns[0].confirm.compiled());
  CHECK_FALSE(fresh->rules()[0].patterns[0].confirm.compiled());

  const std::string text =
      "Gửi DỰ ÁN SAO MAI (mã DASM-17) cho Phòng Kế hoạch, ông Nguyễn Văn An, NV123456; "
      "không phải dự án sao mai2 hay phongkehoachxyz.";
  const auto expected = findings(fresh, text);
  CHECK(expected.size() == 5);
  CHECK(findings(cached, text) == expected);
  // Only what was hit got compiled.
  CHECK(cached->rules()[0].patterns[0].confirm.compiled());
  CHECK(cached->rules()[2].patterns[0].confirm.compiled());
  const auto quiet = compile(dir.path().string());
  CHECK(findings(quiet, "nothing to see here").empty());
  for (const auto& rule : quiet->rules())
    for (const auto& p : rule.patterns) CHECK_FALSE(p.confirm.compiled());
}

TEST_CASE("the widest plain-text pattern fits its confirmer's smaller memory budget", "[ruleset_compiler]") {
  // 500 bytes of (?i) Vietnamese letters between two boundaries, just under the 512-byte limit.
  std::string word;
  for (int i = 0; i < 166; ++i) word += "ệ";
  LoadedPack loaded = PackLoader::load_text(
      "t.yaml", one_rule_pack("    patterns: ['(?i){b}" + word + "{b}']\n"));
  REQUIRE(loaded.pack);
  CompileResult r = RuleSetCompiler(shared_normalizer()).compile({*loaded.pack});
  for (const auto& d : r.diagnostics) UNSCOPED_INFO(to_string(d));
  REQUIRE(r.ruleset);
  const CompiledPattern& p = r.ruleset->rules()[0].patterns[0];
  CHECK_FALSE(p.confirm.compiled());
  std::string upper;
  for (int i = 0; i < 166; ++i) upper += "Ệ";
  const auto found = findings(r.ruleset, "mã " + upper + " cuối");
  REQUIRE(found.size() == 1);
  CHECK(found[0].second == upper);
  REQUIRE(p.confirm.compiled());
  CHECK(p.confirm->ok());
}

TEST_CASE("a cache entry holds every pattern's width and is a miss for another pattern count",
          "[ruleset_compiler]") {
  const TempDir dir("database-cache");
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  REQUIRE(hs_compile("falcon", 0, HS_MODE_BLOCK, nullptr, &db, &err) == HS_SUCCESS);
  ViewDatabases dbs{};
  dbs[0] = db;
  const DatabaseCache cache(dir.path().string());
  REQUIRE(cache.store("k", dbs, {14, 300, 7}));
  hs_free_database(db);

  auto entry = cache.load("k", view_bit(ViewKind::raw), 3);
  REQUIRE(entry);
  CHECK(entry->max_widths == std::vector<uint32_t>{14, 300, 7});
  REQUIRE(entry->databases[0]);
  hs_free_database(entry->databases[0]);
  CHECK_FALSE(cache.load("k", view_bit(ViewKind::raw), 2));
  CHECK_FALSE(cache.load("k", view_bit(ViewKind::raw) | view_bit(ViewKind::folded), 3));
  CHECK_FALSE(cache.load("other", view_bit(ViewKind::raw), 3));
}

TEST_CASE("lint warns, naming rule and pattern, about a pattern Hyperscan cannot prefilter",
          "[ruleset_compiler]") {
  auto lint = [](const std::string& patterns) {
    LoadedPack loaded = PackLoader::load_text("t.yaml", one_rule_pack("    patterns: " + patterns + "\n"));
    REQUIRE(loaded.pack);
    return RuleLinter(shared_normalizer()).lint({*loaded.pack});
  };
  auto prefilter_warnings = [](const std::vector<Diagnostic>& diags) {
    std::vector<Diagnostic> out;
    for (const auto& d : diags)
      if (d.message.find("Hyperscan cannot prefilter it") != std::string::npos) out.push_back(d);
    return out;
  };

  const auto digits = lint("['{b}(\\d{9}){b}']");
  const auto flagged = prefilter_warnings(digits);
  REQUIRE(flagged.size() == 1);
  CHECK(flagged[0].level == Diagnostic::Level::warning);
  CHECK(flagged[0].rule_id == "t.rule");
  CHECK(flagged[0].message.find("pattern '{b}(\\d{9}){b}' has no literal of 3 bytes") != std::string::npos);
  CHECK_FALSE(has_errors(digits));

  // A literal of three bytes or more in every match, or one of a few such literals, is enough.
  CHECK(prefilter_warnings(lint("['(?i){b}tuyệt mật{b}']")).empty());
  CHECK(prefilter_warnings(lint("['{b}AKIA[0-9A-Z]{16}{b}']")).empty());
  CHECK(prefilter_warnings(lint("['{b}(?:cccd|cmnd) ?\\d{9,12}{b}']")).empty());
  CHECK(prefilter_warnings(lint("['(?i){b}mật{b}']")).empty());
  // Two-byte literals or a literal that a match may leave out do not count.
  CHECK(prefilter_warnings(lint("['{b}(?:mk|pw)\\d{4,12}{b}']")).size() == 1);
  CHECK(prefilter_warnings(lint("['{b}(?:NV)?\\d{6}{b}']")).size() == 1);
  CHECK(prefilter_warnings(lint("['{b}[A-Z]{2}\\d{6}{b}']")).size() == 1);
}
