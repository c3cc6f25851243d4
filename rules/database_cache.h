// DatabaseCache: compiled Hyperscan databases on disk, so a restart with unchanged packs skips the
// compile. One file per key; the key is the SHA-256 of every compile input plus the Hyperscan
// version and the CPU features (serialized databases are tied to both). An entry also holds each
// pattern's maximum width (Hyperscan's analysis, which the confirmer's window needs), so a load
// analyses no pattern again: that analysis cost seconds per ten thousand patterns.
//
// Invariant: an entry is used only if its length, its trailing SHA-256 and every database's
// deserialisation check out; anything else (truncated, corrupt, stale, unreadable) is a miss and
// the caller recompiles. Writes go to a temporary file renamed into place, so readers never see
// half an entry.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "classifiers/text_views.h"

struct hs_database;

namespace promptwall {

using ViewDatabases = std::array<hs_database*, kViewKinds>;

// What one entry holds.
struct CachedDatabases {
  ViewDatabases databases{};  // the regex databases
  ViewDatabases literals{};   // the literal databases
  std::vector<uint32_t> max_widths;  // one per pattern, in the compiler's order
};

class DatabaseCache {
 public:
  explicit DatabaseCache(std::string dir) : dir_(std::move(dir)) {}

  // The entry for `key` with exactly the regex databases in `views`, the literal databases in
  // `literal_views` and `patterns` widths, or nullopt. The caller owns the databases.
  std::optional<CachedDatabases> load(const std::string& key, ViewMask views, ViewMask literal_views,
                                      size_t patterns) const;
  // Stores the non-null databases and the widths under `key`; returns false (and leaves no entry)
  // on failure.
  bool store(const std::string& key, const CachedDatabases& entry) const;

  std::string path_for(const std::string& key) const;

  // What the key must cover besides the compile inputs: library version and this CPU.
  static std::string engine_fingerprint();

 private:
  std::string dir_;
};

}  // namespace promptwall
