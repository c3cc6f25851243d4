#include "rules/pattern_dialect.h"

#include <unicode/uniset.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <optional>

namespace promptwall {
namespace {

// A small scan of the pattern that understands escapes and character classes, enough to find the
// constructs the dialect forbids and to count capturing groups.
struct Scan {
  int capturing_groups = 0;
  std::vector<std::string> errors;
};

Scan scan(std::string_view p) {
  Scan out;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\') {
      if (i + 1 >= p.size()) {
        out.errors.push_back("pattern ends with a lone backslash");
        break;
      }
      char e = p[++i];
      if (!in_class && (e == 'b' || e == 'B'))
        out.errors.push_back("\\b and \\B are ASCII-only in both engines: use {b}");
      if (e >= '1' && e <= '9') out.errors.push_back("backreferences are not supported");
      if (e == 'p' || e == 'P') {
        // \p{...}: skip the braces so they are not taken for a repeat.
        if (i + 1 < p.size() && p[i + 1] == '{') {
          size_t close = p.find('}', i + 1);
          if (close != std::string_view::npos) i = close;
        }
      }
      if (e == 'x' && i + 1 < p.size() && p[i + 1] == '{') {
        size_t close = p.find('}', i + 1);
        if (close != std::string_view::npos) i = close;
      }
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      continue;
    }
    switch (c) {
      case '[':
        in_class = true;
        if (i + 1 < p.size() && p[i + 1] == '^') ++i;
        if (i + 1 < p.size() && p[i + 1] == ']') ++i;  // a leading ']' is a literal
        break;
      case '(':
        if (i + 1 < p.size() && p[i + 1] == '?') {
          std::string_view rest = p.substr(i + 2);
          if (rest.starts_with("=") || rest.starts_with("!") || rest.starts_with("<=") || rest.starts_with("<!"))
            out.errors.push_back("lookaround is not supported");
          else if (rest.starts_with("P<") || rest.starts_with("<"))
            out.errors.push_back("named groups are not supported: use one plain (...) group for the finding");
          else if (rest.starts_with(">"))
            out.errors.push_back("atomic groups are not supported");
          else if (rest.starts_with("#"))
            out.errors.push_back("comments are not supported");
          else {
            // Inline flags: only i is allowed (multi-line is always on, dot-all always off).
            size_t j = 0;
            while (j < rest.size() && rest[j] != ')' && rest[j] != ':') {
              if (rest[j] != 'i' && rest[j] != '-')
                out.errors.push_back(std::string("inline flag '") + rest[j] + "' is not supported (only (?i))");
              ++j;
            }
          }
        } else {
          ++out.capturing_groups;
        }
        break;
      case '*':
      case '+':
        out.errors.push_back(std::string("unbounded repeat '") + c + "': write a bounded {m,n}");
        break;
      case '{': {
        size_t close = p.find('}', i);
        if (close != std::string_view::npos) {
          std::string_view body = p.substr(i + 1, close - i - 1);
          if (!body.empty() && body.back() == ',')
            out.errors.push_back("unbounded repeat '{" + std::string(body) + "}': write a bounded {m,n}");
          i = close;
        }
        break;
      }
      default:
        break;
    }
  }
  if (in_class) out.errors.push_back("unterminated character class");
  if (out.capturing_groups > 1)
    out.errors.push_back("at most one capturing group (the finding); use (?:...) for the others");
  return out;
}

// Whether `core` is plain text (see TranslatedPattern::plain_text). Non-ASCII bytes must form
// valid UTF-8, or RE2 would refuse the pattern.
bool is_plain_text(std::string_view core) {
  constexpr std::string_view kSpecial = ".^$|()[]{}*+?\\";
  bool after_atom = false;
  for (size_t i = 0; i < core.size();) {
    const auto c = static_cast<unsigned char>(core[i]);
    if (c == '?') {
      if (!after_atom) return false;
      after_atom = false;
      ++i;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= core.size()) return false;
      const auto e = static_cast<unsigned char>(core[i + 1]);
      if (e >= 0x80 || !std::ispunct(e)) return false;  // \d, \p{..}, \x.. are classes or codes
      i += 2;
    } else if (c < 0x80) {
      if (kSpecial.find(static_cast<char>(c)) != std::string_view::npos || c < 0x20) return false;
      ++i;
    } else {
      const size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
      if (n == 0 || c > 0xF4 || i + n > core.size()) return false;
      for (size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(core[i + k]) & 0xC0) != 0x80) return false;
      const auto c1 = static_cast<unsigned char>(core[i + 1]);
      // Overlong forms, UTF-16 surrogates and code points past U+10FFFF.
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) || (c == 0xF0 && c1 < 0x90) ||
          (c == 0xF4 && c1 >= 0x90))
        return false;
      i += n;
    }
    after_atom = true;
  }
  return !core.empty();
}

// One character of a plain-text core: its UTF-8 bytes (an escape resolved) and whether a '?'
// makes it optional.
struct PlainChar {
  std::string bytes;
  bool optional = false;
};

// The literal character at s[i] (a character that is not syntax, or escaped ASCII punctuation)
// into `ch.bytes`, and where the next one starts; nullopt when s[i] is syntax, a control
// character or a class escape (\d, \pL, \x..), or a UTF-8 sequence runs past the end.
std::optional<size_t> literal_char(std::string_view s, size_t i, PlainChar& ch) {
  constexpr std::string_view kSpecial = ".^$|()[]{}*+?\\";
  const auto c = static_cast<unsigned char>(s[i]);
  if (c == '\\') {
    if (i + 1 >= s.size()) return std::nullopt;
    const auto e = static_cast<unsigned char>(s[i + 1]);
    if (e >= 0x80 || !std::ispunct(e)) return std::nullopt;
    ch.bytes.assign(1, static_cast<char>(e));
    return i + 2;
  }
  if (c < 0x80) {
    if (c < 0x20 || kSpecial.find(static_cast<char>(c)) != std::string_view::npos) return std::nullopt;
    ch.bytes.assign(1, static_cast<char>(c));
    return i + 1;
  }
  const size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
  if (i + n > s.size()) return std::nullopt;
  ch.bytes.assign(s.substr(i, n));
  return i + n;
}

// Requires is_plain_text(core): every character is a literal one, or a '?' after one.
std::vector<PlainChar> plain_chars(std::string_view core) {
  std::vector<PlainChar> out;
  for (size_t i = 0; i < core.size();) {
    if (core[i] == '?') {
      out.back().optional = true;
      ++i;
      continue;
    }
    PlainChar ch;
    const std::optional<size_t> next = literal_char(core, i, ch);
    if (!next) break;  // unreachable for plain text
    out.push_back(std::move(ch));
    i = *next;
  }
  return out;
}

// The most UTF-8 bytes a character of the pattern can match. Under (?i) RE2 and Hyperscan fold
// Unicode case: `k` also matches U+212A (3 bytes) and `s` U+017F (2), and a letter outside ASCII
// may have a case form longer than itself (`ß` and U+1E9E, `в` and U+1C80). ICU's case closure
// holds every form either engine folds to (and some more, which only widens a window).
size_t widest_match(const PlainChar& ch, bool caseless) {
  if (!caseless) return ch.bytes.size();
  if (ch.bytes.size() == 1) {
    const char c = ch.bytes[0];
    return c == 'k' || c == 'K' ? 3 : c == 's' || c == 'S' ? 2 : 1;
  }
  int32_t i = 0;
  UChar32 c = 0;
  U8_NEXT(ch.bytes.data(), i, static_cast<int32_t>(ch.bytes.size()), c);
  icu::UnicodeSet forms(c, c);
  forms.closeOver(USET_CASE_INSENSITIVE);
  size_t widest = ch.bytes.size();
  for (int32_t r = 0; r < forms.getRangeCount(); ++r)
    widest = std::max<size_t>(widest, U8_LENGTH(forms.getRangeEnd(r)));
  return widest;
}

// Whether a character may stand in a literal: under (?i), an ASCII-caseless literal matches it
// exactly only when its case has no form outside ASCII.
bool literal_safe(const PlainChar& ch, bool caseless) {
  if (!caseless) return true;
  if (ch.bytes.size() != 1) return false;
  const char c = ch.bytes[0];
  return c != 'k' && c != 'K' && c != 's' && c != 'S';
}

void plain_prefilter(std::string_view core, bool caseless, bool leading_boundary, bool trailing_boundary,
                     TranslatedPattern& t) {
  const std::vector<PlainChar> chars = plain_chars(core);
  // A boundary takes one code point of up to 4 bytes, or none at a line's edge.
  uint32_t width = (leading_boundary ? 4 : 0) + (trailing_boundary ? 4 : 0);
  size_t optional = 0;
  bool all_safe = true;
  for (const auto& ch : chars) {
    width += static_cast<uint32_t>(widest_match(ch, caseless));
    if (ch.optional) ++optional;
    else ++t.plain_mandatory;
    all_safe = all_safe && literal_safe(ch, caseless);
  }
  t.plain_max_width = width;
  t.literals_caseless = caseless;

  std::vector<std::string> literals;
  if (all_safe && optional < 8 && (size_t{1} << optional) <= PatternDialect::kMaxLiteralSpellings) {
    // Every spelling: bit k of `mask` keeps the k-th optional character.
    for (size_t mask = 0; mask < (size_t{1} << optional); ++mask) {
      std::string s;
      size_t k = 0;
      for (const auto& ch : chars) {
        if (ch.optional && !(mask >> k++ & 1)) continue;
        s += ch.bytes;
      }
      literals.push_back(std::move(s));
    }
  } else {
    // The longest run of mandatory characters a literal can hold; the later one on a tie (the
    // end of a name is the more specific part: "Sao Mai" over "Dự án").
    std::string best, run;
    for (const auto& ch : chars) {
      if (!ch.optional && literal_safe(ch, caseless)) {
        run += ch.bytes;
        if (run.size() >= best.size()) best = run;
      } else {
        run.clear();
      }
    }
    literals.push_back(std::move(best));
  }
  std::sort(literals.begin(), literals.end());
  literals.erase(std::unique(literals.begin(), literals.end()), literals.end());
  for (const auto& l : literals)
    if (l.size() < PatternDialect::kMinLiteralBytes) return;
  t.literals = std::move(literals);
}

// Calls `on_syntax(i, c)` for each character of `regex` that is regex syntax: not escaped and
// not inside a character class. Stops early when it returns false. Returns whether `regex` ends
// inside a class (an unterminated '[').
template <class OnSyntax>
bool walk_syntax(std::string_view regex, OnSyntax&& on_syntax) {
  bool in_class = false;
  for (size_t i = 0; i < regex.size(); ++i) {
    const char c = regex[i];
    if (c == '\\') {
      ++i;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      continue;
    }
    if (c == '[') {
      in_class = true;
      if (i + 1 < regex.size() && regex[i + 1] == '^') ++i;
      if (i + 1 < regex.size() && regex[i + 1] == ']') ++i;
      continue;
    }
    if (!on_syntax(i, c)) break;
  }
  return in_class;
}

// The suffix of a core from the anchor token on, as a regex of its own: the token cut `core` into
// `before` and `after`; the groups still open at the cut are closed in `after`, so one (?:
// reopens each. Allowed only where every match of the whole core ends with a match of that
// suffix: no alternative and no repeat around the cut, and no inline flag before it (the leading
// (?i) is the caller's). An empty result means it is not allowed; `error` says why.
std::string anchored_suffix(std::string_view before, std::string_view after, std::string& error) {
  struct Group {
    bool plain;        // ( or (?:
    bool alternative;  // a '|' at this group's own level
  };
  std::vector<Group> open;
  bool top_alternative = false;
  bool refused = false;
  bool in_repeat = false;  // between the braces of a counted repeat: `[a-z]{2,{a}8}`
  const bool in_class = walk_syntax(before, [&](size_t i, char c) {
    if (c == '{') {
      in_repeat = true;
    } else if (c == '}') {
      in_repeat = false;
    } else if (c == '(') {
      const std::string_view rest = before.substr(i + 1);
      if (rest.starts_with("?") && !rest.starts_with("?:")) {
        error = "{a} may not follow an inline flag or sit inside a group other than (...) or (?:...)";
        refused = true;
        return false;
      }
      open.push_back(Group{true, false});
    } else if (c == ')') {
      if (!open.empty()) open.pop_back();
    } else if (c == '|') {
      (open.empty() ? top_alternative : open.back().alternative) = true;
    }
    return true;
  });
  if (refused) return {};
  if (in_class) {
    error = "{a} may not sit inside a character class";
    return {};
  }
  if (in_repeat) {
    error = "{a} may not sit inside a counted repeat's braces";
    return {};
  }
  // Walk `after` to where each open group closes: no '|' at its level, no repeat after it.
  int depth = 0;  // relative to the innermost open group
  size_t closed = 0;
  walk_syntax(after, [&](size_t i, char c) {
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (depth > 0) {
        --depth;
        return true;
      }
      // An enclosing group closes here.
      const char next = i + 1 < after.size() ? after[i + 1] : '\0';
      if (closed < open.size() && (next == '?' || next == '*' || next == '+' || next == '{')) {
        error = "{a} may not sit inside a repeated or optional group";
        refused = true;
        return false;
      }
      ++closed;
    } else if (c == '|' && depth == 0) {
      if (closed < open.size()) open[open.size() - 1 - closed].alternative = true;
      else top_alternative = true;
    }
    return true;
  });
  if (refused) return {};
  if (top_alternative || std::any_of(open.begin(), open.end(), [](const Group& g) { return g.alternative; })) {
    error = "{a} may not sit inside an alternative";
    return {};
  }
  if (after.find_first_not_of(')') == std::string_view::npos) {
    error = "{a} must be followed by what Hyperscan looks for";
    return {};
  }
  std::string suffix;
  for (size_t k = 0; k < open.size(); ++k) suffix += "(?:";
  suffix += after;
  return suffix;
}

// The characters right after {a} that every match holds, as a literal: up to the first one that is
// syntax, quantified, or (under (?i)) not matched exactly by an ASCII-caseless literal. {a} sits
// only where what follows it is mandatory (anchored_suffix), so they are.
std::string anchor_literal(std::string_view after, bool caseless) {
  constexpr std::string_view kQuantifiers = "?*+{";
  std::string out;
  size_t i = 0;
  while (i < after.size()) {
    PlainChar ch;
    const std::optional<size_t> next = literal_char(after, i, ch);
    if (!next) break;
    if (*next < after.size() && kQuantifiers.find(after[*next]) != std::string_view::npos) break;
    if (!literal_safe(ch, caseless)) break;
    out += ch.bytes;
    i = *next;
  }
  return out;
}

// Whether `prefilter` reads ASCII only (TranslatedPattern::ascii_prefilter).
bool reads_ascii_only(std::string_view prefilter) {
  if (prefilter.starts_with(PatternDialect::kLeadingPrefilterBoundary))
    prefilter.remove_prefix(PatternDialect::kLeadingPrefilterBoundary.size());
  if (prefilter.ends_with(PatternDialect::kTrailingPrefilterBoundary))
    prefilter.remove_suffix(PatternDialect::kTrailingPrefilterBoundary.size());
  if (prefilter.find("(?i") != std::string_view::npos) return false;
  bool in_class = false;
  for (size_t i = 0; i < prefilter.size(); ++i) {
    const auto c = static_cast<unsigned char>(prefilter[i]);
    if (c >= 0x80) return false;
    if (c == '\\') {
      if (i + 1 >= prefilter.size()) return false;
      const auto e = static_cast<unsigned char>(prefilter[++i]);
      // \d \s \w are ASCII in Hyperscan without UCP; \t \n \r and escaped punctuation are bytes.
      // \D \S \W, \p, \x... may match other code points.
      if (!(e == 'd' || e == 's' || e == 'w' || e == 't' || e == 'n' || e == 'r' || (e < 0x80 && std::ispunct(e))))
        return false;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      continue;
    }
    if (c == '[') {
      if (i + 1 < prefilter.size() && prefilter[i + 1] == '^') return false;
      in_class = true;
      if (i + 1 < prefilter.size() && prefilter[i + 1] == ']') ++i;
    } else if (c == '.') {
      return false;
    }
  }
  return !in_class;
}

}  // namespace

DialectResult PatternDialect::translate(std::string_view pattern) {
  DialectResult out;
  TranslatedPattern& t = out.pattern;
  std::string_view core = pattern;

  // {b} may lead (after an optional (?i)) and may end the pattern; nowhere else.
  std::string flags;
  if (core.starts_with("(?i)")) {
    flags = "(?i)";
    core.remove_prefix(4);
  }
  if (core.starts_with(kBoundaryToken)) {
    t.leading_boundary = true;
    core.remove_prefix(kBoundaryToken.size());
  }
  if (core.ends_with(kBoundaryToken)) {
    t.trailing_boundary = true;
    core.remove_suffix(kBoundaryToken.size());
  }
  if (core.find(kBoundaryToken) != std::string_view::npos)
    out.errors.push_back("{b} may only start or end a pattern");
  if (core.empty()) out.errors.push_back("empty pattern");

  // {a}: Hyperscan reads from there on; RE2 and every width check see the pattern without it.
  std::string unanchored;
  std::string anchored;
  std::string anchor_run;  // the literal characters right after {a}
  if (const size_t a = core.find(kAnchorToken); a != std::string_view::npos) {
    const std::string_view before = core.substr(0, a), after = core.substr(a + kAnchorToken.size());
    if (after.find(kAnchorToken) != std::string_view::npos) out.errors.push_back("{a} may appear only once");
    std::string error;
    anchored = anchored_suffix(before, after, error);
    if (anchored.empty()) out.errors.push_back(error);
    else anchor_run = anchor_literal(after, !flags.empty());
    unanchored = std::string(before) + std::string(after);
    core = unanchored;
  }

  Scan s = scan(core);
  out.errors.insert(out.errors.end(), s.errors.begin(), s.errors.end());
  t.has_capture = s.capturing_groups == 1;
  t.plain_text = s.errors.empty() && is_plain_text(core);

  const std::string hs_lead = t.leading_boundary ? std::string(kLeadingPrefilterBoundary) : "";
  const std::string hs_trail = t.trailing_boundary ? std::string(kTrailingPrefilterBoundary) : "";
  // (?i) stays inside the core so the boundary classes are unaffected by it.
  t.hyperscan = hs_lead + "(?:" + flags + std::string(core) + ")" + hs_trail;
  auto confirmer = [&](std::string_view leading, std::string_view trailing) {
    return "(?m)" + std::string(t.leading_boundary ? leading : "") + "(" + flags + std::string(core) + ")" +
           std::string(t.trailing_boundary ? trailing : "");
  };
  t.re2 = confirmer(kLeadingBoundary, kTrailingBoundary);
  if (t.leading_boundary || t.trailing_boundary) t.re2_latin = confirmer(kLeadingLatinBoundary, kTrailingLatinBoundary);
  t.core = flags + std::string(core);
  t.prefilter = anchored.empty() ? t.hyperscan : "(?:" + flags + anchored + ")" + hs_trail;
  t.ascii_prefilter = out.errors.empty() && reads_ascii_only(t.prefilter);
  if (t.plain_text) {
    plain_prefilter(core, !flags.empty(), t.leading_boundary, t.trailing_boundary, t);
  } else if (!anchor_run.empty() && out.errors.empty()) {
    t.literals = {anchor_run};
    t.literals_caseless = !flags.empty();
  }
  return out;
}

bool PatternDialect::is_latin_text(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // Eight ASCII bytes at a time: windows are mostly ASCII.
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned char b = s[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80) return false;
    const unsigned char c = s[i + 1];
    if (b == 0xC3) {
      if (c == 0x97 || c == 0xB7) return false;  // × ÷
      i += 2;
    } else if ((b >= 0xC4 && b <= 0xC8) || (b == 0xC9 && c <= 0x8F) || b == 0xCC || (b == 0xCD && c <= 0xAF)) {
      i += 2;  // U+0100..U+024F, U+0300..U+036F
    } else if (b == 0xE1 && c >= 0xB8 && c <= 0xBB && i + 2 < n && (s[i + 2] & 0xC0) == 0x80) {
      i += 3;  // U+1E00..U+1EFF
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace promptwall
