#include "classifiers/offset_map.h"

#include <algorithm>

namespace promptwall {

const OffsetMap::Unit& OffsetMap::unit_at(uint32_t view_pos) const {
  // The last unit starting at or before view_pos; positions past the end fall into the last unit.
  auto it = std::upper_bound(units_.begin(), units_.end(), view_pos,
                             [](uint32_t pos, const Unit& u) { return pos < u.view_begin; });
  return it == units_.begin() ? *it : *(it - 1);
}

Span OffsetMap::to_source(Span view) const {
  if (units_.empty()) return view;
  const Unit& first = unit_at(view.begin);
  uint32_t begin = first.linear ? first.src_begin + std::min(view.begin - first.view_begin, first.src_len)
                                : first.src_begin;
  if (view.end <= view.begin) return Span{begin, begin};
  const Unit& last = unit_at(view.end - 1);
  uint32_t end = last.linear ? last.src_begin + std::min(view.end - last.view_begin, last.src_len)
                             : last.src_begin + last.src_len;
  return Span{begin, std::max(begin, end)};
}

}  // namespace promptwall
