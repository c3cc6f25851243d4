#include "classifiers/offset_map.h"

#include <algorithm>

namespace promptwall {

const OffsetMap::Unit& OffsetMap::unit_at(uint32_t view_pos) const {
  // The last unit starting at or before view_pos; positions past the end fall into the last unit.
  auto it = std::upper_bound(units_.begin(), units_.end(), view_pos,
                             [](uint32_t pos, const Unit& u) { return pos < u.view_begin; });
  return it == units_.begin() ? *it : *(it - 1);
}

uint32_t OffsetMap::kept_source(uint32_t pos) const {
  // The last block with at most `pos` kept bytes before it holds view byte `pos`: a block that
  // kept nothing has the same count as the next one, so it is never the last.
  const auto it = std::upper_bound(kept_before_.begin(), kept_before_.end(), pos) - 1;
  const auto block = static_cast<size_t>(it - kept_before_.begin());
  uint64_t bits = kept_[block];
  for (uint32_t skip = pos - *it; skip > 0; --skip) bits &= bits - 1;  // drop the lower kept bytes
  return static_cast<uint32_t>(block * 64 + static_cast<size_t>(__builtin_ctzll(bits)));
}

Span OffsetMap::to_source(Span view) const {
  if (kept_total_ > 0) {
    // What the linear units of the kept runs give: a position past the view's end stands for the
    // end of its last byte.
    const uint32_t last = kept_total_ - 1;
    const uint32_t begin = view.begin <= last ? kept_source(view.begin) : kept_source(last) + 1;
    if (view.end <= view.begin) return Span{begin, begin};
    const uint32_t end = kept_source(std::min(view.end - 1, last)) + 1;
    return Span{begin, std::max(begin, end)};
  }
  if (units_.empty()) return view;
  const Unit& first = unit_at(view.begin);
  uint32_t begin = first.linear() ? first.src_begin + std::min(view.begin - first.view_begin, first.src_len())
                                  : first.src_begin;
  if (view.end <= view.begin) return Span{begin, begin};
  const Unit& last = unit_at(view.end - 1);
  uint32_t end = last.linear() ? last.src_begin + std::min(view.end - last.view_begin, last.src_len())
                               : last.src_begin + last.src_len();
  return Span{begin, std::max(begin, end)};
}

}  // namespace promptwall
