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
      CHECK(b[p].confirm_latin.pattern() == a[p].confirm_latin.pattern());
      CHECK_FALSE(b[p].confirm.compiled());
      CHECK_FALSE(b[p].confirm_latin.compiled());
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
  // Only what was hit got compiled: for a Latin window (this text), the Latin confirmer.
  auto hit = [](const CompiledPattern& p) { return p.confirm.compiled() || p.confirm_latin.compiled(); };
  CHECK(hit(cached->rules()[0].patterns[0]));
  CHECK(hit(cached->rules()[2].patterns[0]));
  CHECK(cached->rules()[0].patterns[0].confirm_latin.compiled());
  CHECK_FALSE(cached->rules()[0].patterns[0].confirm.compiled());
  const auto quiet = compile(dir.path().string());
  CHECK(findings(quiet, "nothing to see here").empty());
  for (const auto& rule : quiet->rules())
    for (const auto& p : rule.patterns) CHECK_FALSE(hit(p));
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
  // Guillemets are no Latin text: the window goes to the Unicode confirmer.
  const auto found = findings(r.ruleset, "mã «" + upper + "» cuối");
  REQUIRE(found.size() == 1);
  CHECK(found[0].second == upper);
  REQUIRE(p.confirm.compiled());
  CHECK(p.confirm->ok());
  CHECK_FALSE(p.confirm_latin.compiled());
  CHECK(findings(r.ruleset, "mã " + upper + " cuối").size() == 1);
  REQUIRE(p.confirm_latin.compiled());
  CHECK(p.confirm_latin->ok());
}

TEST_CASE("a cache entry holds every pattern's width and is a miss for another pattern count",
          "[ruleset_compiler]") {
  const TempDir dir("database-cache");
  hs_database_t* db = nullptr;
  hs_database_t* lit = nullptr;
  hs_compile_error_t* err = nullptr;
  REQUIRE(hs_compile("falcon", 0, HS_MODE_BLOCK, nullptr, &db, &err) == HS_SUCCESS);
  const char* word = "sao mai";
  const unsigned flags = HS_FLAG_CASELESS, id = 0;
  const size_t len = 7;
  REQUIRE(hs_compile_lit_multi(&word, &flags, &id, &len, 1, HS_MODE_BLOCK, nullptr, &lit, &err) == HS_SUCCESS);
  CachedDatabases stored;
  stored.databases[0] = db;
  stored.literals[1] = lit;
  stored.max_widths = {14, 300, 7};
  const DatabaseCache cache(dir.path().string());
  REQUIRE(cache.store("k", stored));
  hs_free_database(db);
  hs_free_database(lit);

  const ViewMask raw = view_bit(static_cast<ViewKind>(0)), second = view_bit(static_cast<ViewKind>(1));
  auto entry = cache.load("k", raw, second, 3);
  REQUIRE(entry);
  CHECK(entry->max_widths == std::vector<uint32_t>{14, 300, 7});
  REQUIRE(entry->databases[0]);
  REQUIRE(entry->literals[1]);
  CHECK_FALSE(entry->databases[1]);
  CHECK_FALSE(entry->literals[0]);
  hs_free_database(entry->databases[0]);
  hs_free_database(entry->literals[1]);
  CHECK_FALSE(cache.load("k", raw, second, 2));
  CHECK_FALSE(cache.load("k", raw | second, second, 3));
  CHECK_FALSE(cache.load("k", raw, 0, 3));  // the literal database is not what this set wants
  CHECK_FALSE(cache.load("other", raw, second, 3));
}

// Issue 14: plain-text patterns are compiled as Hyperscan literals. Whatever the literal chosen,
// the scanner must find exactly what RE2 finds reading the whole text.
TEST_CASE("RE2 folds exactly k and s of the ASCII letters to forms outside ASCII", "[ruleset_compiler]") {
  // The literals of a (?i) pattern leave out k and s for this reason (pattern_dialect.h).
  auto utf8 = [](char32_t cp) {
    std::string s;
    if (cp < 0x800) {
      s += static_cast<char>(0xC0 | (cp >> 6));
    } else if (cp < 0x10000) {
      s += static_cast<char>(0xE0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    } else {
      s += static_cast<char>(0xF0 | (cp >> 18));
      s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    }
    s += static_cast<char>(0x80 | (cp & 0x3F));
    return s;
  };
  re2::RE2::Options o;
  o.set_case_sensitive(false);
  const re2::RE2 letters("[a-z]", o);
  std::string folds;
  for (char32_t cp = 0x80; cp < 0x110000; ++cp) {
    if (cp >= 0xD800 && cp < 0xE000) continue;
    const std::string s = utf8(cp);
    if (!re2::RE2::FullMatch(s, letters)) continue;
    for (char c = 'a'; c <= 'z'; ++c)
      if (re2::RE2::FullMatch(s, re2::RE2(std::string("(?i)") + c))) folds += c;
  }
  CHECK(folds == "sk");  // U+017F, then U+212A
}

TEST_CASE("a plain-text width counted by the dialect is never less than Hyperscan's analysis",
          "[ruleset_compiler]") {
  for (const char* p : {"{b}du ?an ?sao ?mai{b}", "(?i){b}Dự án Sao Mai{b}", "(?i){b}kiểm soát{b}", "(?i)ßtraße",
                        "(?i){b}в Москве{b}", "{b}DASM\\-17{b}", "Tối mật", "(?i)Ω ohm", "mã số: A\\.7?"}) {
    INFO(p);
    const TranslatedPattern t = PatternDialect::translate(p).pattern;
    REQUIRE(t.plain_text);
    hs_expr_info_t* info = nullptr;
    hs_compile_error_t* err = nullptr;
    REQUIRE(hs_expression_info(t.hyperscan.c_str(), HS_FLAG_UTF8 | HS_FLAG_MULTILINE, &info, &err) == HS_SUCCESS);
    CHECK(t.plain_max_width >= info->max_width);
    CHECK(t.plain_max_width <= info->max_width + 2 * t.core.size());  // an upper bound, not a guess
    free(info);
  }
}

TEST_CASE("patterns prefiltered by literals find exactly what RE2 finds in the whole text", "[ruleset_compiler]") {
  // Each pattern in a rule of its own, on the raw view, so every match is its own finding.
  const std::vector<std::string> patterns = {
      "(?i){b}Dự án Sao Mai{b}",      // literal "ao Mai", ASCII-caseless, in the middle of the match
      "{b}du ?an ?sao ?mai{b}",       // eight spellings
      "(?i){b}VNPT Hà Nội{b}",        // the literal at the start, the match runs on past it
      "(?i){b}Kế hoạch{b}",           // no literal: the regex database
      "{b}DASM\\-17{b}",             // punctuation
      "(?i){b}sổ tay nhân viên{b}"};  // literal " tay nh"
  std::string yaml = "pack: p\nversion: '1'\nrules:\n";
  for (size_t i = 0; i < patterns.size(); ++i) {
    std::string quoted;
    for (char c : patterns[i]) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    yaml += "  - id: r" + std::to_string(i) +
            "\n    description: d\n    category: custom_term\n    severity: high\n    action: block\n"
            "    views: [raw]\n    patterns: ['" + quoted + "']\n    message: {vi: 'a', en: 'b'}\n"
            "    examples: {match: ['x'], ignore: ['y']}\n";
  }
  LoadedPack loaded = PackLoader::load_text("p.yaml", yaml);
  for (const auto& d : loaded.diagnostics) UNSCOPED_INFO(to_string(d));
  REQUIRE(loaded.pack);
  CompileResult r = RuleSetCompiler(shared_normalizer()).compile({*loaded.pack});
  for (const auto& d : r.diagnostics) UNSCOPED_INFO(to_string(d));
  REQUIRE(r.ruleset);
  const RuleSet::ViewDatabase* raw = r.ruleset->database(ViewKind::raw);
  REQUIRE(raw);
  REQUIRE(raw->literals);
  REQUIRE(raw->db);  // Kế hoạch
  CHECK(raw->literal_refs.size() == 1 + 8 + 1 + 1 + 1);

  const std::vector<std::string> texts = {
      "Gửi DỰ ÁN SAO MAI và dự án ſao mai (U+017F), không phải dự án sao mai2 hay xdự án Sao Mai.",
      "duansaomai, du an sao mai, du ansao mai; duansaomaix, du an sao ma",
      "VNPT Hà Nội, vnpt HÀ NỘI. VNPT Hà Nộii, VNPT Hà Nam",
      "KẾ HOẠCH năm, kế hoạchx, Kế Hoạch.",
      "DASM-17 DASM-17x DASM-1 (DASM-17)",
      "Sổ tay nhân viên, SỔ TAY NHÂN VIÊN; ſổ tay nhân viên? sổ tay nhân viênx",
      // Matches run into each other and sit at the text's edges.
      "Dự án Sao Mai Dự án Sao Mai",
      "du an sao mai du an sao mai"};
  Scanner scanner(r.ruleset);
  for (const auto& text : texts) {
    INFO(text);
    std::multiset<std::pair<uint32_t, std::string>> expected, found;
    for (uint32_t i = 0; i < r.ruleset->rules().size(); ++i) {
      const re2::RE2& re = *r.ruleset->rules()[i].patterns[0].confirm;
      re2::StringPiece input(text), match;
      // RE2 from each match's end on, as the scanner continues after each finding.
      size_t pos = 0;
      re2::StringPiece groups[2];
      while (pos < text.size() && re.Match(input, pos, text.size(), re2::RE2::UNANCHORED, groups, 2)) {
        expected.emplace(i, std::string(groups[1].data(), groups[1].size()));
        pos = static_cast<size_t>(groups[1].data() - text.data()) + groups[1].size();
      }
    }
    for (const Finding& f : scanner.scan_rules(text).findings)
      found.emplace(f.rule_index, text.substr(f.span.begin, f.span.end - f.span.begin));
    CHECK(found == expected);
    CHECK_FALSE(expected.empty());
  }
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
