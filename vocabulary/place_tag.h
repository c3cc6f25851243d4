// PlaceTag: where a piece of a document's text sits, in the words rules weigh it by. Shared by
// rules/ (a rule's `places:` weights, an example's `place:`), classifiers/ (PlaceMap, the Scanner
// adding the weights) and the gateway and `promptwall scan`, which turn an extracted document's
// places into tags. It lives here so that neither classifiers/ nor rules/ includes extractors/.
//
// The spellings are those of extractors::to_string(Place) for every place but `body` (the absence
// of a tag) and the reserved `attachment`, plus `prominent`: where a marking is stamped (the first
// lines of page one, the first table cell, a page header; extractors::SpanPlace::prominent). They
// appear in rule packs and never change; new tags may be added at the end (a tag is a bit of a
// uint32_t mask, so at most 32).
//
// Plain values, no behaviour beyond naming them. Pure functions; safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace promptwall {

enum class PlaceTag : uint8_t {
  header,
  footer,
  prominent,
  table,
  footnote,
  comment,
  text_box,
  tracked_deletion,
  field_code,
  hidden_text,
  properties,
  sheet,
  sheet_name,
  slide,
  slide_notes,
  slide_master,
  file_name,
  email_header,
};
inline constexpr size_t kPlaceTags = 18;

// A set of tags: bit (1 << tag).
using PlaceTags = uint32_t;
constexpr PlaceTags place_bit(PlaceTag t) { return PlaceTags{1} << static_cast<unsigned>(t); }

std::string_view to_string(PlaceTag t);
// nullopt for any other spelling (callers report it with their own file and line).
std::optional<PlaceTag> place_tag_from_string(std::string_view s);
// Every tag in declaration order, for messages listing what is allowed.
const std::array<PlaceTag, kPlaceTags>& all_place_tags();

}  // namespace promptwall
