#include "gateway/adapters/document_places.h"

#include <optional>

namespace promptwall::gateway {
namespace {

std::optional<PlaceTag> tag_of(extractors::Place p) {
  using extractors::Place;
  switch (p) {
    case Place::body: return std::nullopt;
    case Place::header: return PlaceTag::header;
    case Place::footer: return PlaceTag::footer;
    case Place::table: return PlaceTag::table;
    case Place::footnote: return PlaceTag::footnote;
    case Place::comment: return PlaceTag::comment;
    case Place::text_box: return PlaceTag::text_box;
    case Place::tracked_deletion: return PlaceTag::tracked_deletion;
    case Place::field_code: return PlaceTag::field_code;
    case Place::hidden_text: return PlaceTag::hidden_text;
    case Place::properties: return PlaceTag::properties;
    case Place::sheet: return PlaceTag::sheet;
    case Place::sheet_name: return PlaceTag::sheet_name;
    case Place::slide: return PlaceTag::slide;
    case Place::slide_notes: return PlaceTag::slide_notes;
    case Place::slide_master: return PlaceTag::slide_master;
    case Place::file_name: return PlaceTag::file_name;
    case Place::email_header: return PlaceTag::email_header;
    case Place::attachment: return std::nullopt;  // reserved: readers use the inner document's places
  }
  return std::nullopt;  // a value off the enum (a decoded wire value is checked, but stay total)
}

}  // namespace

PlaceTags place_tags(const extractors::SpanPlace& place) {
  PlaceTags tags = 0;
  if (auto t = tag_of(place.place)) tags |= place_bit(*t);
  if (place.prominent) tags |= place_bit(PlaceTag::prominent);
  return tags;
}

PlaceMap place_map(const extractors::TextPart& part) {
  PlaceMap map;
  map.add(0, place_tags(part.place));
  for (const extractors::Anchor& a : part.anchors) map.add(a.offset, place_tags(a.place));
  return map;
}

}  // namespace promptwall::gateway
