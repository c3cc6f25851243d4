// PatternDialect: turns a pattern as rule authors write it (docs/rule-format.md, "The pattern
// dialect") into the two forms the engines compile, and rejects what either engine would get
// wrong. Pure string work: no engine is called here.
//
// Invariants of a translation:
//  - `hyperscan` matches (as a prefilter) wherever `re2` does (and sometimes where it does not),
//    ending at the same byte or at most one code point later (a trailing boundary character).
//  - In `re2`, group 1 is the match without any boundary characters; when the author wrote a
//    capturing group it is group 2. The finding is group 2 if present, else group 1.
//  - `prefilter` is what the Hyperscan database holds: `hyperscan`, or with an anchor token {a}
//    the part of it from {a} on. Every match of `hyperscan` ends where a match of `prefilter`
//    ends, so a window of `hyperscan`'s maximum width back from each `prefilter` match still holds
//    every match RE2 confirms; Hyperscan starts reading at a literal instead of a character class.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace promptwall {

struct TranslatedPattern {
  std::string hyperscan;  // compiled with HS_FLAG_UTF8 | HS_FLAG_MULTILINE
  std::string re2;        // compiled with UTF-8, multi-line ((?m) is part of the text)
  // `re2` with boundary classes that take ASCII non-word characters only (kLeadingLatinBoundary,
  // kTrailingLatinBoundary), or empty when the pattern has no {b}. On Latin text (every non-ASCII
  // character a letter or mark, is_latin_text) the two classes take the same characters, so it
  // matches exactly where `re2` does, with the same groups. Why: the Unicode classes are ~99 % of
  // `re2`'s program and of its DFA's byte classes; the scanner confirms mostly Latin windows
  // (numbers in Vietnamese prose, the folded view), several times faster with this one.
  std::string re2_latin;
  std::string core;       // the author's pattern without its boundary and anchor tokens (for width checks)
  std::string prefilter;  // what Hyperscan scans for: `hyperscan`, or its suffix from {a} on
  // `prefilter` reads ASCII only: ASCII literals and positive classes, \d \s \w, and the dialect's
  // boundary classes only as its first and last part; no (?i), '.', negated class or Unicode
  // class in between. Hyperscan may then scan it byte by byte (without UTF-8 mode): it matches
  // the same ASCII, and a boundary class takes a multi-byte character's first byte instead of the
  // whole character, so a match can end up to three bytes early, never elsewhere (the scanner
  // moves each end to the character's end). Byte mode makes the identifier patterns cheaper.
  bool ascii_prefilter = false;
  bool has_capture = false;
  // The core is plain text: letters, digits, unescaped non-special characters and escaped ASCII
  // punctuation, each possibly made optional by one '?' (`du ?an`, `SM\-2025`), after an optional
  // (?i). RE2 accepts every such pattern, so the compiler need not compile it to check it.
  bool plain_text = false;
  bool leading_boundary = false;
  bool trailing_boundary = false;
  // `literals`: the prefilter as Hyperscan literals (hs_compile_lit_multi) instead of `prefilter`:
  // they compile in a fraction of a regex's time and scan at memory speed. Every match of the
  // pattern contains one of them, byte for byte, or ASCII-caseless when `literals_caseless` (the
  // pattern has (?i)). Empty: the pattern goes into the regex database.
  //  - Plain text: each spelling of the core (every optional character present or absent) when
  //    every character can stand in a literal and there are at most kMaxLiteralSpellings; else
  //    the longest run of mandatory characters that can. Under (?i) only ASCII characters other
  //    than k and s can: RE2 folds Unicode case, so `(?i)k` also matches U+212A and `(?i)s`
  //    U+017F, which an ASCII-caseless literal misses. None when one would be shorter than
  //    kMinLiteralBytes (too common in text to be a useful prefilter).
  //  - A regex with {a}: the literal characters right after the token, up to the first one that
  //    is syntax, quantified or (under (?i)) not such a character, however short: its author put
  //    {a} before the rarest literal (`{a}@` in an e-mail address).
  // For plain text only (else 0):
  //  - `plain_max_width`: the most bytes a match of `hyperscan` can take, boundary characters
  //    included, counted without Hyperscan's analysis (never less than that analysis says; a
  //    little more under (?i), where a letter's other case may be longer in UTF-8);
  //  - `plain_mandatory`: how many characters of the core are not optional (0: it can be empty).
  std::vector<std::string> literals;
  bool literals_caseless = false;
  uint32_t plain_max_width = 0;
  uint32_t plain_mandatory = 0;
};

struct DialectResult {
  TranslatedPattern pattern;
  std::vector<std::string> errors;  // empty when the pattern is in the dialect
};

class PatternDialect {
 public:
  // The boundary token and what it expands to. A word character is a letter, mark, digit or '_'
  // of any script.
  static constexpr std::string_view kBoundaryToken = "{b}";
  static constexpr std::string_view kLeadingBoundary = "(?:^|[^\\p{L}\\p{M}\\p{N}_])";
  static constexpr std::string_view kTrailingBoundary = "(?:[^\\p{L}\\p{M}\\p{N}_]|$)";
  // Hyperscan only prefilters, so it gets a cheaper superset: every character that is not a
  // Unicode word character is also not an ASCII one. The Unicode classes multiply Hyperscan's
  // compile time, database size and scan time several times over; RE2 still decides exactly.
  static constexpr std::string_view kLeadingPrefilterBoundary = "(?:^|[^A-Za-z0-9_])";
  static constexpr std::string_view kTrailingPrefilterBoundary = "(?:[^A-Za-z0-9_]|$)";
  // The boundary of TranslatedPattern::re2_latin: ASCII characters that are no word characters.
  static constexpr std::string_view kLeadingLatinBoundary = "(?:^|[\\x00-\\x2F\\x3A-\\x40\\x5B-\\x5E\\x60\\x7B-\\x7F])";
  static constexpr std::string_view kTrailingLatinBoundary = "(?:[\\x00-\\x2F\\x3A-\\x40\\x5B-\\x5E\\x60\\x7B-\\x7F]|$)";
  // Where Hyperscan starts reading (`[a-z0-9._%+-]{0,63}{a}@...`): the part before it is left to
  // RE2. At most once, in the pattern's top-level sequence: inside no class, no repeated group
  // and no alternative, with no inline flag before it but a leading (?i).
  static constexpr std::string_view kAnchorToken = "{a}";
  // Plain-text prefilters (TranslatedPattern::literals).
  static constexpr size_t kMinLiteralBytes = 4;
  static constexpr size_t kMaxLiteralSpellings = 16;

  static DialectResult translate(std::string_view pattern);

  // Whether every non-ASCII character of `text` is one that every Unicode version makes a letter
  // or a combining mark: U+00C0..U+024F but × and ÷, U+0300..U+036F, U+1E00..U+1EFF (Vietnamese
  // and most European text). There `re2_latin` and `re2` match alike. False for anything else,
  // invalid UTF-8 included.
  static bool is_latin_text(std::string_view text);
};

}  // namespace promptwall
