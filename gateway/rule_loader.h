// RuleLoader: builds the RuleSet the gateway serves from the configured packs, the same way at
// startup and on every reload: load, compile (through the database cache), then run every rule's
// examples through the full scanner. A set whose examples fail is refused like one that does not
// compile, so a broken pack can never replace a working set.
//
// Pure and synchronous; it takes seconds on a cache miss, so the server calls it off the hot path.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rules/rule.h"
#include "rules/ruleset.h"

namespace promptwall::gateway {

struct RuleLoad {
  std::shared_ptr<const RuleSet> ruleset;  // null when refused
  std::vector<Diagnostic> diagnostics;     // errors (and warnings) with file:line
  size_t examples_run = 0;
  bool ok() const { return ruleset != nullptr; }
  // The errors, one per line, for a log line or an admin reply.
  std::string error_text() const;
};

class RuleLoader {
 public:
  // `packs`: "builtin" for the embedded packs, otherwise pack files or directories of *.yaml.
  // `cache_dir`: the compiled-database cache; empty disables it.
  // `scoped_packs`: pack files compiled in as well, each of which must declare the name its file
  // has without .yaml (policy scopes name them so; gateway/identity/policy_scopes.h).
  RuleLoader(std::vector<std::string> packs, std::string cache_dir, std::vector<std::string> scoped_packs = {});

  RuleLoad load() const;

 private:
  std::vector<std::string> packs_;
  std::string cache_dir_;
  std::vector<std::string> scoped_packs_;
  std::shared_ptr<const Normalizer> normalizer_;
};

}  // namespace promptwall::gateway
