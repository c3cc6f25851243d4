#include "classifiers/normalizer.h"

#include <unicode/bytestream.h>
#include <unicode/edits.h>
#include <unicode/normalizer2.h>
#include <unicode/utf8.h>

#include <array>
#include <cstring>
#include <stdexcept>

namespace promptwall {
namespace {

bool all_ascii(std::string_view s) {
  // Eight bytes at a time: any high bit means non-ASCII.
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (w & 0x8080808080808080ull) return false;
  }
  for (; i < s.size(); ++i)
    if (static_cast<unsigned char>(s[i]) & 0x80) return false;
  return true;
}

// Copies `text`, replacing each invalid UTF-8 sequence by U+FFFD. Returns the offset of the first
// invalid byte, or nullopt when the text was valid (and `out` is left untouched).
std::optional<uint32_t> repair_utf8(std::string_view text, View& out) {
  std::optional<uint32_t> first_bad;
  int32_t len = static_cast<int32_t>(text.size());
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  int32_t i = 0;
  while (i < len) {
    int32_t start = i;
    UChar32 c;
    U8_NEXT(s, i, len, c);
    if (c < 0) {
      if (!first_bad) {
        first_bad = static_cast<uint32_t>(start);
        out.text.assign(text.substr(0, static_cast<size_t>(start)));
        out.map.append(static_cast<uint32_t>(start), 0, static_cast<uint32_t>(start), false);
      }
      out.text.append("\xEF\xBF\xBD");
      out.map.append(3, static_cast<uint32_t>(start), static_cast<uint32_t>(i - start), true);
    } else if (first_bad) {
      out.text.append(text.substr(static_cast<size_t>(start), static_cast<size_t>(i - start)));
      out.map.append(static_cast<uint32_t>(i - start), static_cast<uint32_t>(start),
                     static_cast<uint32_t>(i - start), false);
    }
  }
  return first_bad;
}

// NFC of valid UTF-8 `text`, mapped back to it through ICU's record of the edits.
View to_nfc(std::string_view text, int parent) {
  View view;
  view.parent = parent;
  UErrorCode ec = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(ec);
  if (U_SUCCESS(ec) && nfc->isNormalizedUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())), ec) &&
      U_SUCCESS(ec)) {
    view.text.assign(text);
    return view;  // identity map
  }
  ec = U_ZERO_ERROR;
  icu::Edits edits;
  icu::StringByteSink<std::string> sink(&view.text, static_cast<int32_t>(text.size()));
  nfc->normalizeUTF8(0, icu::StringPiece(text.data(), static_cast<int32_t>(text.size())), sink, &edits, ec);
  if (U_FAILURE(ec)) throw std::runtime_error(std::string("NFC normalisation failed: ") + u_errorName(ec));
  auto it = edits.getFineIterator();
  while (it.next(ec)) {
    view.map.append(static_cast<uint32_t>(it.newLength()), static_cast<uint32_t>(it.sourceIndex()),
                    static_cast<uint32_t>(it.oldLength()), it.hasChange());
  }
  return view;
}

// Bytes the compact view removes from the folded one: what people put between letters.
constexpr std::array<bool, 256> kCompactDrops = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : {' ', '.', '-', '_', '*', ',', '\'', '"', '~', '`', '+', '='}) t[c] = true;
  return t;
}();
constexpr bool compact_drops(unsigned char c) { return kCompactDrops[c]; }

View compact(const View& folded, int parent) {
  View view;
  view.parent = parent;
  const std::string& s = folded.text;
  view.text.reserve(s.size());
  // Kept bytes come in runs between separators; each run is one linear unit of the map.
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && compact_drops(static_cast<unsigned char>(s[i]))) ++i;
    const size_t run = i;
    while (i < s.size() && !compact_drops(static_cast<unsigned char>(s[i]))) ++i;
    if (i > run) {
      view.text.append(s, run, i - run);
      view.map.append(static_cast<uint32_t>(i - run), static_cast<uint32_t>(run), static_cast<uint32_t>(i - run), false);
    }
  }
  return view;
}

View from_legacy(LegacyText&& decoded, int parent) {
  View view;
  view.parent = parent;
  view.text = std::move(decoded.text);
  // Consecutive output bytes sharing one source span are one unit.
  size_t i = 0;
  while (i < view.text.size()) {
    size_t j = i + 1;
    while (j < view.text.size() && decoded.src_begin[j] == decoded.src_begin[i] &&
           decoded.src_end[j] == decoded.src_end[i])
      ++j;
    uint32_t src_len = decoded.src_end[i] - decoded.src_begin[i];
    bool same = src_len == j - i;
    view.map.append(static_cast<uint32_t>(j - i), decoded.src_begin[i], src_len, !same);
    i = j;
  }
  return view;
}

}  // namespace

std::string_view to_string(ViewKind kind) {
  switch (kind) {
    case ViewKind::raw: return "raw";
    case ViewKind::folded: return "folded";
    case ViewKind::compact: return "compact";
    case ViewKind::legacy: return "legacy";
  }
  return "?";
}

std::optional<ViewKind> view_kind_from_string(std::string_view name) {
  for (size_t i = 0; i < kViewKinds; ++i) {
    if (to_string(static_cast<ViewKind>(i)) == name) return static_cast<ViewKind>(i);
  }
  return std::nullopt;
}

Span TextViews::to_original(ViewKind kind, Span span) const {
  int slot = static_cast<int>(kind);
  while (slot >= 0) {
    const View& v = *slots[static_cast<size_t>(slot)];
    span = v.map.to_source(span);
    slot = v.parent;
  }
  return span;
}

Normalizer::Normalizer() = default;

constexpr std::array<bool, 256> kAsciiAlnum = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<size_t>(c)] = t[static_cast<size_t>(c - 32)] = true;
  return t;
}();
constexpr std::array<bool, 256> kAsciiUpper = [] {
  std::array<bool, 256> t{};
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<size_t>(c)] = true;
  return t;
}();

View Normalizer::fold(std::string_view source, int parent) const {
  using Class = FoldTable::Class;
  View view;
  view.parent = parent;
  view.text.reserve(source.size() + 16);

  // Characters that fold to one byte from one byte (ASCII letters, digits, punctuation, a single
  // space) extend a pending linear run, appended to the map in one go when something else comes.
  uint32_t run_begin = 0, run_len = 0;
  auto flush_run = [&] {
    if (run_len) view.map.append(run_len, run_begin, run_len, false);
    run_len = 0;
  };
  auto emit = [&](const char* out, uint32_t len, uint32_t begin, uint32_t src_len) {
    if (len == 1 && src_len == 1) {
      if (run_len == 0) run_begin = begin;
      if (run_begin + run_len == begin) {
        view.text.push_back(out[0]);
        ++run_len;
        return;
      }
    }
    flush_run();
    view.text.append(out, len);
    view.map.append(len, begin, src_len, len != src_len);
  };

  // A pending white-space run, emitted as one ' ' or '\n' before the next visible character.
  Class pending = Class::drop;
  uint32_t pending_begin = 0, pending_end = 0;
  // The last punctuation emitted, so a run of the same one collapses.
  FoldTable::Entry last_punct;
  bool last_was_punct = false;
  auto flush_pending = [&] {
    const char c = pending == Class::newline ? '\n' : ' ';
    const uint32_t len = pending_end - pending_begin;
    if (len == 1) {
      emit(&c, 1, pending_begin, 1);
    } else {
      flush_run();
      view.text.push_back(c);
      view.map.append(1, pending_begin, len, true);
    }
    pending = Class::drop;
  };

  const auto* s = reinterpret_cast<const uint8_t*>(source.data());
  const int32_t len = static_cast<int32_t>(source.size());
  int32_t i = 0;
  while (i < len) {
    // The common case: a run of ASCII letters and digits folds byte for byte (lower case).
    if (kAsciiAlnum[s[i]]) {
      if (pending != Class::drop) flush_pending();
      int32_t j = i;
      while (j < len && kAsciiAlnum[s[j]]) ++j;
      const auto b = static_cast<uint32_t>(i);
      if (run_len == 0 || run_begin + run_len != b) {
        flush_run();
        run_begin = b;
      }
      for (int32_t k = i; k < j; ++k) view.text.push_back(static_cast<char>(s[k] | (kAsciiUpper[s[k]] ? 0x20 : 0)));
      run_len += static_cast<uint32_t>(j - i);
      last_was_punct = false;
      i = j;
      continue;
    }
    const uint32_t begin = static_cast<uint32_t>(i);
    UChar32 c;
    if (s[i] < 0x80) {
      c = s[i++];
    } else {
      U8_NEXT(s, i, len, c);
      if (c < 0) c = 0xFFFD;  // views are built from valid UTF-8; context windows may cut a character
    }
    const uint32_t end = static_cast<uint32_t>(i);
    const FoldTable::Entry e = fold_table_.lookup(static_cast<char32_t>(c));
    switch (e.cls) {
      case Class::drop:
        continue;
      case Class::space:
      case Class::newline:
        if (pending == Class::drop) pending_begin = begin;
        if (e.cls == Class::newline || pending == Class::drop) pending = e.cls;
        pending_end = end;
        continue;
      case Class::punct:
      case Class::text:
        break;
    }
    if (pending != Class::drop) {
      flush_pending();
      last_was_punct = false;
    }
    if (e.cls == Class::punct) {
      if (last_was_punct && last_punct.len == e.len && std::memcmp(last_punct.out, e.out, e.len) == 0)
        continue;
      last_punct = e;
      last_was_punct = true;
    } else {
      last_was_punct = false;
    }
    emit(e.out, e.len, begin, end - begin);
  }
  if (pending != Class::drop) flush_pending();
  flush_run();
  return view;
}

TextViews Normalizer::normalize(std::string_view text, ViewMask wanted) const {
  if (text.size() >= (1u << 31)) throw std::length_error("segment of 2 GiB or more");
  TextViews out;
  constexpr auto kRaw = static_cast<size_t>(ViewKind::raw);
  constexpr auto kFolded = static_cast<size_t>(ViewKind::folded);
  constexpr auto kCompact = static_cast<size_t>(ViewKind::compact);
  constexpr auto kLegacy = static_cast<size_t>(ViewKind::legacy);

  // raw: NFC, via a repaired copy when the input is not valid UTF-8.
  if (all_ascii(text)) {
    out.slots[kRaw].emplace();
    out.slots[kRaw]->text.assign(text);
  } else {
    View repaired;
    out.invalid_utf8_at = repair_utf8(text, repaired);
    if (out.invalid_utf8_at) {
      out.slots[TextViews::kRepaired] = std::move(repaired);
      out.slots[kRaw] = to_nfc(out.slots[TextViews::kRepaired]->text, static_cast<int>(TextViews::kRepaired));
    } else {
      out.slots[kRaw] = to_nfc(text, -1);
    }
  }
  const std::string& raw = out.slots[kRaw]->text;

  if (wanted & (view_bit(ViewKind::folded) | view_bit(ViewKind::compact))) {
    out.slots[kFolded] = fold(raw, static_cast<int>(kRaw));
    if (wanted & view_bit(ViewKind::compact))
      out.slots[kCompact] = compact(*out.slots[kFolded], static_cast<int>(kFolded));
  }
  if (wanted & view_bit(ViewKind::legacy)) {
    if (auto decoded = legacy_.decode(raw)) {
      out.slots[TextViews::kLegacySource] = from_legacy(std::move(*decoded), static_cast<int>(kRaw));
      out.slots[kLegacy] = fold(out.slots[TextViews::kLegacySource]->text,
                                static_cast<int>(TextViews::kLegacySource));
    }
  }
  return out;
}

}  // namespace promptwall
