#include "classifiers/scanner.h"

#include "rules/pattern_dialect.h"

#include <hs/hs.h>
#include <re2/re2.h>

#include <algorithm>
#include <stdexcept>

namespace promptwall {
namespace {

// Below kMinFindingConfidence (finding.h) a candidate is dropped: context words can lower the
// confidence of a rule's match, place weights move it either way.
constexpr double kBoostStep = 0.15;
constexpr double kPenaltyStep = 0.35;
// Segments up to this size leave their view buffers to the next scan. The views and their maps
// take up to ~10 bytes per byte of Vietnamese text, so a worker's Scanner keeps ~10 MB at most;
// a larger segment (a whole document) allocates afresh, as every scan did before.
constexpr size_t kKeptViewBytes = size_t{1} << 20;

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

struct HitSink {
  std::vector<std::pair<uint32_t, uint32_t>>* hits;  // (expression id, end offset)
};

int on_hit(unsigned int id, unsigned long long /*from*/, unsigned long long to, unsigned int /*flags*/,
           void* ctx) {
  static_cast<HitSink*>(ctx)->hits->emplace_back(id, static_cast<uint32_t>(to));
  return 0;
}

void sort_by_span(std::vector<Finding>& findings) {
  std::sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    if (a.span.begin != b.span.begin) return a.span.begin < b.span.begin;
    if (a.span.end != b.span.end) return a.span.end < b.span.end;
    return a.rule_id < b.rule_id;
  });
}

// One item, one finding: rules of one category over the same bytes (a number and its labelled
// form, a stamp seen as a line and as a heading) merge into the strongest of them (action, then
// confidence), over the union of their spans.
std::vector<Finding> merge_same_category(std::vector<Finding> findings) {
  std::sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return a.category != b.category ? a.category < b.category : a.span.begin < b.span.begin;
  });
  std::vector<Finding> items;
  items.reserve(findings.size());
  for (auto& x : findings) {
    if (!items.empty() && items.back().category == x.category && x.span.begin < items.back().span.end) {
      Finding& m = items.back();
      const Span span{m.span.begin, std::max(m.span.end, x.span.end)};
      if (x.action > m.action || (x.action == m.action && x.confidence > m.confidence)) m = std::move(x);
      m.span = span;
      continue;
    }
    items.push_back(std::move(x));
  }
  return items;
}

// A finding strictly inside a longer one of another category is the same characters read a
// second way (the last twelve digits of a card read as a landline): the longer reading is the
// item. Equal spans stay (a ten-digit number may be a tax code and a phone number), and so does
// a nested finding whose action is stronger, so it still decides what happens.
std::vector<Finding> drop_nested_readings(std::vector<Finding> items) {
  std::sort(items.begin(), items.end(), [](const Finding& a, const Finding& b) {
    return a.span.begin != b.span.begin ? a.span.begin < b.span.begin : a.span.end > b.span.end;
  });
  std::vector<Finding> outer;
  outer.reserve(items.size());
  Span container{0, 0};
  Action container_action = Action::log;
  for (auto& x : items) {
    const bool inside = x.span.end <= container.end && !(x.span == container);
    if (inside && x.action <= container_action) continue;
    if (x.span.end > container.end) {
      container = x.span;
      container_action = x.action;
    }
    outer.push_back(std::move(x));
  }
  sort_by_span(outer);
  return outer;
}

bool is_word_byte(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80; }

// Whether folded `word` occurs in folded `text` as a whole word.
bool contains_word(std::string_view text, std::string_view word) {
  if (word.empty()) return false;
  for (size_t pos = text.find(word); pos != std::string_view::npos; pos = text.find(word, pos + 1)) {
    bool left = pos == 0 || !is_word_byte(static_cast<unsigned char>(text[pos - 1]));
    size_t after = pos + word.size();
    bool right = after >= text.size() || !is_word_byte(static_cast<unsigned char>(text[after]));
    if (left && right) return true;
  }
  return false;
}

}  // namespace

Scanner::Scanner(std::shared_ptr<const RuleSet> rules) : rules_(std::move(rules)) {
  if (rules_->scratch_prototype() && hs_clone_scratch(rules_->scratch_prototype(), &scratch_) != HS_SUCCESS)
    throw std::runtime_error("cannot allocate Hyperscan scratch space");
}

Scanner::~Scanner() {
  if (scratch_) hs_free_scratch(scratch_);
}

ScanResult Scanner::scan_rules(std::string_view text, const PlaceMap* places) {
  ScanResult result;
  rules_->normalizer().normalize(text, rules_->views(), views_);
  const TextViews& views = views_;
  result.invalid_utf8_at = views.invalid_utf8_at;
  StructureLookup structure(rules_->normalizer(), text);
  for (size_t v = 0; v < kViewKinds; ++v) {
    const auto kind = static_cast<ViewKind>(v);
    if (rules_->database(kind) && views.view(kind) && !views.view(kind)->text.empty())
      confirm(views, kind, text, structure, places, result.findings);
  }

  // Merge findings of one rule over the same original bytes (several views, several patterns).
  auto& f = result.findings;
  std::sort(f.begin(), f.end(), [](const Finding& a, const Finding& b) {
    return a.rule_index != b.rule_index ? a.rule_index < b.rule_index : a.span.begin < b.span.begin;
  });
  std::vector<Finding> merged;
  merged.reserve(f.size());
  for (auto& x : f) {
    if (!merged.empty() && merged.back().rule_index == x.rule_index && x.span.begin < merged.back().span.end) {
      Finding& m = merged.back();
      m.span.end = std::max(m.span.end, x.span.end);
      m.confidence = std::max(m.confidence, x.confidence);
      m.view = std::min(m.view, x.view);
      continue;
    }
    merged.push_back(std::move(x));
  }
  result.findings = std::move(merged);
  sort_by_span(result.findings);
  // A segment of a MB or more (a whole document) would leave its views' memory held by this
  // Scanner for the rest of its life; what a chat prompt grows to is kept.
  if (text.size() > kKeptViewBytes) views_ = TextViews{};
  return result;
}

ScanResult Scanner::scan(std::string_view text, const PlaceMap* places) {
  ScanResult result = scan_rules(text, places);
  result.findings = drop_nested_readings(merge_same_category(std::move(result.findings)));
  return result;
}

void Scanner::confirm(const TextViews& views, ViewKind kind, std::string_view original, StructureLookup& structure,
                      const PlaceMap* places, std::vector<Finding>& out) {
  const RuleSet::ViewDatabase& db = *rules_->database(kind);
  const std::string& text = views.view(kind)->text;
  const auto size = static_cast<uint32_t>(text.size());
  auto scan = [&](const hs_database* database, std::vector<std::pair<uint32_t, uint32_t>>& hits) {
    hits.clear();
    HitSink sink{&hits};
    if (database && hs_scan(database, text.data(), size, 0, scratch_, on_hit, &sink) != HS_SUCCESS)
      throw std::runtime_error("Hyperscan scan failed");
  };
  scan(db.db, hits_);
  scan(db.literals, literal_hits_);
  if (hits_.empty() && literal_hits_.empty()) return;

  // Each hit opens a window that holds every match RE2 can confirm there. Windows start and end
  // on character boundaries.
  auto char_start = [&](uint32_t p) {
    while (p > 0 && p < size && is_continuation(static_cast<unsigned char>(text[p]))) --p;
    return p;
  };
  auto char_end = [&](uint32_t p) {
    while (p < size && is_continuation(static_cast<unsigned char>(text[p]))) ++p;
    return p;
  };
  auto width = [&](uint32_t slot) {
    const PatternRef ref = db.refs[slot];
    return rules_->rules()[ref.rule].patterns[ref.pattern].max_width;
  };
  auto& windows = windows_;
  windows.clear();
  // A regex prefilter's match ends where the pattern's does (a prefilter scanned byte by byte,
  // rules/pattern_dialect.h ascii_prefilter, may end on a character's first byte: moved past it),
  // so the pattern starts at most max_width before.
  for (const auto& [slot, to] : hits_) {
    const uint32_t e = char_end(to), w = width(slot);
    windows.push_back({slot, char_start(e > w ? e - w : 0), e});
  }
  // A literal lies inside the pattern's match, which may reach max_width either side of it.
  for (const auto& [id, to] : literal_hits_) {
    const LiteralRef lit = db.literal_refs[id];
    const uint32_t w = width(lit.slot);
    const auto e = static_cast<uint32_t>(std::min<uint64_t>(uint64_t{to} - lit.length + w, size));
    windows.push_back({lit.slot, char_start(to > w ? to - w : 0), char_end(e)});
  }

  // Group by pattern and merge overlapping windows, so RE2 reads each stretch of text once per
  // pattern (Hyperscan reports each possible end of a match).
  std::sort(windows.begin(), windows.end());
  re2::StringPiece subject(text.data(), text.size());
  re2::StringPiece groups[3];
  size_t i = 0;
  while (i < windows.size()) {
    const uint32_t slot = windows[i][0];
    const PatternRef ref = db.refs[slot];
    const CompiledPattern& pattern = rules_->rules()[ref.rule].patterns[ref.pattern];
    auto flush = [&](uint32_t from, uint32_t to) {
      const int ngroups = pattern.has_capture ? 3 : 2;
      // A window of Latin text (numbers in Vietnamese prose, most of the folded view) goes to the
      // confirmer with ASCII boundary classes: the same matches from a program a fiftieth the size.
      const bool latin = !pattern.confirm_latin.pattern().empty() &&
                         PatternDialect::is_latin_text(std::string_view(text).substr(from, to - from));
      const re2::RE2& confirmer = latin ? *pattern.confirm_latin : *pattern.confirm;
      size_t pos = from;
      while (pos < to && confirmer.Match(subject, pos, to, re2::RE2::UNANCHORED, groups, ngroups)) {
        re2::StringPiece core = groups[1];
        re2::StringPiece finding = pattern.has_capture && groups[2].data() ? groups[2] : core;
        const auto fb = static_cast<uint32_t>(finding.data() - text.data());
        if (!finding.empty())
          evaluate(views, kind, ref.rule, Span{fb, fb + static_cast<uint32_t>(finding.size())}, original, structure,
                   places, out);
        // Continue right after the finding: trailing context the pattern consumed (a boundary
        // character, a separator after a finding group) may be where the next match starts.
        size_t next = static_cast<size_t>(finding.data() - text.data()) + finding.size();
        if (next <= pos) {
          next = static_cast<size_t>(groups[0].data() - text.data()) + 1;
          while (next < to && is_continuation(static_cast<unsigned char>(text[next]))) ++next;
        }
        pos = next;
      }
    };
    uint32_t ws = windows[i][1], we = windows[i][2];
    for (++i; i < windows.size() && windows[i][0] == slot; ++i) {
      if (windows[i][1] <= we) {
        we = std::max(we, windows[i][2]);
      } else {
        flush(ws, we);
        ws = windows[i][1];
        we = windows[i][2];
      }
    }
    flush(ws, we);
  }
}

void Scanner::evaluate(const TextViews& views, ViewKind kind, uint32_t rule_index, Span view_span,
                       std::string_view original, StructureLookup& structure, const PlaceMap* places,
                       std::vector<Finding>& out) {
  const CompiledRule& rule = rules_->rules()[rule_index];
  const Span span = views.to_original(kind, view_span);
  if (span.end <= span.begin) return;
  // Validators see the candidate as written (NFC) when the raw view found it, else the original.
  const std::string_view candidate =
      kind == ViewKind::raw ? std::string_view(views.view(kind)->text).substr(view_span.begin, view_span.end - view_span.begin)
                            : original.substr(span.begin, span.end - span.begin);
  if (rule.validator) {
    const bool ascii = std::all_of(candidate.begin(), candidate.end(), [](char c) { return (c & 0x80) == 0; });
    if (!(ascii ? rule.validator(candidate) : rule.validator(validators::with_ascii_separators(candidate)))) return;
  }
  if (rule.rule.min_entropy && validators::shannon_entropy(candidate) < *rule.rule.min_entropy) return;
  for (const auto& v : rule.rule.exclude_values)
    if (candidate == v) return;
  for (const auto& x : rule.excludes)
    if (re2::RE2::PartialMatch(re2::StringPiece(candidate.data(), candidate.size()), *x)) return;
  double confidence = rule.rule.confidence;
  if (rule.rule.context) {
    const std::optional<StructureField> field = structure.field_at(span);
    auto c = context_confidence(rule, original, span, field ? &*field : nullptr,
                                field ? structure.label(*field) : StructureReader::Label{});
    if (!c) return;
    confidence = *c;
  }
  // Where the finding sits in its document: a degree word beside the document number is a stamp
  // in the page header and a word in a chat prompt.
  if (places && !rule.rule.places.empty()) {
    const PlaceTags tags = places->tags_at(span.begin);
    for (const PlaceWeight& w : rule.rule.places)
      if (tags & place_bit(w.tag)) confidence += w.weight;
    confidence = std::clamp(confidence, 0.0, 1.0);
  }
  if (confidence < kMinFindingConfidence) return;
  Finding f;
  f.rule_index = rule_index;
  f.rule_id = rule.rule.id;
  f.category = rule.rule.category;
  f.severity = rule.rule.severity;
  f.action = rule.rule.action;
  f.confidence = confidence;
  f.span = span;
  f.view = kind;
  out.push_back(std::move(f));
}

std::optional<double> Scanner::context_confidence(const CompiledRule& rule, std::string_view original, Span span,
                                                  const StructureField* field, const StructureReader::Label& label) {
  const ContextSpec& ctx = *rule.rule.context;
  // A table cell or a JSON/XML value is read on its own: the window stops at its edges, so the
  // next column's header or the neighbouring key is not this value's label.
  const size_t lo = field && field->bounded ? field->value.begin : 0;
  const size_t hi = field && field->bounded ? field->value.end : original.size();
  // Step `window` code points out from the finding, stopping at line breaks when asked.
  size_t b = span.begin;
  for (int n = 0; n < ctx.window && b > lo; ++n) {
    size_t p = b - 1;
    while (p > lo && is_continuation(static_cast<unsigned char>(original[p]))) --p;
    if (ctx.same_line && original[p] == '\n') break;
    b = p;
  }
  size_t e = span.end;
  for (int n = 0; n < ctx.window && e < hi; ++n) {
    if (ctx.same_line && original[e] == '\n') break;
    size_t p = e + 1;
    while (p < hi && is_continuation(static_cast<unsigned char>(original[p]))) ++p;
    e = p;
  }
  const Normalizer& norm = rules_->normalizer();
  std::string& before = context_before_;
  before.clear();
  // The header or key reads as if it stood right before the value, however far away it is. The
  // own key decides: the parent key is read only when the own key holds none of this rule's
  // required, boosting or penalising words. What holds a value names a group (`server`,
  // `nhanVien`), what keys it names the value itself; `<server><firmware>2.4.1.10</firmware>` is
  // a firmware build, and `hoChieu:` over `so: C1234567` still lends its "ho chieu".
  if (!label.key.empty() || !label.parent.empty()) {
    auto in_key = [&](const std::string& w) { return contains_word(label.key, w); };
    const bool key_speaks = std::any_of(rule.require.begin(), rule.require.end(), in_key) ||
                            std::any_of(rule.boost.begin(), rule.boost.end(), in_key) ||
                            std::any_of(rule.penalize.begin(), rule.penalize.end(), in_key);
    if (!key_speaks && !label.parent.empty()) before.append(label.parent).append(" ");
    before.append(label.key).append("\n");
  }
  before.append(norm.fold_text(original.substr(b, span.begin - b), context_fold_));
  // The scratch's text itself: nothing folds into it again before the words are read.
  const std::string& after = norm.fold_text(original.substr(span.end, e - span.end), context_fold_);
  const bool look_before = ctx.direction != ContextSpec::Direction::after;
  const bool look_after = ctx.direction != ContextSpec::Direction::before;
  auto near = [&](const std::string& w) {
    return (look_before && contains_word(before, w)) || (look_after && contains_word(after, w));
  };

  if (!rule.require.empty() && std::none_of(rule.require.begin(), rule.require.end(), near)) return std::nullopt;
  double confidence = rule.rule.confidence;
  for (const auto& w : rule.boost)
    if (near(w)) confidence += kBoostStep;
  for (const auto& w : rule.penalize)
    if (near(w)) confidence -= kPenaltyStep;
  return std::min(confidence, 1.0);
}

}  // namespace promptwall
