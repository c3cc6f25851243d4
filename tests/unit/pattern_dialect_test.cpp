#include <catch2/catch.hpp>

#include <re2/re2.h>

#include <algorithm>

#include "rules/pack_loader.h"
#include "rules/pattern_dialect.h"

using namespace promptwall;

TEST_CASE("the boundary token expands for both engines and leaves group 1 as the match") {
  DialectResult r = PatternDialect::translate("{b}(?i)mật{b}");
  // (?i) must come first to be recognised; a {b} after it is fine too.
  r = PatternDialect::translate("(?i){b}mật{b}");
  REQUIRE(r.errors.empty());
  CHECK(r.pattern.leading_boundary);
  CHECK(r.pattern.trailing_boundary);
  CHECK_FALSE(r.pattern.has_capture);
  CHECK(r.pattern.re2 == "(?m)(?:^|[^\\p{L}\\p{M}\\p{N}_])((?i)mật)(?:[^\\p{L}\\p{M}\\p{N}_]|$)");
  CHECK(r.pattern.hyperscan == "(?:^|[^A-Za-z0-9_])(?:(?i)mật)(?:[^A-Za-z0-9_]|$)");
}

TEST_CASE("one capturing group marks the finding") {
  DialectResult r = PatternDialect::translate("Số CCCD: (\\d{12}){b}");
  REQUIRE(r.errors.empty());
  CHECK(r.pattern.has_capture);
  CHECK_FALSE(r.pattern.leading_boundary);
}

TEST_CASE("constructs outside the dialect are rejected with a reason") {
  struct Case {
    const char* pattern;
    const char* reason;
  };
  const Case cases[] = {
      {"\\bmat\\b", "{b}"},
      {"a+b", "unbounded"},
      {"a*b", "unbounded"},
      {"a{2,}", "unbounded"},
      {"(a)(b)", "at most one capturing group"},
      {"(?=a)b", "lookaround"},
      {"(?<!a)b", "lookaround"},
      {"(a)\\1", "backreferences"},
      {"(?P<x>a)", "named groups"},
      {"(?s)a.b", "inline flag"},
      {"a{b}c", "{b} may only"},
      {"[abc", "unterminated"},
      {"", "empty"},
  };
  for (const auto& c : cases) {
    INFO(c.pattern);
    DialectResult r = PatternDialect::translate(c.pattern);
    REQUIRE_FALSE(r.errors.empty());
    bool mentioned = false;
    for (const auto& e : r.errors) mentioned = mentioned || e.find(c.reason) != std::string::npos;
    CHECK(mentioned);
  }
}

TEST_CASE("escaped and class-internal characters are not taken for constructs") {
  for (const char* ok : {"a\\+b", "[*+]{1,3}", "\\p{L}{2,4}", "[(]x[)]", "\\(x\\)", "a{1,5}", "\\x{41}b"}) {
    INFO(ok);
    CHECK(PatternDialect::translate(ok).errors.empty());
  }
}

TEST_CASE("the anchor token gives Hyperscan the pattern from there on and RE2 all of it") {
  DialectResult r = PatternDialect::translate("(?:^|[^a-z])([a-z0-9.]{1,64}{a}@[a-z0-9.-]{1,100}\\.[a-z]{2,24}){b}");
  REQUIRE(r.errors.empty());
  // RE2 and the width checks see the pattern without the token.
  CHECK(r.pattern.re2 == "(?m)((?:^|[^a-z])([a-z0-9.]{1,64}@[a-z0-9.-]{1,100}\\.[a-z]{2,24}))(?:[^\\p{L}\\p{M}\\p{N}_]|$)");
  CHECK(r.pattern.hyperscan == "(?:(?:^|[^a-z])([a-z0-9.]{1,64}@[a-z0-9.-]{1,100}\\.[a-z]{2,24}))(?:[^A-Za-z0-9_]|$)");
  CHECK(r.pattern.core == "(?:^|[^a-z])([a-z0-9.]{1,64}@[a-z0-9.-]{1,100}\\.[a-z]{2,24})");
  CHECK(r.pattern.has_capture);
  // The capturing group still open at the token is reopened as (?:, the trailing boundary kept.
  CHECK(r.pattern.prefilter == "(?:(?:@[a-z0-9.-]{1,100}\\.[a-z]{2,24}))(?:[^A-Za-z0-9_]|$)");

  // The leading (?i) and boundary: the flag is kept, the boundary before the token dropped.
  r = PatternDialect::translate("(?i){b}(?:thuong |hoa )?{a}mat{b}");
  REQUIRE(r.errors.empty());
  CHECK(r.pattern.prefilter == "(?:(?i)mat)(?:[^A-Za-z0-9_]|$)");
  CHECK(r.pattern.hyperscan == "(?:^|[^A-Za-z0-9_])(?:(?i)(?:thuong |hoa )?mat)(?:[^A-Za-z0-9_]|$)");
}

TEST_CASE("without the anchor token the prefilter is the whole Hyperscan form") {
  DialectResult r = PatternDialect::translate("{b}(\\d{12}){b}");
  REQUIRE(r.errors.empty());
  CHECK(r.pattern.prefilter == r.pattern.hyperscan);
}

TEST_CASE("the anchor token is refused where a match need not end with what follows it") {
  struct Case {
    const char* pattern;
    const char* reason;
  };
  const Case cases[] = {
      {"ab|c{a}d", "alternative"},             // the other alternative has no 'd'
      {"(?:ab|c{a}d)e", "alternative"},
      {"(?:a{a}b|c)e", "alternative"},         // the '|' comes after the token
      {"(?:a{a}b){2}", "repeated or optional"},
      {"x(?:a{a}b)?c", "repeated or optional"},
      {"[a{a}b]c", "character class"},
      {"(?i:ab{a}c)", "inline flag"},
      {"a(?i)b{a}c", "inline flag"},
      {"ab{a}", "followed by"},
      {"(ab{a})", "followed by"},
      {"a{a}b{a}c", "only once"},
  };
  for (const auto& c : cases) {
    INFO(c.pattern);
    DialectResult r = PatternDialect::translate(c.pattern);
    REQUIRE_FALSE(r.errors.empty());
    bool mentioned = false;
    for (const auto& e : r.errors) mentioned = mentioned || e.find(c.reason) != std::string::npos;
    CHECK(mentioned);
  }
  // Alternatives and repeats that end before the token, or lie wholly after it, are fine.
  for (const char* ok : {"(?:a|b){1,3}{a}cd", "x(?:a|b){a}c(?:d|e)", "(x{a}y(?:p|q){1,2})z", "[|]{1,2}{a}ab"}) {
    INFO(ok);
    CHECK(PatternDialect::translate(ok).errors.empty());
  }
}

TEST_CASE("a prefilter of ASCII literals, positive classes and the boundaries may be scanned byte by byte") {
  for (const char* ascii : {"{b}(\\d{12}){b}", "{b}(\\d{3}[ .]\\d{3}[ .]\\d{3}){b}", "(\\(0\\d{2,3}\\)[ .-]?\\d{3,4}){b}",
                            "{b}([A-Z]\\d{7}){b}", "^[ #>|/]{0,6}(?:\\*{1,3})?((?:tuyet ?)?mat)[ *_.!|)\"]{0,6}$",
                            "(?i)[a-z0-9._]{1,20}{a}@[a-z]{2,10}\\.vn"}) {
    INFO(ascii);
    const DialectResult r = PatternDialect::translate(ascii);
    REQUIRE(r.errors.empty());
    // The last one's (?i) stands before the anchor, which keeps it: Unicode case folding.
    CHECK(r.pattern.ascii_prefilter == (std::string_view(ascii).find("(?i)") == std::string_view::npos));
  }
  for (const char* utf8 : {"(?i){b}mat{b}", "{b}mật{b}", "{b}a.b{b}", "{b}[^x]{2}{b}", "\\p{L}{3}", "{b}\\D{3}",
                           "(?:^|[^A-Za-z0-9_])(\\d{9}){b}", "x[–-]\\d{3}", "\\x{41}{3}"}) {
    INFO(utf8);
    const DialectResult r = PatternDialect::translate(utf8);
    REQUIRE(r.errors.empty());
    CHECK_FALSE(r.pattern.ascii_prefilter);
  }
}

TEST_CASE("plain text is prefiltered by literals: every spelling, else the longest safe run") {
  auto literals = [](const char* p) {
    DialectResult r = PatternDialect::translate(p);
    REQUIRE(r.errors.empty());
    return r.pattern;
  };
  // Three optional spaces: eight spellings, byte for byte.
  TranslatedPattern t = literals("{b}du ?an ?sao ?mai{b}");
  CHECK(t.literals.size() == 8);
  CHECK(std::count(t.literals.begin(), t.literals.end(), "duansaomai") == 1);
  CHECK(std::count(t.literals.begin(), t.literals.end(), "du an sao mai") == 1);
  CHECK(std::count(t.literals.begin(), t.literals.end(), "du ansao mai") == 1);
  CHECK_FALSE(t.literals_caseless);
  CHECK(t.plain_max_width == 13 + 4 + 4);  // the core, and one code point of up to 4 bytes each side
  CHECK(t.plain_mandatory == 10);

  CHECK(literals("{b}DASM\\-17{b}").literals == std::vector<std::string>{"DASM-17"});
  // (?i) on ASCII without k or s: the whole term, ASCII-caseless.
  t = literals("(?i){b}VNPT Hà Nội{b}");
  CHECK(t.literals == std::vector<std::string>{"VNPT H"});
  CHECK(t.literals_caseless);
  CHECK(literals("(?i){b}VNPT{b}").literals == std::vector<std::string>{"VNPT"});
  // (?i) with letters outside ASCII, and S (U+017F folds to it): the longest run without them.
  CHECK(literals("(?i){b}Dự án Sao Mai{b}").literals == std::vector<std::string>{"ao Mai"});
  // Nothing of four bytes or more: left to the regex database.
  CHECK(literals("(?i){b}Kế hoạch{b}").literals.empty());
  CHECK(literals("{b}abc{b}").literals.empty());
  // Too many spellings (2^5 > 16): the longest mandatory run.
  CHECK(literals("a?b?c?d?e?fghij").literals == std::vector<std::string>{"fghij"});
  // A regex has none.
  t = literals("{b}(\\d{12}){b}");
  CHECK(t.literals.empty());
  CHECK(t.plain_max_width == 0);
  // Under (?i) a letter counts its widest case form: k (U+212A, 3 bytes), s (U+017F, 2), ß (U+1E9E, 3).
  CHECK(literals("(?i)kso").plain_max_width == 3 + 2 + 1);
  CHECK(literals("(?i)ß").plain_max_width == 3);
  CHECK(literals("ß").plain_max_width == 2);
}

TEST_CASE("a regex anchored with {a} is prefiltered by the literal characters after the token") {
  auto literals = [](const char* p) {
    DialectResult r = PatternDialect::translate(p);
    REQUIRE(r.errors.empty());
    return r.pattern.literals;
  };
  CHECK(literals("[a-z0-9._%+-]{1,63}{a}@[a-z0-9.-]{1,190}\\.[a-z]{2,24}") == std::vector<std::string>{"@"});
  CHECK(literals("[a-z]{1,8}{a}key=[0-9]{4}") == std::vector<std::string>{"key="});
  CHECK(literals("[a-z]{1,8}{a}\\-\\-x[0-9]{4}") == std::vector<std::string>{"--x"});
  // A quantified character is not in every match: the literal stops before it.
  CHECK(literals("[a-z]{1,8}{a}ab?c[0-9]{4}") == std::vector<std::string>{"a"});
  CHECK(literals("[a-z]{1,8}{a}(?:ab|cd)[0-9]{4}").empty());
  CHECK(literals("[a-z]{1,8}{a}\\d{4}").empty());
  // Under (?i) the literal holds only what ASCII-caseless matching gets exactly.
  CHECK(literals("(?i)[a-z]{1,8}{a}tokens=[0-9]{4}") == std::vector<std::string>{"to"});
  CHECK(literals("(?i)[a-z]{1,8}{a}mật[0-9]{4}") == std::vector<std::string>{"m"});
  // Inside a counted repeat's braces the token is refused (found by the literal_prefilter fuzz
  // target: `8` read as a literal every match holds).
  CHECK_FALSE(PatternDialect::translate("[a-z]{2,{a}8}@x").errors.empty());
  CHECK_FALSE(PatternDialect::translate("[a-z]{{a}2,8}@x").errors.empty());
  // Without {a} a regex has none.
  CHECK(literals("[a-z0-9._%+-]{1,63}@[a-z0-9.-]{1,190}").empty());
}

TEST_CASE("a pattern with a boundary gets a Latin confirmer whose boundary takes ASCII non-word characters") {
  const TranslatedPattern t = PatternDialect::translate("(?i){b}mật{b}").pattern;
  CHECK(t.re2_latin == "(?m)(?:^|[\\x00-\\x2F\\x3A-\\x40\\x5B-\\x5E\\x60\\x7B-\\x7F])((?i)mật)"
                       "(?:[\\x00-\\x2F\\x3A-\\x40\\x5B-\\x5E\\x60\\x7B-\\x7F]|$)");
  CHECK(PatternDialect::translate("Số CCCD: (\\d{12}){b}").pattern.re2_latin ==
        "(?m)(Số CCCD: (\\d{12}))(?:[\\x00-\\x2F\\x3A-\\x40\\x5B-\\x5E\\x60\\x7B-\\x7F]|$)");
  CHECK(PatternDialect::translate("mật khẩu").pattern.re2_latin.empty());  // nothing to spell otherwise

  // On ASCII the Latin class and the Unicode one take the same characters.
  const re2::RE2 unicode(std::string(PatternDialect::kTrailingBoundary)), latin(std::string(PatternDialect::kTrailingLatinBoundary));
  REQUIRE(unicode.ok());
  REQUIRE(latin.ok());
  for (int c = 1; c < 0x80; ++c) {
    const std::string s(1, static_cast<char>(c));
    INFO(c);
    CHECK(re2::RE2::FullMatch(s, unicode) == re2::RE2::FullMatch(s, latin));
  }
}

TEST_CASE("Latin text is ASCII and characters RE2 calls letters or marks, nothing else") {
  for (const std::string s : {"", "Số CCCD 079203012345", "TUYỆT MẬT", "Ma\u0302\u0323t", "Ærøskøbing, ŁÓDŹ, Ǆ, ẞ",
                              "ĐƯỢC ưu tiên", "\u1e9e\u1eff"})
    CHECK(PatternDialect::is_latin_text(s));
  for (const std::string s : {"a×b", "1÷2", "«MẬT»", "số\u00a0079", "—", "\u2009", "дом", "中文", "\u02bc", "ª", "²",
                              "\U0001F600", "\xC3", "\xE1\xBA", "\xFF"})
    CHECK_FALSE(PatternDialect::is_latin_text(s));

  // Every character taken is a word character for RE2 (whose tables the Unicode boundary uses),
  // so the Latin boundary, which takes none of them, agrees with it there.
  const re2::RE2 word("[\\p{L}\\p{M}\\p{N}_]");
  size_t taken = 0;
  for (char32_t cp = 0x80; cp < 0x10000; ++cp) {
    if (cp >= 0xD800 && cp < 0xE000) continue;
    std::string s;
    if (cp < 0x800) {
      s += static_cast<char>(0xC0 | (cp >> 6));
    } else {
      s += static_cast<char>(0xE0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    }
    s += static_cast<char>(0x80 | (cp & 0x3F));
    if (!PatternDialect::is_latin_text(s)) continue;
    ++taken;
    INFO(static_cast<uint32_t>(cp));
    CHECK(re2::RE2::FullMatch(s, word));
  }
  CHECK(taken == (0x250 - 0xC0 - 2) + (0x370 - 0x300) + (0x1F00 - 0x1E00));
}

TEST_CASE("on Latin text the Latin confirmer finds every built-in pattern's matches with the same groups") {
  std::vector<Diagnostic> diags;
  size_t compared = 0;
  for (const RulePack& pack : builtin_packs(diags)) {
    for (const Rule& rule : pack.rules) {
      std::vector<std::string> texts;
      for (const auto& e : rule.match_examples) texts.push_back(e.text);
      for (const auto& e : rule.ignore_examples) texts.push_back(e.text);
      for (const auto& p : rule.patterns) {
        const TranslatedPattern t = PatternDialect::translate(p.text).pattern;
        if (t.re2_latin.empty()) continue;
        const re2::RE2 unicode(t.re2), latin(t.re2_latin);
        REQUIRE(unicode.ok());
        REQUIRE(latin.ok());
        for (const std::string& text : texts) {
          if (!PatternDialect::is_latin_text(text)) continue;
          INFO(rule.id << ": " << text);
          ++compared;
          // Leftmost-first over the whole text, one past each match's start, as a window is read.
          for (size_t pos = 0; pos <= text.size(); ++pos) {
            re2::StringPiece a[3], b[3];
            const bool ma = unicode.Match(text, pos, text.size(), re2::RE2::UNANCHORED, a, 3);
            const bool mb = latin.Match(text, pos, text.size(), re2::RE2::UNANCHORED, b, 3);
            REQUIRE(ma == mb);
            if (!ma) break;
            for (int g = 0; g < 3; ++g) CHECK((a[g].data() == b[g].data() && a[g].size() == b[g].size()));
            pos = static_cast<size_t>(a[0].data() - text.data());
          }
        }
      }
    }
  }
  CHECK(compared > 500);
}
