// libFuzzer target for the Latin confirmer (rules/pattern_dialect.h, TranslatedPattern::re2_latin
// and PatternDialect::is_latin_text; classifiers/scanner.cpp runs it on Latin windows instead of
// the pattern's Unicode confirmer). Input: one pattern with {b} on the first line, the text after
// it. Beyond "no crash, no abort, no hang", it checks:
//   - the Latin form compiles wherever the Unicode form does;
//   - is_latin_text takes no invalid UTF-8 and no character RE2 does not call a letter, mark or
//     digit: the one assumption that makes the two boundaries agree;
//   - on Latin text, the two confirmers find the same matches with the same groups, read as the
//     scanner reads a window: from a start inside the text to an end inside it, the text around
//     them still the context of ^ and $.
// Inputs are bounded at 128-byte patterns and 4 KiB texts.
#include <re2/re2.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "rules/lazy_regex.h"
#include "rules/pattern_dialect.h"

namespace {

using namespace promptwall;

void require(bool ok) {
  if (!ok) std::abort();
}

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Every match from `from` to `to`, leftmost-first, one past each match's start after it: every
// start a window can hold.
std::string matches(const re2::RE2& re, std::string_view text, size_t from, size_t to) {
  std::string out;
  const re2::StringPiece subject(text.data(), text.size());
  re2::StringPiece groups[3];
  for (size_t pos = from; pos <= to && re.Match(subject, pos, to, re2::RE2::UNANCHORED, groups, 3);) {
    for (const auto& g : groups)
      out += g.data() ? std::to_string(g.data() - text.data()) + "+" + std::to_string(g.size()) + " " : "- ";
    out += '\n';
    pos = static_cast<size_t>(groups[0].data() - text.data()) + 1;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const re2::RE2 word("[\\p{L}\\p{M}\\p{N}_]");
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  if (nl == std::string_view::npos || nl > 128 || size - nl - 1 > 4096) return 0;
  const std::string pattern(input.substr(0, nl));
  const std::string_view text = input.substr(nl + 1);

  if (PatternDialect::is_latin_text(text)) {
    // Valid UTF-8 whose every non-ASCII character is a word character for RE2.
    size_t i = 0;
    while (i < text.size()) {
      const auto b = static_cast<unsigned char>(text[i]);
      if (b < 0x80) {
        ++i;
        continue;
      }
      const size_t len = b >= 0xE0 ? 3 : 2;
      require(b >= 0xC2 && b < 0xF0 && i + len <= text.size());
      for (size_t k = 1; k < len; ++k) require(is_continuation(static_cast<unsigned char>(text[i + k])));
      require(re2::RE2::FullMatch(re2::StringPiece(text.data() + i, len), word));
      i += len;
    }
  }

  const DialectResult dialect = PatternDialect::translate(pattern);
  if (!dialect.errors.empty() || dialect.pattern.re2_latin.empty()) return 0;
  const std::unique_ptr<re2::RE2> unicode = LazyRegex::compile(dialect.pattern.re2);
  if (!unicode->ok()) return 0;  // the compiler refuses the pattern
  const std::unique_ptr<re2::RE2> latin = LazyRegex::compile(dialect.pattern.re2_latin);
  require(latin->ok());
  if (!PatternDialect::is_latin_text(text)) return 0;

  require(matches(*unicode, text, 0, text.size()) == matches(*latin, text, 0, text.size()));
  // A window inside the text, on character boundaries, as the scanner opens one around a hit.
  size_t from = text.size() / 3, to = text.size() - text.size() / 4;
  while (from > 0 && is_continuation(static_cast<unsigned char>(text[from]))) --from;
  while (to < text.size() && is_continuation(static_cast<unsigned char>(text[to]))) ++to;
  if (from < to) require(matches(*unicode, text, from, to) == matches(*latin, text, from, to));
  return 0;
}
