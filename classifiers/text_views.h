// The views of one segment of text that rules match against, each mapping back to the original
// bytes. See docs/rule-format.md ("Views") for what each view looks like to a rule author.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "classifiers/offset_map.h"

namespace promptwall {

enum class ViewKind : uint8_t { raw = 0, folded = 1, compact = 2, legacy = 3 };
inline constexpr size_t kViewKinds = 4;

std::string_view to_string(ViewKind kind);
std::optional<ViewKind> view_kind_from_string(std::string_view name);

// A set of view kinds as a bit mask (bit i = ViewKind i).
using ViewMask = uint8_t;
constexpr ViewMask view_bit(ViewKind kind) { return ViewMask(1u << static_cast<unsigned>(kind)); }

struct View {
  std::string text;  // always valid UTF-8
  OffsetMap map;     // view bytes -> bytes of `parent` (or of the original when parent < 0)
  int parent = -1;   // index into TextViews::slots
};

// The result of normalising one segment. Views not asked for, and `legacy` when the text shows no
// legacy encoding, are absent.
class TextViews {
 public:
  // Slots 0..3 hold the ViewKinds. Two more hold intermediate texts views chain through: the
  // decoded legacy text the legacy view folds, and the UTF-8-repaired copy of invalid input.
  static constexpr size_t kLegacySource = kViewKinds;
  static constexpr size_t kRepaired = kViewKinds + 1;
  std::array<std::optional<View>, kViewKinds + 2> slots;

  // Set when the original was not valid UTF-8: the offset of the first bad byte. The views were
  // built from a copy with each bad sequence replaced by U+FFFD, so scanning still sees the rest.
  std::optional<uint32_t> invalid_utf8_at;

  const View* view(ViewKind kind) const {
    const auto& slot = slots[static_cast<size_t>(kind)];
    return slot ? &*slot : nullptr;
  }

  // Maps a byte span of view `kind` back to the original text.
  Span to_original(ViewKind kind, Span span) const;
};

}  // namespace promptwall
