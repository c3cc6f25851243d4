// libFuzzer target for the whole Scanner (classifiers/scanner: normaliser views, Hyperscan, RE2
// confirmation, validators, context, structure) over the built-in packs, and the Redactor on what
// it finds: the path every request segment takes, so its bytes are whatever a client sends.
// Input: one segment's bytes. The built-in packs are compiled once (a few seconds), as `serve` does.
// Beyond "no crash, no sanitizer report", it checks what scanner.h, finding.h and redactor.h promise:
//   - every finding's span lies inside the input with begin < end; its rule index and id name the
//     same rule of the set; its confidence is in [0.5, 1]; findings are ordered by span begin, and
//     equal spans by rule id; `invalid_utf8_at` is the first invalid byte exactly when there is one
//     (a validator written apart from ICU); scan_rules() holds the same guarantees;
//   - the redacted text is the input with each cluster of overlapping findings replaced once, in
//     the style of the finding that starts first (the longest on a tie), everything between the
//     clusters byte for byte; a mask replacement keeps no letter or digit of what it hides; and
//     when the input is valid UTF-8 the redacted text is too (the gateway rewrites JSON with it).
// Inputs are bounded at 16 KiB: a segment of a chat request; longer ones only slow the search.
#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "classifiers/normalizer.h"
#include "classifiers/redactor.h"
#include "classifiers/scanner.h"
#include "rules/pack_loader.h"
#include "rules/ruleset.h"
#include "fuzz/utf8_reference.h"

namespace {

using namespace promptwall;

void require(bool ok) {
  if (!ok) std::abort();
}

using promptwall::fuzz::first_invalid_utf8;

bool has_alnum(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const auto len = static_cast<int32_t>(s.size());
  for (int32_t i = 0; i < len;) {
    UChar32 c;
    U8_NEXT(p, i, len, c);
    if (c >= 0 && u_isalnum(c)) return true;
  }
  return false;
}

const RuleSet& builtin_rules() {
  static const std::shared_ptr<const RuleSet> rules = [] {
    std::vector<Diagnostic> diagnostics;
    auto packs = builtin_packs(diagnostics);
    require(!has_errors(diagnostics));
    CompileResult compiled = RuleSetCompiler(std::make_shared<const Normalizer>()).compile(std::move(packs));
    require(compiled.ruleset != nullptr);
    return compiled.ruleset;
  }();
  return *rules;
}

void check_findings(const ScanResult& result, std::string_view text, const RuleSet& rules) {
  const auto bad = first_invalid_utf8(text);
  require(result.invalid_utf8_at.has_value() == bad.has_value());
  if (bad) require(*result.invalid_utf8_at == *bad);
  const Finding* previous = nullptr;
  for (const Finding& f : result.findings) {
    require(f.span.begin < f.span.end && f.span.end <= text.size());
    require(f.rule_index < rules.rules().size() && rules.rules()[f.rule_index].rule.id == f.rule_id);
    require(f.confidence >= kMinFindingConfidence && f.confidence <= 1.0);
    if (previous) {
      require(previous->span.begin <= f.span.begin);
      if (previous->span == f.span) require(previous->rule_id <= f.rule_id);
    }
    previous = &f;
  }
}

}  // namespace

// Compiling the built-in packs takes seconds (longer than libFuzzer's per-input timeout on a busy
// machine): done here, before the first input. The replay runner calls no initializer; there the
// first input compiles them.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  builtin_rules();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16 * 1024) return 0;
  const RuleSet& rules = builtin_rules();
  static Scanner scanner(std::shared_ptr<const RuleSet>(std::shared_ptr<const RuleSet>{}, &rules));
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const ScanResult result = scanner.scan(text);
  check_findings(result, text, rules);
  check_findings(scanner.scan_rules(text), text, rules);

  // The redaction, against clusters computed here: sorted by begin, the longest first on a tie.
  std::vector<const Finding*> order;
  for (const Finding& f : result.findings) order.push_back(&f);
  std::stable_sort(order.begin(), order.end(), [](const Finding* a, const Finding* b) {
    return a->span.begin != b->span.begin ? a->span.begin < b->span.begin : a->span.end > b->span.end;
  });
  Redactor reference(rules);  // same label numbering as the redactor under test: same calls in order
  std::string expected;
  size_t pos = 0;
  for (size_t i = 0; i < order.size();) {
    const Finding& lead = *order[i];
    Span cluster = lead.span;
    for (++i; i < order.size() && order[i]->span.begin < cluster.end; ++i) cluster.end = std::max(cluster.end, order[i]->span.end);
    require(cluster.begin >= pos);
    expected.append(text.substr(pos, cluster.begin - pos));
    const RedactStyle& style = rules.rules()[lead.rule_index].rule.redact;
    const std::string_view hidden = text.substr(cluster.begin, cluster.end - cluster.begin);
    const std::string replacement = reference.replacement(style, hidden);
    if (style.kind == RedactStyle::Kind::mask) require(!has_alnum(replacement));
    expected.append(replacement);
    pos = cluster.end;
  }
  expected.append(text.substr(pos));
  const std::string redacted = Redactor(rules).redact(text, result.findings);
  // Two findings of different rules over the same bytes leave the lead to the sort, which
  // redactor.h does not pin down; then only what lies outside the findings is compared.
  bool tie = false;
  for (size_t i = 1; i < order.size(); ++i)
    tie |= order[i]->span == order[i - 1]->span && order[i]->rule_index != order[i - 1]->rule_index;
  if (!tie) require(redacted == expected);
  if (!order.empty()) {
    const Span first = order.front()->span;
    require(redacted.compare(0, first.begin, text.substr(0, first.begin)) == 0);
    require(redacted.size() >= text.size() - pos &&
            redacted.compare(redacted.size() - (text.size() - pos), text.size() - pos, text.substr(pos)) == 0);
  }
  if (!result.invalid_utf8_at) require(!first_invalid_utf8(redacted).has_value());
  return 0;
}
