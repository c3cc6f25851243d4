// libFuzzer target for the literal prefilters (rules/pattern_dialect.h, TranslatedPattern::literals;
// classifiers/scanner.cpp, the windows either side of a literal hit): a pattern Hyperscan finds by
// a literal inside its match must be found exactly where RE2, reading the whole text, finds it.
// Input: one pattern on the first line (a term, or a regex with {a} before literal characters), the
// text after it. Beyond "no crash, no abort, no hang", it checks:
//   - the pattern compiles into the literal database (else the input is not about this and is
//     skipped: the regex database is the scanner target's);
//   - Scanner::scan_rules over the text reports exactly the matches of the pattern's RE2 form
//     (the confirmer) taken leftmost-first over the whole text, continuing after each finding as
//     the scanner does: none lost (a literal chosen that a match lacks, a window too narrow, (?i)
//     folding a letter the literal does not), none added, none moved.
// The text must be valid NFC UTF-8 (the raw view is then the text itself, so offsets compare
// directly); inputs are bounded at 64-byte patterns and 4 KiB texts.
#include <re2/re2.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "classifiers/normalizer.h"
#include "classifiers/scanner.h"
#include "rules/pack_loader.h"
#include "rules/pattern_dialect.h"
#include "rules/ruleset.h"

namespace {

using namespace promptwall;

void require(bool ok) {
  if (!ok) std::abort();
}

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto normalizer = std::make_shared<const Normalizer>();  // ICU tables, built once
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  if (nl == std::string_view::npos || nl > 64 || size - nl - 1 > 4096) return 0;
  const std::string pattern(input.substr(0, nl));
  const std::string text(input.substr(nl + 1));

  const DialectResult dialect = PatternDialect::translate(pattern);
  if (!dialect.errors.empty() || dialect.pattern.literals.empty()) return 0;
  const TextViews views = normalizer->normalize(text, view_bit(ViewKind::raw));
  if (views.invalid_utf8_at || views.view(ViewKind::raw)->text != text) return 0;

  std::string quoted;
  for (char c : pattern) {
    if (static_cast<unsigned char>(c) < 0x20) return 0;  // not in a YAML scalar
    quoted += c == '\'' ? std::string("''") : std::string(1, c);
  }
  const std::string yaml = "pack: fuzz\nversion: '1'\nrules:\n  - id: fuzz.term\n    description: d\n"
                           "    category: custom_term\n    severity: high\n    action: block\n    views: [raw]\n"
                           "    patterns: ['" + quoted + "']\n    message: {vi: 'a', en: 'b'}\n"
                           "    examples: {match: ['x'], ignore: ['y']}\n";
  const LoadedPack loaded = PackLoader::load_text("fuzz.yaml", yaml);
  if (!loaded.pack) return 0;
  const CompileResult compiled = RuleSetCompiler(normalizer).compile({*loaded.pack});
  if (!compiled.ruleset) return 0;  // too wide, can be empty: the compiler's refusals
  const RuleSet& set = *compiled.ruleset;
  require(set.database(ViewKind::raw) && set.database(ViewKind::raw)->literals);

  // What RE2 finds over the whole text, continuing as the scanner does after each finding.
  const CompiledPattern& cp = set.rules()[0].patterns[0];
  const re2::RE2& re = *cp.confirm;
  require(re.ok());
  std::multiset<std::pair<uint32_t, uint32_t>> expected;
  const re2::StringPiece subject(text.data(), text.size());
  re2::StringPiece groups[3];
  const int ngroups = cp.has_capture ? 3 : 2;
  size_t pos = 0;
  while (pos < text.size() && re.Match(subject, pos, text.size(), re2::RE2::UNANCHORED, groups, ngroups)) {
    const re2::StringPiece finding = cp.has_capture && groups[2].data() ? groups[2] : groups[1];
    const auto begin = static_cast<uint32_t>(finding.data() - text.data());
    if (!finding.empty()) expected.emplace(begin, begin + static_cast<uint32_t>(finding.size()));
    size_t next = begin + finding.size();
    if (next <= pos) {
      next = static_cast<size_t>(groups[0].data() - text.data()) + 1;
      while (next < text.size() && is_continuation(static_cast<unsigned char>(text[next]))) ++next;
    }
    pos = next;
  }

  Scanner scanner(compiled.ruleset);
  std::multiset<std::pair<uint32_t, uint32_t>> found;
  for (const Finding& f : scanner.scan_rules(text).findings) found.emplace(f.span.begin, f.span.end);
  // scan_rules merges one rule's overlapping findings; leftmost-first matches never overlap.
  require(found == expected);
  return 0;
}
