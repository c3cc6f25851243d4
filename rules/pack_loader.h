// PackLoader: reads rule packs (YAML) into the model of rule.h, checking the schema strictly:
// unknown keys, missing fields and wrong types are errors that name the file and line, so a typo
// in a pack never silently turns a rule off.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rule.h"

namespace promptwall {

struct LoadedPack {
  std::optional<RulePack> pack;  // absent when the file could not be read or parsed at all
  std::vector<Diagnostic> diagnostics;
};

class PackLoader {
 public:
  // `file` names the source in messages; `content` is the YAML text.
  static LoadedPack load_text(std::string file, std::string content);
  static LoadedPack load_file(const std::string& path);
  // Expands each argument: a directory gives its *.yaml and *.yml files in name order.
  static std::vector<std::string> expand_paths(const std::vector<std::string>& args,
                                               std::vector<Diagnostic>& diagnostics);
  // The packs named by `args` (files or directories), or the built-in packs when `args` is empty.
  static std::vector<RulePack> load_all(const std::vector<std::string>& args,
                                        std::vector<Diagnostic>& diagnostics);
};

// The packs compiled into the binary (rules/packs/*.yaml at build time).
std::vector<RulePack> builtin_packs(std::vector<Diagnostic>& diagnostics);

}  // namespace promptwall
