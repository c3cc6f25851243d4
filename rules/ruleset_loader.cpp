#include "rules/ruleset_loader.h"

#include <filesystem>

#include "classifiers/normalizer.h"
#include "rules/example_record.h"
#include "rules/example_runner.h"
#include "rules/pack_loader.h"

namespace promptwall {

std::string RuleLoad::error_text() const {
  std::string out;
  for (const auto& d : diagnostics) {
    if (d.level != Diagnostic::Level::error) continue;
    if (!out.empty()) out += '\n';
    out += to_string(d);
  }
  return out;
}

RuleSetLoader::RuleSetLoader(std::vector<std::string> packs, std::string cache_dir,
                             std::vector<std::string> scoped_packs, Examples examples)
    : packs_(std::move(packs)),
      cache_dir_(std::move(cache_dir)),
      scoped_packs_(std::move(scoped_packs)),
      examples_(examples),
      normalizer_(std::make_shared<const Normalizer>()) {}

RuleSetLoader RuleSetLoader::from_texts(std::vector<PackText> texts, std::string bundle, std::string cache_dir,
                                        Examples examples) {
  RuleSetLoader loader({}, std::move(cache_dir), {}, examples);
  loader.texts_ = std::move(texts);
  loader.bundle_ = std::move(bundle);
  return loader;
}

namespace {

// A scope names a scoped pack by its file name, so the pack must be called that, or the filter
// would miss it and its rules would count for everyone.
void require_named_like_file(const RulePack& pack, std::vector<Diagnostic>& diagnostics) {
  const std::string expected = std::filesystem::path(pack.file).stem().string();
  if (pack.name == expected) return;
  Diagnostic d;
  d.where.file = pack.file;
  d.message = "scoped pack '" + pack.name + "' must be named '" + expected + "' like its file";
  diagnostics.push_back(std::move(d));
}

}  // namespace

PackRead RuleSetLoader::read() const {
  PackRead out;
  for (const auto& text : texts_) {
    LoadedPack loaded = PackLoader::load_text(text.file, text.content);
    for (auto& d : loaded.diagnostics) out.diagnostics.push_back(std::move(d));
    if (!loaded.pack) continue;
    if (text.scoped) require_named_like_file(*loaded.pack, out.diagnostics);
    out.packs.push_back(std::move(*loaded.pack));
  }
  std::vector<std::string> paths;
  for (const auto& p : packs_) {
    if (p == kBuiltin) {
      for (auto& pack : builtin_packs(out.diagnostics)) out.packs.push_back(std::move(pack));
    } else {
      paths.push_back(p);
    }
  }
  // PackLoader::load_all reads the built-in packs when given no paths; only ask it for files.
  if (!paths.empty())
    for (auto& pack : PackLoader::load_all(paths, out.diagnostics)) out.packs.push_back(std::move(pack));
  if (!scoped_packs_.empty()) {
    for (auto& pack : PackLoader::load_all(scoped_packs_, out.diagnostics)) {
      require_named_like_file(pack, out.diagnostics);
      out.packs.push_back(std::move(pack));
    }
  }
  return out;
}

RuleLoad RuleSetLoader::load() const {
  RuleLoad out;
  PackRead read = this->read();
  out.diagnostics = std::move(read.diagnostics);
  if (has_errors(out.diagnostics)) return out;
  if (read.packs.empty()) {
    Diagnostic none;
    none.message = "no rule packs configured";
    out.diagnostics.push_back(std::move(none));
    return out;
  }

  CompileResult compiled = RuleSetCompiler(normalizer_).compile(std::move(read.packs), CompileOptions{cache_dir_, bundle_});
  for (auto& d : compiled.diagnostics) out.diagnostics.push_back(std::move(d));
  if (!compiled.ruleset) return out;

  if (examples_ == Examples::run) {
    const ExampleRecord record(cache_dir_);
    if (const auto passed = record.passed(*compiled.ruleset)) {
      out.examples_run = *passed;
      out.examples_remembered = true;
    } else {
      ExampleReport report = ExampleRunner::run(compiled.ruleset);
      out.examples_run = report.examples_run;
      if (!report.failures.empty()) {
        for (auto& d : report.failures) out.diagnostics.push_back(std::move(d));
        return out;
      }
      record.remember(*compiled.ruleset, report.examples_run);
    }
  }
  out.ruleset = std::move(compiled.ruleset);
  return out;
}

}  // namespace promptwall
