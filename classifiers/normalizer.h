// Normalizer: turns one segment of text into the views rules match against (docs/rule-format.md),
// each with an offset map back to the original bytes.
//
// Invariants:
//  - Every view is valid UTF-8 (Hyperscan's UTF-8 mode is undefined on anything else): invalid
//    input bytes are replaced by U+FFFD in the views and reported in `invalid_utf8_at`.
//  - `raw` is the NFC form; for text already in NFC (all ASCII text, most pasted text) it is a
//    byte-for-byte copy with an identity map.
//  - Immutable after construction; `normalize` is const and thread-safe.
#pragma once

#include <memory>
#include <string_view>

#include "classifiers/fold_table.h"
#include "classifiers/legacy_decoder.h"
#include "classifiers/text_views.h"

namespace promptwall {

class Normalizer {
 public:
  Normalizer();

  // Builds the views in `wanted` (and those they derive from: compact needs folded) for `text`.
  // Segments must be shorter than 2 GiB (offsets are 32-bit); longer input throws.
  TextViews normalize(std::string_view text, ViewMask wanted) const;

  // The folded form of a short text (context windows, context words), without an offset map.
  // Tolerates combining sequences and invalid bytes (they fold as U+FFFD).
  std::string fold_text(std::string_view text) const { return fold(text, -1).text; }

 private:
  View fold(std::string_view source, int parent) const;
  FoldTable fold_table_;
  LegacyDecoder legacy_;
};

}  // namespace promptwall
