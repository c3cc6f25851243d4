#include "vocabulary/place_tag.h"

namespace promptwall {
namespace {

constexpr std::array<std::string_view, kPlaceTags> kNames{
    "header",     "footer",      "prominent", "table",       "footnote",     "comment",
    "text_box",   "tracked_deletion", "field_code", "hidden_text", "properties", "sheet",
    "sheet_name", "slide",       "slide_notes", "slide_master", "file_name",   "email_header"};

constexpr std::array<PlaceTag, kPlaceTags> make_all() {
  std::array<PlaceTag, kPlaceTags> out{};
  for (size_t i = 0; i < kPlaceTags; ++i) out[i] = static_cast<PlaceTag>(i);
  return out;
}
constexpr std::array<PlaceTag, kPlaceTags> kAll = make_all();

static_assert(kPlaceTags <= 32, "a PlaceTags mask holds at most 32 tags");
static_assert(static_cast<size_t>(PlaceTag::email_header) + 1 == kPlaceTags, "kPlaceTags counts every tag");

}  // namespace

std::string_view to_string(PlaceTag t) { return kNames[static_cast<size_t>(t)]; }

std::optional<PlaceTag> place_tag_from_string(std::string_view s) {
  for (PlaceTag t : kAll)
    if (to_string(t) == s) return t;
  return std::nullopt;
}

const std::array<PlaceTag, kPlaceTags>& all_place_tags() { return kAll; }

}  // namespace promptwall
