#include "rules/rule_linter.h"

#include <hs/hs.h>
#include <re2/filtered_re2.h>
#include <re2/re2.h>

#include <algorithm>
#include <map>
#include <cstdio>

#include "classifiers/finding.h"
#include "rules/pattern_dialect.h"
#include "rules/ruleset.h"

namespace promptwall {
namespace {

// Minimum bytes a pattern must match: shorter ones fire on ordinary text everywhere.
constexpr unsigned kMinPatternWidth = 3;

std::string weight_text(double w) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", w);
  return buf;
}

// Upper-case or non-ASCII letters written literally (outside escapes) can never match a folded
// view, whose text is lower-case ASCII letters.
bool has_unfoldable_literal(std::string_view p) {
  bool caseless = p.starts_with("(?i)");
  for (size_t i = 0; i < p.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(p[i]);
    if (c == '\\') {
      if (i + 1 < p.size() && (p[i + 1] == 'p' || p[i + 1] == 'P' || p[i + 1] == 'x') && i + 2 < p.size() &&
          p[i + 2] == '{') {
        size_t close = p.find('}', i);
        if (close != std::string_view::npos) i = close;
        continue;
      }
      ++i;
      continue;
    }
    if (c >= 0x80) return true;
    if (!caseless && c >= 'A' && c <= 'Z') return true;
  }
  return false;
}

// Shortest literal Hyperscan can prefilter on: with none, a pattern runs its automaton on every
// byte of every view it is in, and so slows the whole database, not just its own rule.
constexpr int kMinPrefilterLiteral = 3;

// Whether every match of `core` (the author's pattern without its boundaries) must contain a
// literal of kMinPrefilterLiteral bytes or more, or one of a few such literals. RE2's prefilter
// analysis (FilteredRE2) answers it: with no literal seen in a text, the pattern can still match
// that text exactly when it has no such literal. Small classes count as their few strings
// (`(?i)mật`, `[0O]ne`), large ones (`\d`, `[A-Z]`) as anything.
bool has_prefilter_literal(const std::string& core) {
  re2::RE2::Options o;
  o.set_log_errors(false);
  o.set_encoding(re2::RE2::Options::EncodingUTF8);
  re2::FilteredRE2 filter(kMinPrefilterLiteral);
  int id = 0;
  if (filter.Add("(?m)" + core, o, &id) != re2::RE2::NoError) return true;  // the compiler reports it
  std::vector<std::string> literals;
  filter.Compile(&literals);
  std::vector<int> passing;
  filter.AllPotentials({}, &passing);
  return passing.empty();
}

Diagnostic at(const SourceLocation& where, const std::string& id, std::string msg,
              Diagnostic::Level level = Diagnostic::Level::error) {
  return Diagnostic{level, where, id, std::move(msg)};
}

}  // namespace

std::vector<Diagnostic> RuleLinter::lint(const std::vector<RulePack>& packs) const {
  std::vector<Diagnostic> out;
  for (const auto& pack : packs) {
    if (pack.rules.empty()) out.push_back(at({pack.file, 1}, "", "the pack has no rules"));
    for (const auto& rule : pack.rules) {
      if (rule.match_examples.empty())
        out.push_back(at(rule.where, rule.id, "no 'match' examples: every rule needs examples it must find"));
      if (rule.ignore_examples.empty())
        out.push_back(at(rule.where, rule.id, "no 'ignore' examples: every rule needs examples it must not find"));
      if (rule.message_vi.empty() || rule.message_en.empty())
        out.push_back(at(rule.where, rule.id, "message.vi and message.en must both be non-empty"));
      if (rule.context && (rule.context->window < 1 || rule.context->window > 400))
        out.push_back(at(rule.where, rule.id, "context.window must be between 1 and 400"));
      if (rule.context && rule.context->require.empty() && rule.context->boost.empty() &&
          rule.context->penalize.empty())
        out.push_back(at(rule.where, rule.id, "context lists no words"));
      if (!rule.places.empty()) {
        const auto placed = [](const Example& ex) { return ex.places != 0; };
        if (std::none_of(rule.match_examples.begin(), rule.match_examples.end(), placed) &&
            std::none_of(rule.ignore_examples.begin(), rule.ignore_examples.end(), placed))
          out.push_back(at(rule.where, rule.id,
                           "'places' weighs where a match sits but no example has a 'place': "
                           "the weights are untested"));
      }
      if (!rule.context) {
        // Without context words only the place weights can lift a rule's base confidence.
        double best = rule.confidence;
        for (const PlaceWeight& w : rule.places) best += std::max(w.weight, 0.0);
        if (best < kMinFindingConfidence)
          out.push_back(at(rule.where, rule.id,
                           "confidence " + weight_text(rule.confidence) +
                               (rule.places.empty() ? "" : " with every positive place weight") +
                               " stays below 0.5: the rule can never report a finding"));
      }
      const bool folded_views = rule.views & ~view_bit(ViewKind::raw);
      for (const auto& p : rule.patterns) {
        DialectResult t = PatternDialect::translate(p.text);
        if (!t.errors.empty()) continue;  // reported by the compiler below
        if (folded_views && has_unfoldable_literal(p.text))
          out.push_back(at(p.where, rule.id,
                           "pattern '" + p.text +
                               "' has upper-case or non-ASCII letters but the rule matches folded views, "
                               "whose text is lower-case ASCII: it can never match there"));
        if (!has_prefilter_literal(t.pattern.core))
          out.push_back(at(p.where, rule.id,
                           "pattern '" + p.text + "' has no literal of " + std::to_string(kMinPrefilterLiteral) +
                               " bytes or more that every match contains: Hyperscan cannot prefilter it, so it "
                               "slows the whole database (anchor it on a fixed word where the rule allows)",
                           Diagnostic::Level::warning));
        hs_expr_info_t* info = nullptr;
        hs_compile_error_t* err = nullptr;
        // Measured on the core: a boundary may be a line edge, which is zero bytes wide.
        if (hs_expression_info(t.pattern.core.c_str(), HS_FLAG_UTF8 | HS_FLAG_MULTILINE, &info, &err) ==
            HS_SUCCESS) {
          if (info->min_width < kMinPatternWidth)
            out.push_back(at(p.where, rule.id,
                             "pattern '" + p.text + "' can match just " + std::to_string(info->min_width) +
                                 " byte(s): too broad, it would fire all over ordinary text"));
          free(info);
        } else {
          hs_free_compile_error(err);
        }
      }
    }
  }
  // One NAME, one numbering: a `label` rule numbers per request and a `pseudonym` rule per
  // requester, so the two would hand out the same [NAME-1] for two values in one request (and the
  // reply would be restored with the wrong one).
  std::map<std::string, const Rule*, std::less<>> pseudonym_names, label_names;
  for (const auto& pack : packs)
    for (const auto& rule : pack.rules) {
      if (rule.redact.kind == RedactStyle::Kind::pseudonym) pseudonym_names.emplace(rule.redact.label, &rule);
      if (rule.redact.kind == RedactStyle::Kind::label) label_names.emplace(rule.redact.label, &rule);
    }
  for (const auto& [name, rule] : pseudonym_names)
    if (auto other = label_names.find(name); other != label_names.end())
      out.push_back(at(rule->where, rule->id,
                       "redact label '" + name + "' is a pseudonym here but a plain label in rule '" +
                           other->second->id + "': both would number [" + name +
                           "-n] for different values; give one of them another label"));
  // Everything the compiler checks: both engines, widths, duplicate ids, validators, excludes.
  RuleSetCompiler compiler(normalizer_);
  CompileResult compiled = compiler.compile(packs);
  out.insert(out.end(), compiled.diagnostics.begin(), compiled.diagnostics.end());
  return out;
}

}  // namespace promptwall
