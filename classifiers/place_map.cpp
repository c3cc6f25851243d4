#include "classifiers/place_map.h"

#include <algorithm>
#include <iterator>

namespace promptwall {

PlaceMap PlaceMap::whole(PlaceTags tags) {
  PlaceMap m;
  m.add(0, tags);
  return m;
}

void PlaceMap::add(uint32_t offset, PlaceTags tags) {
  if (!runs_.empty()) {
    Run& last = runs_.back();
    if (offset < last.offset) return;
    if (offset == last.offset) {
      last.tags = tags;
      // The replaced run may now repeat the one before it.
      if (runs_.size() > 1 && runs_[runs_.size() - 2].tags == tags) runs_.pop_back();
      return;
    }
    if (last.tags == tags) return;
  } else if (tags == 0) {
    return;  // body from the start: the same as no run
  }
  runs_.push_back(Run{offset, tags});
}

PlaceTags PlaceMap::tags_at(uint32_t offset) const {
  auto after = std::upper_bound(runs_.begin(), runs_.end(), offset,
                                [](uint32_t o, const Run& r) { return o < r.offset; });
  return after == runs_.begin() ? 0 : std::prev(after)->tags;
}

}  // namespace promptwall
