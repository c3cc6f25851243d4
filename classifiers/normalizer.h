// Normalizer: turns one segment of text into the views rules match against (docs/rule-format.md),
// each with an offset map back to the original bytes.
//
// Invariants:
//  - Every view is valid UTF-8 (Hyperscan's UTF-8 mode is undefined on anything else): invalid
//    input bytes are replaced by U+FFFD in the views and reported in `invalid_utf8_at`.
//  - `raw` is the NFC form; for text already in NFC (all ASCII text, most pasted text) it is a
//    byte-for-byte copy with an identity map.
//  - Immutable after construction; `normalize` is const and thread-safe.
//
// Cost: most text is ASCII or precomposed (NFC) Vietnamese, and that text takes the fast path:
// a fold whose ASCII runs go 16 bytes at a time (SSE2, the x86-64 baseline: no build flag
// needed) and which, as it decodes each other character, validates UTF-8 and checks that every
// code point is an NFC starter. ICU's NFC is asked only when that check fails, and the text is
// then folded again from its NFC form. The compact view is copied from the folded one 64 bytes
// at a time and mapped by the bytes it kept (offset_map.h), not by a unit per word. The overload
// that takes a `TextViews&` rebuilds into its buffers, so a caller that keeps one (a Scanner
// does) allocates nothing per segment once they have grown.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

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
  // The same views, built into `out` (whatever it held before is replaced; its strings and maps
  // keep their memory for reuse). The result is exactly what the overload above returns.
  void normalize(std::string_view text, ViewMask wanted, TextViews& out) const;

  // The folded form of a short text (context windows, context words), without an offset map.
  // Tolerates combining sequences and invalid bytes (they fold as U+FFFD).
  std::string fold_text(std::string_view text) const {
    View v;
    fold(text, -1, v);
    return std::move(v.text);
  }
  // The same, folded into `scratch` (its text and map replaced, their memory kept), for a caller
  // that folds many short texts (a Scanner's context windows). Returns scratch.text.
  const std::string& fold_text(std::string_view text, View& scratch) const {
    fold(text, -1, scratch);
    return scratch.text;
  }

 private:
  // Folds `source` into `out` (its text and map replaced, their memory kept). Returns what
  // certainly_nfc(source) would: the fold decodes every character anyway, so a segment to be
  // folded is checked on the way rather than in a pass of its own.
  bool fold(std::string_view source, int parent, View& out) const;
  // Whether valid UTF-8 `text` is certainly NFC because each of its code points is an NFC starter
  // that nothing before it composes with (NFC_Quick_Check = Yes, canonical class 0). Returns
  // false for invalid UTF-8 and for anything it cannot vouch for (ICU decides those).
  bool certainly_nfc(std::string_view text) const;
  // One decoded code point (negative: invalid UTF-8) as certainly_nfc judges it.
  bool is_nfc_starter(int32_t c) const {
    return c >= 0 && c < 0x10000 && (nfc_starters_[static_cast<size_t>(c) >> 6] >> (c & 63) & 1);
  }

  FoldTable fold_table_;
  LegacyDecoder legacy_;
  // Bit cp set: BMP code point cp has NFC_Quick_Check = Yes and canonical combining class 0.
  std::vector<uint64_t> nfc_starters_;
};

}  // namespace promptwall
