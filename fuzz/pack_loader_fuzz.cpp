// libFuzzer target for rules/pack_loader (YAML rule packs, strict schema) and, on what loads, the
// linter and compiler behind `promptwall rules lint`: a pack file comes from a rule author, who is
// outside the gateway like any client, and `serve` reloads whatever the configured directory holds.
// Input: the YAML text of one pack. Beyond "no crash, no abort, no hang, no uncaught exception", it
// checks what pack_loader.h and ruleset.h promise:
//   - the loader answers with values: no pack only when an error says why; every diagnostic names
//     the file it was given and a line inside the text (or 0), with a message;
//   - a loaded pack keeps the text exactly as read, and every rule, pattern and example it holds
//     names a line inside the text;
//   - a pack without errors holds rules whose ids have the documented shape and whose pinned
//     findings are substrings of their example texts;
//   - the linter and compiler (Hyperscan and RE2 both compile every pattern) report a pattern either
//     engine rejects as an error naming the file, never a crash; a set is built exactly when there
//     is no error.
// Inputs are bounded at 64 KiB. Compiling is bounded as RE2's own fuzzer bounds it: at most 4 rules
// and 8 patterns of at most 128 bytes each, with few repetition operators and no counted repeat
// over 99, so a run measures the code rather than Hyperscan's compile time on a pathological regex.
#include <re2/re2.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "classifiers/normalizer.h"
#include "rules/pack_loader.h"
#include "rules/rule_linter.h"
#include "rules/ruleset.h"

namespace {

using namespace promptwall;

constexpr std::string_view kFile = "fuzz.yaml";

void require(bool ok) {
  if (!ok) std::abort();
}

bool line_inside(const SourceLocation& where, int lines) {
  return where.file == kFile && where.line >= 0 && where.line <= lines;
}

// Whether compiling `p` is cheap enough to try on every input.
// Measured: Hyperscan takes seconds on a Unicode class under a counted repeat in UTF-8 mode
// (`\p{L}{9}` 4 s, `\p{L}{9}\p{L}{9}\p{L}{9}` 16 s; `.{1,99}` 0.4 s), so a pattern with `\p`/`\P`
// may have no counted repeat, and counted repeats stay at 20 or under; `{b}` (whose expansion
// holds Unicode classes) is fine on its own.
bool cheap_pattern(std::string_view p) {
  if (p.size() > 128) return false;
  const auto repeats = std::count_if(p.begin(), p.end(), [](char c) { return c == '*' || c == '+' || c == '{' || c == '?'; });
  if (repeats > 6) return false;
  size_t counted = 0, unicode_classes = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '{' && i + 1 < p.size() && p[i + 1] >= '0' && p[i + 1] <= '9') {
      ++counted;
      unsigned n = 0;
      for (size_t k = i + 1; k < p.size() && p[k] != '}'; ++k) {
        n = (p[k] >= '0' && p[k] <= '9') ? std::min(n * 10 + unsigned(p[k] - '0'), 1000u) : 0;
        if (n > 20) return false;
      }
    }
    if (p[i] == '\\' && i + 1 < p.size() && (p[i + 1] == 'p' || p[i + 1] == 'P')) ++unicode_classes;
  }
  return unicode_classes == 0 || (counted == 0 && unicode_classes <= 2);
}

bool cheap_to_compile(const RulePack& pack) {
  if (pack.rules.size() > 4) return false;
  size_t patterns = 0;
  for (const Rule& r : pack.rules) {
    patterns += r.patterns.size() + r.exclude_patterns.size();
    for (const auto& p : r.patterns)
      if (!cheap_pattern(p.text)) return false;
    for (const auto& p : r.exclude_patterns)
      if (!cheap_pattern(p)) return false;
  }
  return patterns <= 8;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  static const auto normalizer = std::make_shared<const Normalizer>();  // ICU tables, built once
  const std::string content(reinterpret_cast<const char*>(data), size);
  // Lines a diagnostic may name: yaml-cpp marks the end of the text as one line past the last.
  const int lines = static_cast<int>(std::count(content.begin(), content.end(), '\n')) + 2;

  const LoadedPack loaded = PackLoader::load_text(std::string(kFile), content);
  for (const Diagnostic& d : loaded.diagnostics) {
    require(line_inside(d.where, lines));
    require(!d.message.empty());
  }
  const bool errors = has_errors(loaded.diagnostics);
  if (!loaded.pack) {
    require(errors);
    return 0;
  }
  const RulePack& pack = *loaded.pack;
  require(pack.content == content && pack.file == kFile);
  for (const Rule& r : pack.rules) {
    require(line_inside(r.where, lines) && r.pack == pack.name);
    for (const auto& p : r.patterns) require(line_inside(p.where, lines));
    for (const auto* list : {&r.match_examples, &r.ignore_examples})
      for (const Example& ex : *list) require(line_inside(ex.where, lines));
  }
  if (errors) return 0;

  static const re2::RE2 id_shape("[a-z0-9]+(?:\\.[a-z0-9][a-z0-9-]*)+");
  for (const Rule& r : pack.rules) {
    require(re2::RE2::FullMatch(r.id, id_shape));
    for (const auto* list : {&r.match_examples, &r.ignore_examples})
      for (const Example& ex : *list) require(!ex.finding || ex.text.find(*ex.finding) != std::string::npos);
  }

  if (!cheap_to_compile(pack)) return 0;
  const std::vector<Diagnostic> lint = RuleLinter(normalizer).lint({pack});
  for (const Diagnostic& d : lint) {
    require(line_inside(d.where, lines));
    require(!d.message.empty());
  }
  const CompileResult compiled = RuleSetCompiler(normalizer).compile({pack});
  require((compiled.ruleset != nullptr) == !has_errors(compiled.diagnostics));
  for (const Diagnostic& d : compiled.diagnostics) require(line_inside(d.where, lines));
  if (compiled.ruleset) require(compiled.ruleset->rules().size() == pack.rules.size());
  return 0;
}
