// libFuzzer target for classifiers/normalizer (+ fold_table, legacy_decoder, offset_map): every
// request segment is normalised before any rule sees it, so its bytes are whatever a client sends.
// Input: the segment's bytes (any bytes: invalid UTF-8, NFD, legacy encodings, format characters).
// Beyond "no crash, no sanitizer report", it checks what normalizer.h, text_views.h, offset_map.h
// and docs/rule-format.md ("Views") promise, on every view the Normalizer builds (raw, folded,
// compact, legacy and the two intermediate slots the chains pass through):
//   - every view's text is valid UTF-8 (checked by a validator written apart from ICU's U8_NEXT);
//   - `invalid_utf8_at` is set exactly when the input is not valid UTF-8, at its first bad byte;
//   - `raw` is NFC, and for valid NFC input it is the input byte for byte with an identity map;
//   - each view's offset map, walked byte by byte, is monotonic (neither the begin nor the end of
//     the original span ever goes back as the view offset grows), every span lies inside
//     [0, input size] with begin <= end, and the span of any [a, b) of the view holds the spans of
//     its first and last bytes;
//   - `folded` holds no ASCII upper-case letter, no tab or CR, and no two spaces in a row;
//     `compact` holds none of the separators it removes, and its kept-bytes map answers as the
//     linear units of its runs would;
//   - fold_text() of the raw input (invalid bytes included) is valid UTF-8;
//   - views rebuilt into a TextViews reused from the previous input (as a Scanner reuses its
//     own) are the fresh views: same slots, texts, parents and byte-by-byte maps.
// Inputs are bounded at 8 KiB: every pass is linear, the per-byte checks are n log n.
#include <unicode/normalizer2.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "classifiers/normalizer.h"
#include "fuzz/utf8_reference.h"

namespace {

using promptwall::Span;
using promptwall::TextViews;
using promptwall::ViewKind;

void require(bool ok) {
  if (!ok) std::abort();
}

using promptwall::fuzz::first_invalid_utf8;

bool is_nfc(std::string_view s) {
  UErrorCode ec = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(ec);
  require(U_SUCCESS(ec));
  const bool yes = nfc->isNormalizedUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())), ec);
  require(U_SUCCESS(ec));
  return yes;
}

Span to_original(const TextViews& views, size_t slot, Span span) {
  int at = static_cast<int>(slot);
  for (size_t hops = 0; at >= 0; ++hops) {
    require(hops < views.slots.size() && static_cast<size_t>(at) < views.slots.size());  // the chain ends
    const auto& v = views.slots[static_cast<size_t>(at)];
    require(v.has_value());  // a view's parent always exists
    span = v->map.to_source(span);
    at = v->parent;
  }
  return span;
}

// The offset-map promises for the view in `slot`, through its whole chain to the original.
void check_map(const TextViews& views, size_t slot, size_t input_size) {
  const std::string& text = views.slots[slot]->text;
  const auto n = static_cast<uint32_t>(text.size());
  Span previous{0, 0};
  for (uint32_t i = 0; i < n; ++i) {
    const Span s = to_original(views, slot, Span{i, i + 1});
    require(s.begin <= s.end && s.end <= input_size);
    require(s.begin >= previous.begin && s.end >= previous.end);
    previous = s;
  }
  // Empty spans map to a position inside the original too (a match of an empty pattern).
  for (uint32_t i = 0; i <= n; i += n / 7 + 1) {
    const Span s = to_original(views, slot, Span{i, i});
    require(s.begin == s.end && s.end <= input_size);
  }
  // A few [a, b) spread over the view (the first, the whole, and a deterministic spread): the span
  // of the range holds the spans of its first and last bytes.
  for (uint32_t a = 0; a < n; a += n / 5 + 1) {
    for (uint32_t b = a + 1; b <= n; b += (n - a) / 4 + 1) {
      const Span whole = to_original(views, slot, Span{a, b});
      const Span first = to_original(views, slot, Span{a, a + 1});
      const Span last = to_original(views, slot, Span{b - 1, b});
      require(whole.begin <= whole.end && whole.end <= input_size);
      require(whole.begin <= first.begin && last.end <= whole.end);
    }
  }
  if (n > 0) {
    const Span all = to_original(views, slot, Span{0, n});
    require(all.begin <= all.end && all.end <= input_size);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8 * 1024) return 0;
  static const promptwall::Normalizer normalizer;  // built once: ICU tables, no per-input state
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr promptwall::ViewMask kAll = promptwall::view_bit(ViewKind::raw) | promptwall::view_bit(ViewKind::folded) |
                                        promptwall::view_bit(ViewKind::compact) | promptwall::view_bit(ViewKind::legacy);
  const TextViews views = normalizer.normalize(input, kAll);

  const std::optional<size_t> bad = first_invalid_utf8(input);
  require(views.invalid_utf8_at.has_value() == bad.has_value());
  if (bad) require(*views.invalid_utf8_at == *bad);
  require(views.slots[TextViews::kRepaired].has_value() == bad.has_value());

  // Every view asked for is there (legacy only when the text shows a legacy encoding).
  require(views.view(ViewKind::raw) && views.view(ViewKind::folded) && views.view(ViewKind::compact));
  require(views.view(ViewKind::legacy) != nullptr || !views.slots[TextViews::kLegacySource]);

  const std::string& raw = views.view(ViewKind::raw)->text;
  require(is_nfc(raw));
  if (!bad && is_nfc(input)) {
    require(raw == input);
    require(views.view(ViewKind::raw)->map.identity());
  }

  for (size_t slot = 0; slot < views.slots.size(); ++slot) {
    if (!views.slots[slot]) continue;
    require(!first_invalid_utf8(views.slots[slot]->text).has_value());
    check_map(views, slot, size);
  }
  // TextViews::to_original agrees with the chain walked here.
  for (size_t k = 0; k < promptwall::kViewKinds; ++k) {
    const auto kind = static_cast<ViewKind>(k);
    if (const auto* v = views.view(kind); v != nullptr && !v->text.empty()) {
      const Span span{0, static_cast<uint32_t>(v->text.size())};
      require(views.to_original(kind, span) == to_original(views, k, span));
    }
  }

  for (const ViewKind kind : {ViewKind::folded, ViewKind::legacy}) {
    const auto* v = views.view(kind);
    if (v == nullptr) continue;
    for (size_t i = 0; i < v->text.size(); ++i) {
      const char c = v->text[i];
      require(!(c >= 'A' && c <= 'Z') && c != '\t' && c != '\r');
      require(!(c == ' ' && i + 1 < v->text.size() && v->text[i + 1] == ' '));
    }
  }
  for (const char c : views.view(ViewKind::compact)->text) {
    for (const char dropped : std::string_view(" .-_*,'\"~`+=")) require(c != dropped);
  }
  {
    // The compact view's kept-bytes map gives what one linear unit per run of kept folded bytes
    // gives (offset_map.h): every byte, every empty span, and ranges reaching past the end.
    const std::string_view separators(" .-_*,'\"~`+=");
    const std::string& folded = views.view(ViewKind::folded)->text;
    const promptwall::View& compact = *views.view(ViewKind::compact);
    promptwall::OffsetMap units;
    std::string kept;
    for (size_t i = 0; i < folded.size();) {
      if (separators.find(folded[i]) != std::string_view::npos) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < folded.size() && separators.find(folded[j]) == std::string_view::npos) ++j;
      units.append(static_cast<uint32_t>(j - i), static_cast<uint32_t>(i), static_cast<uint32_t>(j - i), false);
      kept.append(folded, i, j - i);
      i = j;
    }
    require(compact.text == kept && compact.map.identity() == units.identity());
    const auto n = static_cast<uint32_t>(kept.size());
    for (uint32_t a = 0; a <= n + 1; ++a) {
      for (const uint32_t b : {a, a + 1, a + 2, n, n + 1}) {
        if (b < a) continue;
        require(compact.map.to_source(Span{a, b}) == units.to_source(Span{a, b}));
      }
    }
  }

  require(!first_invalid_utf8(normalizer.fold_text(input)).has_value());

  static TextViews reused;  // holds the previous input's views: their buffers are rebuilt into
  normalizer.normalize(input, kAll, reused);
  require(reused.invalid_utf8_at == views.invalid_utf8_at);
  for (size_t slot = 0; slot < views.slots.size(); ++slot) {
    require(reused.slots[slot].has_value() == views.slots[slot].has_value());
    if (!views.slots[slot]) continue;
    const auto& a = *reused.slots[slot];
    const auto& b = *views.slots[slot];
    require(a.text == b.text && a.parent == b.parent && a.map.identity() == b.map.identity());
    for (uint32_t i = 0; i < b.text.size(); ++i) require(a.map.to_source(Span{i, i + 1}) == b.map.to_source(Span{i, i + 1}));
  }
  return 0;
}
