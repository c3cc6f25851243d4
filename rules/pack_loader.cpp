#include "rules/pack_loader.h"

#include <re2/re2.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <set>
#include <sstream>

namespace promptwall {
namespace {

// Finds the first alias (`*name`) of a YAML text. Rule packs refuse them: an alias shares its
// node, so `- *rule` repeated, each sharing a list of examples that shares a list of places,
// multiplies the work of the schema walk below (a 51 KB pack of three such levels took a minute
// of CPU to load, and `serve` loads packs on every reload). Packs are short enough to write out.
class AliasFinder : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> first;
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    if (!first) first = mark;
  }
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

std::optional<YAML::Mark> first_alias(const std::string& content) {
  std::istringstream in(content);
  YAML::Parser parser(in);
  AliasFinder finder;
  try {
    // Bounded: yaml-cpp 0.7 reports a document forever, consuming nothing, for a text that opens
    // with a stray ',' (found by fuzz/pack_loader). A real text has at most one document per byte.
    for (size_t documents = 0; !finder.first && documents <= content.size() && parser.HandleNextDocument(finder);
         ++documents) {
    }
  } catch (const YAML::Exception&) {
    // A syntax error: YAML::Load has reported it already.
  }
  return finder.first;
}

class Reader {
 public:
  Reader(std::string file, std::vector<Diagnostic>& diags) : file_(std::move(file)), diags_(diags) {}

  SourceLocation at(const YAML::Node& node) const {
    return SourceLocation{file_, node.Mark().line >= 0 ? node.Mark().line + 1 : 0};
  }

  void error(const YAML::Node& node, const std::string& rule_id, std::string message) {
    diags_.push_back(Diagnostic{Diagnostic::Level::error, at(node), rule_id, std::move(message)});
  }

  void check_keys(const YAML::Node& map, std::initializer_list<std::string_view> allowed,
                  const std::string& rule_id, std::string_view what) {
    for (const auto& kv : map) {
      const std::string key = kv.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        error(kv.first, rule_id, "unknown key '" + key + "' in " + std::string(what));
    }
  }

  std::optional<std::string> string(const YAML::Node& map, const char* key, const std::string& rule_id,
                                    bool required) {
    YAML::Node n = map[key];
    if (!n) {
      if (required) error(map, rule_id, std::string("missing required field '") + key + "'");
      return std::nullopt;
    }
    if (!n.IsScalar()) {
      error(n, rule_id, std::string("field '") + key + "' must be a string");
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::vector<std::string> strings(const YAML::Node& n, const std::string& rule_id, const char* what) {
    std::vector<std::string> out;
    if (!n) return out;
    if (n.IsScalar()) return {n.Scalar()};
    if (!n.IsSequence()) {
      error(n, rule_id, std::string("'") + what + "' must be a list of strings");
      return out;
    }
    for (const auto& item : n) {
      if (!item.IsScalar()) {
        error(item, rule_id, std::string("'") + what + "' must hold only strings");
        continue;
      }
      out.push_back(item.Scalar());
    }
    return out;
  }

  std::optional<double> number(const YAML::Node& n, const std::string& rule_id, const char* what) {
    if (!n) return std::nullopt;
    try {
      return n.as<double>();
    } catch (const YAML::Exception&) {
      error(n, rule_id, std::string("'") + what + "' must be a number");
      return std::nullopt;
    }
  }

  // "header, footer, prominent, ..." for messages.
  static std::string known_places() {
    std::string out;
    for (PlaceTag t : all_place_tags()) out += (out.empty() ? "" : ", ") + std::string(to_string(t));
    return out;
  }

  std::optional<PlaceTag> place_tag(const YAML::Node& n, const std::string& rule_id, const char* what) {
    if (!n.IsScalar()) {
      error(n, rule_id, std::string("'") + what + "' must name places");
      return std::nullopt;
    }
    auto tag = place_tag_from_string(n.Scalar());
    if (!tag) error(n, rule_id, "unknown place '" + n.Scalar() + "' in '" + what + "' (" + known_places() + ")");
    return tag;
  }

  // An example's `place:`: one tag or a list of them.
  PlaceTags example_places(const YAML::Node& n, const std::string& rule_id) {
    PlaceTags tags = 0;
    if (n.IsSequence()) {
      if (n.size() == 0) error(n, rule_id, "an example's 'place' list is empty");
      for (const auto& item : n)
        if (auto t = place_tag(item, rule_id, "place")) tags |= place_bit(*t);
    } else if (auto t = place_tag(n, rule_id, "place")) {
      tags = place_bit(*t);
    }
    return tags;
  }

  // A rule's `places:`: a mapping of tag to weight, -1..1.
  std::vector<PlaceWeight> place_weights(const YAML::Node& n, const std::string& rule_id) {
    std::vector<PlaceWeight> out;
    if (!n.IsMap() || n.size() == 0) {
      error(n, rule_id, "'places' must be a mapping of place to weight, e.g. {header: 0.3}");
      return out;
    }
    PlaceTags seen = 0;
    for (const auto& kv : n) {
      auto tag = place_tag(kv.first, rule_id, "places");
      auto weight = number(kv.second, rule_id, "places");
      if (!tag || !weight) continue;
      if (!(*weight >= -1 && *weight <= 1)) {
        error(kv.second, rule_id, "the weight of place '" + kv.first.Scalar() + "' must be between -1 and 1");
        continue;
      }
      if (seen & place_bit(*tag)) {
        error(kv.first, rule_id, "place '" + kv.first.Scalar() + "' is weighed twice");
        continue;
      }
      seen |= place_bit(*tag);
      out.push_back(PlaceWeight{*tag, *weight});
    }
    return out;
  }

  std::vector<Example> examples(const YAML::Node& n, const std::string& rule_id, const char* what) {
    std::vector<Example> out;
    if (!n) return out;
    if (!n.IsSequence()) {
      error(n, rule_id, std::string("examples.") + what + " must be a list");
      return out;
    }
    for (const auto& item : n) {
      Example ex;
      ex.where = at(item);
      if (item.IsScalar()) {
        ex.text = item.Scalar();
      } else if (item.IsMap()) {
        check_keys(item, {"text", "finding", "place"}, rule_id, "an example");
        auto text = string(item, "text", rule_id, true);
        if (!text) continue;
        ex.text = *text;
        if (YAML::Node place = item["place"]) ex.places = example_places(place, rule_id);
        ex.finding = string(item, "finding", rule_id, false);
        if (ex.finding && ex.text.find(*ex.finding) == std::string::npos)
          error(item, rule_id, "example's 'finding' is not a substring of its 'text'");
      } else {
        error(item, rule_id, std::string("examples.") + what + " items must be strings or {text, finding, place}");
        continue;
      }
      out.push_back(std::move(ex));
    }
    return out;
  }

  std::optional<Rule> rule(const YAML::Node& n, const std::string& pack) {
    if (!n.IsMap()) {
      error(n, "", "a rule must be a mapping");
      return std::nullopt;
    }
    Rule r;
    r.where = at(n);
    r.pack = pack;
    auto id = string(n, "id", "", true);
    if (!id) return std::nullopt;
    r.id = *id;
    static const re2::RE2 id_shape("[a-z0-9]+(?:\\.[a-z0-9][a-z0-9-]*)+");
    if (!re2::RE2::FullMatch(r.id, id_shape))
      error(n["id"], r.id, "id must be dotted lower case, e.g. vn.secret.degree-stamp");
    check_keys(n, {"id", "description", "category", "severity", "action", "confidence", "views",
                   "patterns", "validate", "min_entropy", "context", "places", "exclude", "redact",
                   "message", "examples"},
               r.id, "a rule");
    r.description = string(n, "description", r.id, true).value_or("");
    r.category = string(n, "category", r.id, true).value_or("");
    if (!r.category.empty() && !is_known_category(r.category))
      error(n["category"], r.id, "unknown category '" + r.category + "'");
    if (auto s = string(n, "severity", r.id, true)) {
      if (auto v = severity_from_string(*s)) r.severity = *v;
      else error(n["severity"], r.id, "severity must be low, medium, high or critical");
    }
    if (auto s = string(n, "action", r.id, true)) {
      if (auto v = action_from_string(*s)) r.action = *v;
      else error(n["action"], r.id, "action must be block, justify, redact, warn or log");
    }
    if (auto c = number(n["confidence"], r.id, "confidence")) {
      if (*c < 0 || *c > 1) error(n["confidence"], r.id, "confidence must be between 0 and 1");
      r.confidence = *c;
    }
    if (n["views"]) {
      r.views = 0;
      for (const auto& v : strings(n["views"], r.id, "views")) {
        if (auto kind = view_kind_from_string(v)) r.views |= view_bit(*kind);
        else error(n["views"], r.id, "unknown view '" + v + "' (raw, folded, compact, legacy)");
      }
    }
    YAML::Node patterns = n["patterns"];
    if (!patterns) {
      error(n, r.id, "missing required field 'patterns'");
    } else if (patterns.IsSequence()) {
      for (const auto& p : patterns) {
        if (!p.IsScalar()) error(p, r.id, "patterns must be strings");
        else r.patterns.push_back(PatternSource{p.Scalar(), at(p)});
      }
    } else {
      error(patterns, r.id, "'patterns' must be a list of strings");
    }
    r.validate = string(n, "validate", r.id, false).value_or("");
    r.min_entropy = number(n["min_entropy"], r.id, "min_entropy");
    if (YAML::Node c = n["context"]) {
      if (!c.IsMap()) {
        error(c, r.id, "'context' must be a mapping");
      } else {
        check_keys(c, {"window", "same_line", "direction", "require", "boost", "penalize"}, r.id, "context");
        ContextSpec ctx;
        if (auto d = string(c, "direction", r.id, false)) {
          if (*d == "both") ctx.direction = ContextSpec::Direction::both;
          else if (*d == "before") ctx.direction = ContextSpec::Direction::before;
          else if (*d == "after") ctx.direction = ContextSpec::Direction::after;
          else error(c["direction"], r.id, "context.direction must be both, before or after");
        }
        if (auto w = number(c["window"], r.id, "context.window")) ctx.window = static_cast<int>(*w);
        if (c["same_line"]) ctx.same_line = c["same_line"].as<bool>(false);
        ctx.require = strings(c["require"], r.id, "context.require");
        ctx.boost = strings(c["boost"], r.id, "context.boost");
        ctx.penalize = strings(c["penalize"], r.id, "context.penalize");
        r.context = std::move(ctx);
      }
    }
    if (YAML::Node p = n["places"]) r.places = place_weights(p, r.id);
    if (YAML::Node x = n["exclude"]) {
      if (!x.IsMap()) {
        error(x, r.id, "'exclude' must be a mapping with 'patterns' and/or 'values'");
      } else {
        check_keys(x, {"patterns", "values"}, r.id, "exclude");
        r.exclude_patterns = strings(x["patterns"], r.id, "exclude.patterns");
        r.exclude_values = strings(x["values"], r.id, "exclude.values");
      }
    }
    if (YAML::Node red = n["redact"]) {
      std::string style;
      if (red.IsScalar()) {
        style = red.Scalar();
      } else if (red.IsMap()) {
        check_keys(red, {"style", "keep", "label"}, r.id, "redact");
        style = string(red, "style", r.id, true).value_or("");
        if (auto k = number(red["keep"], r.id, "redact.keep")) r.redact.keep = static_cast<int>(*k);
        r.redact.label = string(red, "label", r.id, false).value_or("");
      }
      if (style == "mask") r.redact.kind = RedactStyle::Kind::mask;
      else if (style == "partial") r.redact.kind = RedactStyle::Kind::partial;
      else if (style == "label") r.redact.kind = RedactStyle::Kind::label;
      else if (style == "pseudonym") r.redact.kind = RedactStyle::Kind::pseudonym;
      else error(red, r.id, "redact style must be mask, partial, label or pseudonym");
      if ((r.redact.kind == RedactStyle::Kind::label || r.redact.kind == RedactStyle::Kind::pseudonym) &&
          r.redact.label.empty())
        error(red, r.id, "redact style '" + style + "' needs a 'label'");
      // A pseudonym is looked for in replies as [NAME-n], in raw and JSON-escaped spellings:
      // brackets, quotes, backslashes or white space inside NAME would make those ambiguous.
      if (r.redact.label.find_first_of("[] \t\r\n\"\\") != std::string::npos)
        error(red, r.id, "a redact label may not hold '[', ']', quotes, backslashes or white space");
    }
    if (YAML::Node m = n["message"]; m && m.IsMap()) {
      check_keys(m, {"vi", "en"}, r.id, "message");
      r.message_vi = string(m, "vi", r.id, true).value_or("");
      r.message_en = string(m, "en", r.id, true).value_or("");
    } else {
      error(m ? m : n, r.id, "missing 'message' with 'vi' and 'en'");
    }
    if (YAML::Node ex = n["examples"]; ex && ex.IsMap()) {
      check_keys(ex, {"match", "ignore"}, r.id, "examples");
      r.match_examples = examples(ex["match"], r.id, "match");
      r.ignore_examples = examples(ex["ignore"], r.id, "ignore");
    } else {
      error(ex ? ex : n, r.id, "missing 'examples' with 'match' and 'ignore'");
    }
    return r;
  }

 private:
  std::string file_;
  std::vector<Diagnostic>& diags_;
};

}  // namespace

LoadedPack PackLoader::load_text(std::string file, std::string content) {
  LoadedPack out;
  Reader reader(file, out.diagnostics);
  YAML::Node root;
  try {
    root = YAML::Load(content);
  } catch (const YAML::ParserException& e) {
    out.diagnostics.push_back(Diagnostic{Diagnostic::Level::error, SourceLocation{file, e.mark.line + 1}, "",
                                         "YAML syntax error: " + e.msg});
    return out;
  }
  if (const auto alias = first_alias(content)) {
    out.diagnostics.push_back(Diagnostic{Diagnostic::Level::error, SourceLocation{file, alias->line + 1}, "",
                                         "YAML aliases (*name) are not allowed in a rule pack: write the value out"});
    return out;
  }
  if (!root.IsMap()) {
    out.diagnostics.push_back(
        Diagnostic{Diagnostic::Level::error, SourceLocation{file, 1}, "", "a pack must be a mapping with 'pack', 'version' and 'rules'"});
    return out;
  }
  RulePack pack;
  pack.file = file;
  try {
    reader.check_keys(root, {"pack", "version", "description", "rules"}, "", "a pack");
    pack.name = reader.string(root, "pack", "", true).value_or("");
    pack.version = reader.string(root, "version", "", true).value_or("");
    pack.description = reader.string(root, "description", "", false).value_or("");
    YAML::Node rules = root["rules"];
    if (!rules || !rules.IsSequence()) {
      reader.error(rules ? rules : root, "", "'rules' must be a list of rules");
    } else {
      for (const auto& r : rules)
        if (auto rule = reader.rule(r, pack.name)) pack.rules.push_back(std::move(*rule));
    }
  } catch (const YAML::Exception& e) {
    out.diagnostics.push_back(Diagnostic{Diagnostic::Level::error, SourceLocation{file, e.mark.line + 1}, "",
                                         std::string("malformed pack: ") + e.what()});
  }
  pack.content = std::move(content);
  out.pack = std::move(pack);
  return out;
}

LoadedPack PackLoader::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadedPack out;
    out.diagnostics.push_back(Diagnostic{Diagnostic::Level::error, SourceLocation{path, 0}, "", "cannot read the file"});
    return out;
  }
  std::ostringstream content;
  content << in.rdbuf();
  return load_text(path, content.str());
}

std::vector<std::string> PackLoader::expand_paths(const std::vector<std::string>& args,
                                                  std::vector<Diagnostic>& diagnostics) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const auto& arg : args) {
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      std::vector<std::string> files;
      for (const auto& entry : fs::directory_iterator(arg, ec)) {
        auto ext = entry.path().extension().string();
        if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(entry.path().string());
      }
      std::sort(files.begin(), files.end());
      if (files.empty())
        diagnostics.push_back(Diagnostic{Diagnostic::Level::error, SourceLocation{arg, 0}, "", "no *.yaml rule packs in this directory"});
      out.insert(out.end(), files.begin(), files.end());
    } else {
      out.push_back(arg);
    }
  }
  return out;
}

}  // namespace promptwall

namespace promptwall {

struct EmbeddedPack {
  const char* name;
  const char* content;
};
extern const EmbeddedPack kEmbeddedPacks[];
extern const std::size_t kEmbeddedPackCount;

std::vector<RulePack> builtin_packs(std::vector<Diagnostic>& diagnostics) {
  std::vector<RulePack> out;
  for (std::size_t i = 0; i < kEmbeddedPackCount; ++i) {
    LoadedPack loaded = PackLoader::load_text(std::string("builtin:") + kEmbeddedPacks[i].name, kEmbeddedPacks[i].content);
    diagnostics.insert(diagnostics.end(), loaded.diagnostics.begin(), loaded.diagnostics.end());
    if (loaded.pack) out.push_back(std::move(*loaded.pack));
  }
  return out;
}

std::vector<RulePack> PackLoader::load_all(const std::vector<std::string>& args,
                                           std::vector<Diagnostic>& diagnostics) {
  if (args.empty()) return builtin_packs(diagnostics);
  std::vector<RulePack> out;
  for (const auto& path : expand_paths(args, diagnostics)) {
    LoadedPack loaded = load_file(path);
    diagnostics.insert(diagnostics.end(), loaded.diagnostics.begin(), loaded.diagnostics.end());
    if (loaded.pack) out.push_back(std::move(*loaded.pack));
  }
  return out;
}

}  // namespace promptwall
