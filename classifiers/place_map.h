// PlaceMap: where the runs of one scanned segment sit in their document, as PlaceTags (header,
// prominent, table...). The gateway and `promptwall scan` build one per part of an extracted
// document from its anchors (gateway/adapters/document_places.h); `rules test` builds one that
// tags a whole example. The Scanner reads the tags at a finding's first byte and adds the rule's
// place weights (rules/rule.h, Rule::places) before the confidence threshold.
//
// Invariants: runs are in strictly ascending offset order; a run's tags hold from its offset to
// the next run's; bytes before the first run have no tag (body text). add() keeps the order by
// replacing a run at the same offset and dropping a run whose tags equal the previous run's, so
// tags_at() is one binary search over as many runs as the tags change.
//
// Plain value, no text: offsets are into the segment as scanned (the original bytes, which
// findings' spans are in). Not shared between threads while being built; const use is safe.
#pragma once

#include <cstdint>
#include <vector>

#include "vocabulary/place_tag.h"

namespace promptwall {

class PlaceMap {
 public:
  struct Run {
    uint32_t offset = 0;
    PlaceTags tags = 0;
  };

  PlaceMap() = default;
  // Every byte carries `tags` (an example with `place: header`).
  static PlaceMap whole(PlaceTags tags);

  // From `offset` on, the text carries `tags`. Offsets must not decrease between calls: a smaller
  // one than the last run's is ignored (an extractor's anchors are ascending; see extracted_document.h).
  void add(uint32_t offset, PlaceTags tags);

  // The tags of the byte at `offset`; 0 (body) before the first run or for an empty map.
  PlaceTags tags_at(uint32_t offset) const;

  bool empty() const { return runs_.empty(); }
  const std::vector<Run>& runs() const { return runs_; }

 private:
  std::vector<Run> runs_;
};

}  // namespace promptwall
