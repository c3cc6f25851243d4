// OffsetMap: where each byte of a derived text view came from in the text it was derived from.
//
// A map takes one of two forms, chosen by how its view is built:
//  - Units (`append`). A view is built left to right as a sequence of units. A unit is either
//    *linear* (n bytes copied or changed byte for byte: view byte i maps to source byte start+i)
//    or *atomic* (the view bytes together stand for the whole source span, e.g. `ậ` → `a`, or a
//    run of spaces → one space). Consecutive linear units that touch in both texts merge, so
//    ASCII text maps with a handful of entries rather than one per byte.
//  - Kept bytes (`append_kept`). The view is its source with some bytes left out and the others
//    in order (the compact view: the folded text without separators). One bit per source byte
//    says whether it was kept, 64 to a block, with a count of the kept bytes before each block.
//    That costs 12 bytes per 64 source bytes, where units cost 12 bytes per word, and a view
//    with a word every few bytes is built several times faster; a lookup counts bits instead
//    of reading a unit.
//
// Both forms answer `to_source` alike: a kept-bytes map gives exactly what the units of its
// view's linear runs (one unit per run of kept bytes) would give.
//
// Invariants: units are appended in increasing order in both texts; spans never overlap; one map
// holds one form (calls of `append` and `append_kept` are not mixed between `clear`s); an empty
// map, and a kept-bytes map that kept nothing, is the identity (the view is the source, the fast
// path for text already in NFC).
//
// Threads: const members are safe to call concurrently; appending needs exclusive access.
#pragma once

#include <cstdint>
#include <vector>

namespace promptwall {

struct Span {
  uint32_t begin = 0;
  uint32_t end = 0;
  bool operator==(const Span&) const = default;
};

class OffsetMap {
 public:
  // Appends a unit of `view_len` view bytes standing for `src_len` source bytes at `src_begin`.
  // Linear when the lengths are equal and `atomic` is false. Always inline: the normaliser calls
  // it for every folded non-ASCII character, and GCC leaves it a call in the fold's loop.
  [[gnu::always_inline]] void append(uint32_t view_len, uint32_t src_begin, uint32_t src_len, bool atomic) {
    if (view_len == 0) return;  // dropped source bytes: neighbouring units keep their own spans
    const bool linear = !atomic && view_len == src_len;
    if (linear && !units_.empty()) {
      Unit& last = units_.back();
      if (last.linear() && last.src_begin + last.src_len() == src_begin) {
        last.src_len_linear += src_len;
        view_end_ += view_len;
        return;
      }
    }
    units_.push_back(Unit{view_end_, src_begin, src_len | (linear ? Unit::kLinear : 0)});
    view_end_ += view_len;
  }

  // Appends the next block of 64 source bytes of a kept-bytes map: bit i set when source byte
  // 64 * (blocks so far) + i is in the view. A last, shorter block leaves the bits past the
  // source's end clear.
  void append_kept(uint64_t kept) {
    kept_before_.push_back(kept_total_);
    kept_.push_back(kept);
    kept_total_ += static_cast<uint32_t>(__builtin_popcountll(kept));
  }

  bool identity() const { return units_.empty() && kept_total_ == 0; }

  // Back to the identity map, keeping the memory for the next view built into it.
  void clear() {
    units_.clear();
    view_end_ = 0;
    kept_.clear();
    kept_before_.clear();
    kept_total_ = 0;
  }

  // The source span that view bytes [view.begin, view.end) came from. Requires view.end > begin
  // (an empty span maps to the source position of its begin).
  Span to_source(Span view) const;

 private:
  // 12 bytes: a folded Vietnamese text has a unit every few bytes, so the map's size is much of
  // what building the view writes. A unit's view length is where the next one begins (units
  // cover the view without gaps); its source length and kind share a word (segments are shorter
  // than 2 GiB).
  struct Unit {
    static constexpr uint32_t kLinear = 1u << 31;
    uint32_t view_begin;
    uint32_t src_begin;
    uint32_t src_len_linear;  // source length, with kLinear set for a linear unit
    uint32_t src_len() const { return src_len_linear & ~kLinear; }
    bool linear() const { return (src_len_linear & kLinear) != 0; }
  };
  const Unit& unit_at(uint32_t view_pos) const;
  // Kept-bytes form: the source position of view byte `pos` (< kept_total_).
  uint32_t kept_source(uint32_t pos) const;

  std::vector<Unit> units_;
  uint32_t view_end_ = 0;              // the view bytes the units cover
  std::vector<uint64_t> kept_;         // per 64 source bytes, which were kept
  std::vector<uint32_t> kept_before_;  // per block, the kept bytes before it (non-decreasing)
  uint32_t kept_total_ = 0;            // the view's size
};

}  // namespace promptwall
