#include <hs/hs.h>
#include <re2/re2.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <optional>
#include <set>

#include "rules/database_cache.h"
#include "rules/pattern_dialect.h"
#include "rules/ruleset.h"
#include "rules/sha256.h"

namespace promptwall {
namespace {

constexpr unsigned kHyperscanFlags = HS_FLAG_UTF8 | HS_FLAG_MULTILINE;
// A prefilter that reads ASCII only is scanned byte by byte: the same matches, ending at most a
// character's first byte early, which the scanner moves to the character's end (pattern_dialect.h,
// ascii_prefilter). Hyperscan's UTF-8 mode turns every class into a multi-byte automaton; the
// identifier patterns are cheaper without it. Widths are still measured in UTF-8 mode.
unsigned hyperscan_flags(const TranslatedPattern& t) {
  return t.ascii_prefilter ? kHyperscanFlags & ~HS_FLAG_UTF8 : kHyperscanFlags;
}
// The confirmer's window is sized from this; wider patterns are a lint error.
constexpr uint32_t kMaxPatternWidth = 512;
// RE2's memory budget for a plain-text pattern's confirmer. With RE2's default (8 MB) each one
// held ~300 KB once compiled (its one-pass analysis sizes itself from the budget) and ~430 KB once
// it had matched: 4 GB for a 10,000-term list whose examples `serve` runs at every start. A
// literal between two boundary classes needs far less; were its DFA ever to run out, RE2 falls
// back to its NFA with the same result.
constexpr int64_t kPlainTextConfirmerMemory = int64_t{1} << 20;

Diagnostic error_at(const SourceLocation& where, const std::string& rule_id, std::string message) {
  return Diagnostic{Diagnostic::Level::error, where, rule_id, std::move(message)};
}

re2::RE2::Options re2_options() {
  re2::RE2::Options o;
  o.set_log_errors(false);
  o.set_encoding(re2::RE2::Options::EncodingUTF8);
  return o;
}

// Folds a context word the way the folded view folds text, so comparisons ignore case and marks.
std::string fold_word(const Normalizer& normalizer, const std::string& word) {
  TextViews v = normalizer.normalize(word, view_bit(ViewKind::folded));
  std::string s = v.view(ViewKind::folded)->text;
  while (!s.empty() && s.back() == ' ') s.pop_back();
  size_t start = s.find_first_not_of(' ');
  return start == std::string::npos ? std::string() : s.substr(start);
}

}  // namespace

RuleSet::~RuleSet() {
  for (auto& d : databases_)
    for (hs_database* db : {d.db, d.literals})
      if (db) hs_free_database(db);
  if (scratch_) hs_free_scratch(scratch_);
}

size_t RuleSet::database_bytes() const {
  size_t total = 0;
  for (const auto& d : databases_)
    for (const hs_database* db : {d.db, d.literals}) {
      size_t n = 0;
      if (db && hs_database_size(db, &n) == HS_SUCCESS) total += n;
    }
  return total;
}

RuleSetCompiler::RuleSetCompiler(std::shared_ptr<const Normalizer> normalizer)
    : normalizer_(std::move(normalizer)) {}

std::string RuleSetCompiler::default_cache_dir() {
  if (const char* d = std::getenv("PROMPTWALL_CACHE_DIR")) return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::string(d) + "/promptwall";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/promptwall";
  return {};
}

CompileResult RuleSetCompiler::compile(std::vector<RulePack> packs, const CompileOptions& options) const {
  CompileResult result;
  auto& diags = result.diagnostics;
  std::shared_ptr<RuleSet> set(new RuleSet());
  set->normalizer_ = normalizer_;

  std::sort(packs.begin(), packs.end(), [](const RulePack& a, const RulePack& b) { return a.name < b.name; });
  Sha256 version;
  for (const auto& p : packs) version.field(p.name).field(p.version).field(p.content);
  set->version_ = version.hex_digest();
  set->bundle_ = options.bundle;

  // Per view: the Hyperscan expressions (with their slots as ids) and the literals; the slots'
  // PatternRefs and the literals' LiteralRefs go straight into the set.
  std::array<std::vector<std::string>, kViewKinds> expressions;
  std::array<std::vector<unsigned>, kViewKinds> expression_flags;  // kHyperscanFlags, or byte mode
  std::array<std::vector<unsigned>, kViewKinds> expression_ids;
  std::array<std::vector<std::string>, kViewKinds> literals;
  std::array<std::vector<unsigned>, kViewKinds> literal_flags;  // 0 or HS_FLAG_CASELESS
  // Every pattern in the dialect, in order: its widths come from the cache entry, or from
  // Hyperscan's analysis when there is none.
  struct PendingPattern {
    uint32_t rule, pattern;
    TranslatedPattern translated;
    SourceLocation where;
    std::string text;
  };
  std::vector<PendingPattern> pending;
  std::set<std::string> ids;
  for (const auto& pack : packs) {
    for (const auto& rule : pack.rules) {
      if (!ids.insert(rule.id).second) {
        diags.push_back(error_at(rule.where, rule.id, "duplicate rule id"));
        continue;
      }
      CompiledRule cr;
      cr.rule = rule;
      if (!rule.validate.empty()) {
        cr.validator = validators::find(rule.validate);
        if (!cr.validator) diags.push_back(error_at(rule.where, rule.id, "unknown validator '" + rule.validate + "'"));
      }
      if (rule.patterns.empty()) diags.push_back(error_at(rule.where, rule.id, "a rule needs at least one pattern"));
      if (rule.views == 0) diags.push_back(error_at(rule.where, rule.id, "a rule needs at least one view"));
      const uint32_t rule_index = static_cast<uint32_t>(set->rules_.size());
      for (const auto& source : rule.patterns) {
        DialectResult t = PatternDialect::translate(source.text);
        for (const auto& e : t.errors) diags.push_back(error_at(source.where, rule.id, "pattern '" + source.text + "': " + e));
        if (!t.errors.empty()) continue;
        CompiledPattern cp;
        cp.has_capture = t.pattern.has_capture;
        const uint32_t pattern_index = static_cast<uint32_t>(cr.patterns.size());
        cr.patterns.push_back(std::move(cp));
        for (size_t v = 0; v < kViewKinds; ++v) {
          if (!(rule.views & view_bit(static_cast<ViewKind>(v)))) continue;
          RuleSet::ViewDatabase& db = set->databases_[v];
          const auto slot = static_cast<uint32_t>(db.refs.size());
          db.refs.push_back(PatternRef{rule_index, pattern_index});
          if (!t.pattern.literals.empty()) {
            for (const auto& l : t.pattern.literals) {
              literals[v].push_back(l);
              literal_flags[v].push_back(t.pattern.literals_caseless ? HS_FLAG_CASELESS : 0);
              db.literal_refs.push_back(LiteralRef{slot, static_cast<uint32_t>(l.size())});
            }
            continue;
          }
          // The database holds the prefilter (from {a} on); widths come from the whole pattern.
          expressions[v].push_back(t.pattern.prefilter);
          expression_flags[v].push_back(hyperscan_flags(t.pattern));
          expression_ids[v].push_back(slot);
        }
        pending.push_back(PendingPattern{rule_index, pattern_index, std::move(t.pattern), source.where, source.text});
      }
      for (const auto& x : rule.exclude_patterns) {
        auto re = std::make_unique<re2::RE2>(x, re2_options());
        if (!re->ok()) diags.push_back(error_at(rule.where, rule.id, "exclude pattern '" + x + "': " + re->error()));
        else cr.excludes.push_back(std::move(re));
      }
      if (rule.context) {
        for (const auto& w : rule.context->require) cr.require.push_back(fold_word(*normalizer_, w));
        for (const auto& w : rule.context->boost) cr.boost.push_back(fold_word(*normalizer_, w));
        for (const auto& w : rule.context->penalize) cr.penalize.push_back(fold_word(*normalizer_, w));
      }
      set->rules_.push_back(std::move(cr));
    }
  }
  if (has_errors(diags)) return result;

  // The cache key covers everything the databases and the widths depend on, and every confirmer:
  // an entry exists only for patterns that passed every check below, so a hit skips them.
  Sha256 key;
  key.field(DatabaseCache::engine_fingerprint()).field(std::to_string(kHyperscanFlags));
  for (size_t v = 0; v < kViewKinds; ++v) {
    key.field(std::to_string(v));
    for (size_t i = 0; i < expressions[v].size(); ++i)
      key.field(expressions[v][i])
          .field(std::to_string(expression_flags[v][i]))
          .field(std::to_string(expression_ids[v][i]));
    key.field("literals");
    for (size_t i = 0; i < literals[v].size(); ++i)
      key.field(literals[v][i]).field(std::to_string(literal_flags[v][i]));
  }
  key.field("confirmers");
  for (const auto& p : pending) key.field(p.translated.re2);
  const std::string cache_key = key.hex_digest();
  ViewMask wanted = 0, wanted_literals = 0;
  for (size_t v = 0; v < kViewKinds; ++v) {
    if (!expressions[v].empty()) wanted |= view_bit(static_cast<ViewKind>(v));
    if (!literals[v].empty()) wanted_literals |= view_bit(static_cast<ViewKind>(v));
  }
  set->views_ = wanted | wanted_literals;
  auto pattern_of = [&](const PendingPattern& p) -> CompiledPattern& { return set->rules_[p.rule].patterns[p.pattern]; };

  std::optional<DatabaseCache> cache;
  if (!options.cache_dir.empty()) cache.emplace(options.cache_dir);
  if (cache) {
    if (auto entry = cache->load(cache_key, wanted, wanted_literals, pending.size())) {
      for (size_t v = 0; v < kViewKinds; ++v) {
        set->databases_[v].db = entry->databases[v];
        set->databases_[v].literals = entry->literals[v];
      }
      for (size_t i = 0; i < pending.size(); ++i) {
        CompiledPattern& cp = pattern_of(pending[i]);
        cp.max_width = entry->max_widths[i];
        const bool plain = pending[i].translated.plain_text;
        cp.confirm = LazyRegex(std::move(pending[i].translated.re2), plain ? kPlainTextConfirmerMemory : 0);
        cp.confirm_latin = LazyRegex(std::move(pending[i].translated.re2_latin), plain ? kPlainTextConfirmerMemory : 0);
      }
      set->from_cache_ = true;
    }
  }
  if (!set->from_cache_) {
    std::vector<uint32_t> max_widths;
    max_widths.reserve(pending.size());
    for (auto& p : pending) {
      const std::string quoted = "pattern '" + p.text + "': ";
      const std::string& rule_id = set->rules_[p.rule].rule.id;
      CompiledPattern& cp = pattern_of(p);
      if (p.translated.plain_text) {
        // RE2 accepts plain text whatever it says: compiled on its first hit.
        cp.confirm = LazyRegex(p.translated.re2, kPlainTextConfirmerMemory);
        cp.confirm_latin = LazyRegex(p.translated.re2_latin, kPlainTextConfirmerMemory);
      } else {
        std::unique_ptr<re2::RE2> re = LazyRegex::compile(p.translated.re2);
        if (!re->ok()) {
          diags.push_back(error_at(p.where, rule_id, quoted + "RE2 rejects it: " + re->error()));
          continue;
        }
        cp.confirm = LazyRegex(std::move(re));
        // RE2 took the pattern with the Unicode classes, so it takes the ASCII ones: compiled on
        // the first ASCII window, like plain text.
        cp.confirm_latin = LazyRegex(p.translated.re2_latin);
      }
      // Plain text is measured by counting; Hyperscan's analysis of ten thousand terms took
      // longer than compiling their literals.
      unsigned max_width = p.translated.plain_max_width;
      unsigned min_width = p.translated.plain_mandatory;
      if (!p.translated.plain_text) {
        hs_expr_info_t* info = nullptr;
        hs_compile_error_t* err = nullptr;
        if (hs_expression_info(p.translated.hyperscan.c_str(), kHyperscanFlags, &info, &err) != HS_SUCCESS) {
          diags.push_back(error_at(p.where, rule_id, quoted + "Hyperscan rejects it: " + err->message));
          hs_free_compile_error(err);
          continue;
        }
        max_width = info->max_width;
        min_width = info->min_width;
        free(info);
      }
      if (max_width == UINT_MAX) {
        diags.push_back(error_at(p.where, rule_id, quoted + "can match unboundedly long text"));
        continue;
      }
      if (max_width > kMaxPatternWidth) {
        diags.push_back(error_at(p.where, rule_id,
                                 quoted + "can match " + std::to_string(max_width) + " bytes; the limit is " +
                                     std::to_string(kMaxPatternWidth)));
        continue;
      }
      if (min_width == 0) {
        diags.push_back(error_at(p.where, rule_id, quoted + "can match the empty string"));
        continue;
      }
      cp.max_width = max_width;
      max_widths.push_back(max_width);
    }
    if (has_errors(diags)) return result;
    for (size_t v = 0; v < kViewKinds; ++v) {
      RuleSet::ViewDatabase& db = set->databases_[v];
      auto failed = [&](hs_compile_error_t* err, std::optional<uint32_t> slot, const char* which) {
        SourceLocation where;
        std::string rule_id;
        if (slot) {
          const PatternRef ref = db.refs[*slot];
          const Rule& r = set->rules_[ref.rule].rule;
          rule_id = r.id;
          where = r.patterns.size() > ref.pattern ? r.patterns[ref.pattern].where : r.where;
        }
        diags.push_back(error_at(where, rule_id, std::string("Hyperscan cannot compile the ") +
                                                     std::string(to_string(static_cast<ViewKind>(v))) + which +
                                                     err->message));
        hs_free_compile_error(err);
      };
      if (!expressions[v].empty()) {
        std::vector<const char*> exprs;
        for (const auto& e : expressions[v]) exprs.push_back(e.c_str());
        hs_compile_error_t* err = nullptr;
        if (hs_compile_multi(exprs.data(), expression_flags[v].data(), expression_ids[v].data(),
                             static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK, nullptr, &db.db, &err) != HS_SUCCESS) {
          std::optional<uint32_t> slot;
          if (err->expression >= 0) slot = expression_ids[v][static_cast<size_t>(err->expression)];
          failed(err, slot, " database: ");
          return result;
        }
      }
      if (!literals[v].empty()) {
        std::vector<const char*> lits;
        std::vector<size_t> lengths;
        std::vector<unsigned> ids;
        for (size_t i = 0; i < literals[v].size(); ++i) {
          lits.push_back(literals[v][i].data());
          lengths.push_back(literals[v][i].size());
          ids.push_back(static_cast<unsigned>(i));
        }
        hs_compile_error_t* err = nullptr;
        if (hs_compile_lit_multi(lits.data(), literal_flags[v].data(), ids.data(), lengths.data(),
                                 static_cast<unsigned>(lits.size()), HS_MODE_BLOCK, nullptr, &db.literals,
                                 &err) != HS_SUCCESS) {
          std::optional<uint32_t> slot;
          if (err->expression >= 0) slot = db.literal_refs[static_cast<size_t>(err->expression)].slot;
          failed(err, slot, " literal database: ");
          return result;
        }
      }
    }
    if (cache) {
      CachedDatabases entry;
      for (size_t v = 0; v < kViewKinds; ++v) {
        entry.databases[v] = set->databases_[v].db;
        entry.literals[v] = set->databases_[v].literals;
      }
      entry.max_widths = std::move(max_widths);
      // A cache that cannot be written only costs the next start, but say so.
      if (!cache->store(cache_key, entry))
        diags.push_back(Diagnostic{Diagnostic::Level::warning, SourceLocation{options.cache_dir, 0}, "",
                                   "cannot write the compiled-database cache here; the next start compiles "
                                   "again (use --cache-dir DIR or --no-cache)"});
    }
  }
  for (const auto& d : set->databases_)
    for (const hs_database* db : {d.db, d.literals})
      if (db && hs_alloc_scratch(db, &set->scratch_) != HS_SUCCESS) {
        diags.push_back(error_at({}, "", "cannot allocate Hyperscan scratch space"));
        return result;
      }
  set->packs_ = std::move(packs);
  result.ruleset = std::move(set);
  return result;
}

}  // namespace promptwall
