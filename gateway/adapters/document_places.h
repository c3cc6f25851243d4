// Where the text of an extracted document sits, in the words rules weigh it by: the bridge from
// extractors' places (extractors/extracted_document.h: Place, SpanPlace::prominent, a part's
// anchors) to the PlaceTags of a PlaceMap (classifiers/place_map.h), which the Scanner reads to
// add a rule's `places:` weights. RequestInspector::decide and `promptwall scan` use it for every
// part of every document they scan; nothing else makes tags from documents, so a rule weighs the
// same place the same way in the gateway and on the command line.
//
// Mapping: each Place but `body` (no tag) and the reserved `attachment` is the tag of the same
// name; a prominent place also carries `prominent`. Page, cell and inner file name do not matter.
// Pure functions of plain values; safe from any thread.
#pragma once

#include "classifiers/place_map.h"
#include "extractors/extracted_document.h"

namespace promptwall::gateway {

PlaceTags place_tags(const extractors::SpanPlace& place);

// One run per change of tags: the part's own place from offset 0, then its anchors.
PlaceMap place_map(const extractors::TextPart& part);

}  // namespace promptwall::gateway
