// OffsetMap: where each byte of a derived text view came from in the text it was derived from.
//
// A view is built left to right as a sequence of units. A unit is either *linear* (n bytes copied
// or changed byte for byte: view byte i maps to source byte start+i) or *atomic* (the view bytes
// together stand for the whole source span, e.g. `ậ` → `a`, or a run of spaces → one space).
// Consecutive linear units that touch in both texts merge, so ASCII text maps with a handful of
// entries rather than one per byte.
//
// Invariants: units are appended in increasing order in both texts; spans never overlap; an empty
// map is the identity (the view is the source, the fast path for text already in NFC).
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
  // Linear when the lengths are equal and `atomic` is false. Inline: the normaliser calls it for
  // every folded non-ASCII character.
  void append(uint32_t view_len, uint32_t src_begin, uint32_t src_len, bool atomic) {
    if (view_len == 0) return;  // dropped source bytes: neighbouring units keep their own spans
    const bool linear = !atomic && view_len == src_len;
    const uint32_t view_begin = units_.empty() ? 0 : units_.back().view_begin + units_.back().view_len;
    if (linear && !units_.empty()) {
      Unit& last = units_.back();
      if (last.linear && last.src_begin + last.src_len == src_begin) {
        last.view_len += view_len;
        last.src_len += src_len;
        return;
      }
    }
    units_.push_back(Unit{view_begin, view_len, src_begin, src_len, linear});
  }

  bool identity() const { return units_.empty(); }

  // Back to the identity map, keeping the memory for the next view built into it.
  void clear() { units_.clear(); }

  // The source span that view bytes [view.begin, view.end) came from. Requires view.end > begin
  // (an empty span maps to the source position of its begin).
  Span to_source(Span view) const;

 private:
  struct Unit {
    uint32_t view_begin;
    uint32_t view_len;
    uint32_t src_begin;
    uint32_t src_len;
    bool linear;
  };
  const Unit& unit_at(uint32_t view_pos) const;
  std::vector<Unit> units_;
};

}  // namespace promptwall
