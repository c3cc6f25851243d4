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
  // Linear when the lengths are equal and `atomic` is false.
  void append(uint32_t view_len, uint32_t src_begin, uint32_t src_len, bool atomic);

  bool identity() const { return units_.empty(); }

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
