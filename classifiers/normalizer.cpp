#include "classifiers/normalizer.h"

#include <emmintrin.h>  // SSE2: part of the x86-64 baseline
#include <unicode/bytestream.h>
#include <unicode/edits.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/utf8.h>

#include <array>
#include <cstring>
#include <stdexcept>

// A lambda's attributes go after its parameter list; GCC and clang both take this spelling.
#define PW_ALWAYS_INLINE __attribute__((always_inline))

namespace promptwall {
namespace {

// Copies `text`, replacing each invalid UTF-8 sequence by U+FFFD. Returns the offset of the first
// invalid byte, or nullopt when the text was valid (and `out` is left untouched). `out` arrives
// empty.
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

// NFC of valid UTF-8 `text`, mapped back to it through ICU's record of the edits. `view` arrives
// empty.
void to_nfc(std::string_view text, int parent, View& view) {
  view.parent = parent;
  UErrorCode ec = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(ec);
  if (U_SUCCESS(ec) && nfc->isNormalizedUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())), ec) &&
      U_SUCCESS(ec)) {
    view.text.assign(text);
    return;  // identity map
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
}

// Bytes the compact view removes from the folded one: what people put between letters.
constexpr std::array<char, 12> kCompactSeparators = {' ', '.', '-', '_', '*', ',', '\'', '"', '~', '`', '+', '='};
constexpr std::array<bool, 256> kCompactDrops = [] {
  std::array<bool, 256> t{};
  for (char c : kCompactSeparators) t[static_cast<unsigned char>(c)] = true;
  return t;
}();
constexpr bool compact_drops(unsigned char c) { return kCompactDrops[c]; }

// Bit i set: byte i of the 16 at `p` is one the compact view removes (kCompactSeparators; the
// loop unrolls into twelve compares).
inline unsigned compact_drop_mask(const char* p) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  __m128i m = _mm_setzero_si128();
  for (char c : kCompactSeparators) m = _mm_or_si128(m, _mm_cmpeq_epi8(b, _mm_set1_epi8(c)));
  return static_cast<unsigned>(_mm_movemask_epi8(m));
}

// The folded text without its separators, mapped by which of its bytes were kept (a word every
// few bytes would otherwise cost a map unit each). 64 bytes at a time: the kept bits from four
// SSE2 compares, then every byte written and the output advanced past the kept ones, so the
// copy takes no branch however short the words are.
void compact(const View& folded, int parent, View& view) {
  view.parent = parent;
  const std::string& s = folded.text;
  const auto* in = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  view.text.resize(n);
  char* const out = view.text.data();
  size_t o = 0;
  size_t block = 0;
  for (; block + 64 <= n; block += 64) {
    uint64_t kept = 0;
    for (size_t k = 0; k < 64; k += 16)
      kept |= uint64_t{~compact_drop_mask(s.data() + block + k) & 0xFFFFu} << k;
    for (size_t i = 0; i < 64; ++i) {
      out[o] = static_cast<char>(in[block + i]);
      o += kept >> i & 1;
    }
    view.map.append_kept(kept);
  }
  if (block < n) {
    uint64_t kept = 0;
    for (size_t i = 0; block + i < n; ++i) {
      const bool keep = !compact_drops(in[block + i]);
      kept |= uint64_t{keep} << i;
      out[o] = static_cast<char>(in[block + i]);
      o += keep;
    }
    view.map.append_kept(kept);
  }
  view.text.resize(o);
}

void from_legacy(LegacyText&& decoded, int parent, View& view) {
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
}

// The number of bytes at `p` (16 readable, and p[16] too) that fold to themselves one for one,
// lower-cased: printable ASCII, where a space is alone and followed by a visible character (so it
// is not the start of a white-space run) and no punctuation repeats the one before it (a run the
// fold collapses). `prev` is the punctuation just emitted before p[0], or 0. Stops at the first
// byte that needs the scalar fold; 16 when none does.
inline unsigned ascii_prefix(const char* p, unsigned char prev, __m128i& lowered) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i next = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1));
  const __m128i before = _mm_or_si128(_mm_slli_si128(b, 1), _mm_cvtsi32_si128(prev));
  auto in = [](__m128i v, char lo, char hi) {  // lo <= v <= hi, bytes as signed (non-ASCII < 0)
    return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(lo - 1))),
                         _mm_cmpgt_epi8(_mm_set1_epi8(static_cast<char>(hi + 1)), v));
  };
  const __m128i upper = in(b, 'A', 'Z');
  const __m128i alnum = _mm_or_si128(_mm_or_si128(upper, in(b, 'a', 'z')), in(b, '0', '9'));
  const __m128i printable = in(b, 0x20, 0x7E);
  const __m128i space = _mm_cmpeq_epi8(b, _mm_set1_epi8(' '));
  const __m128i repeat = _mm_andnot_si128(alnum, _mm_cmpeq_epi8(b, before));
  const __m128i spaced_run = _mm_andnot_si128(in(next, 0x21, 0x7E), space);
  const __m128i bad = _mm_or_si128(_mm_andnot_si128(printable, _mm_set1_epi8(-1)), _mm_or_si128(repeat, spaced_run));
  lowered = _mm_add_epi8(b, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
  const auto mask = static_cast<unsigned>(_mm_movemask_epi8(bad));
  return mask == 0 ? 16u : static_cast<unsigned>(__builtin_ctz(mask));
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

Normalizer::Normalizer() : nfc_starters_(0x10000 / 64) {
  for (UChar32 cp = 0; cp < 0x10000; ++cp) {
    if (u_getIntPropertyValue(cp, UCHAR_NFC_QUICK_CHECK) == UNORM_YES && u_getCombiningClass(cp) == 0)
      nfc_starters_[static_cast<size_t>(cp) >> 6] |= uint64_t{1} << (cp & 63);
  }
}

bool Normalizer::certainly_nfc(std::string_view text) const {
  // A string of NFC starters with quick check Yes is NFC: nothing in it composes or reorders.
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const auto len = static_cast<int32_t>(text.size());
  int32_t i = 0;
  while (i < len) {
    if (i + 16 <= len) {
      const auto high = static_cast<unsigned>(
          _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i))));
      if (high == 0) {
        i += 16;
        continue;
      }
      i += static_cast<int32_t>(__builtin_ctz(high));
    } else if (s[i] < 0x80) {
      ++i;
      continue;
    }
    UChar32 c;
    U8_NEXT(s, i, len, c);
    if (!is_nfc_starter(c)) return false;
  }
  return true;
}

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

bool Normalizer::fold(std::string_view source, int parent, View& view) const {
  using Class = FoldTable::Class;
  bool nfc_starters_only = true;  // as certainly_nfc: ASCII is; any other character is checked
  view.parent = parent;
  view.map.clear();
  // The text is written through a pointer into a buffer sized ahead: folding shrinks ASCII and
  // Vietnamese, and a character that folds longer (`½` → `1⁄2`) grows the buffer first.
  std::string& text = view.text;
  text.resize(source.size() + 64);
  char* out = text.data();
  size_t o = 0, capacity = text.size();
  // The helpers below run for nearly every character of Vietnamese text: inlined, as GCC does
  // not choose to in a function this size (they were a fifth of the fold's time as calls).
  auto grow = [&](size_t need) {
    text.resize(std::max(text.size() * 2, o + need + 64));
    out = text.data();
    capacity = text.size();
  };
  auto room = [&](size_t need) PW_ALWAYS_INLINE {
    if (o + need > capacity) [[unlikely]] grow(need);
  };

  // Characters that fold to one byte from one byte (ASCII letters, digits, punctuation, a single
  // space) extend a pending linear run, appended to the map in one go when something else comes.
  uint32_t run_begin = 0, run_len = 0;
  auto flush_run = [&]() PW_ALWAYS_INLINE {
    if (run_len) view.map.append(run_len, run_begin, run_len, false);
    run_len = 0;
  };
  auto extend_run = [&](uint32_t begin, uint32_t n) PW_ALWAYS_INLINE {
    if (run_len == 0 || run_begin + run_len != begin) {
      flush_run();
      run_begin = begin;
    }
    run_len += n;
  };
  auto emit = [&](const char* bytes, uint32_t len, uint32_t begin, uint32_t src_len) PW_ALWAYS_INLINE {
    room(len);
    if (len == 1 && src_len == 1) {
      if (run_len == 0) run_begin = begin;
      if (run_begin + run_len == begin) {
        out[o++] = bytes[0];
        ++run_len;
        return;
      }
    }
    flush_run();
    if (len == 1) out[o] = bytes[0];  // most folded non-ASCII letters: no memcpy call
    else std::memcpy(out + o, bytes, len);
    o += len;
    view.map.append(len, begin, src_len, len != src_len);
  };

  // A pending white-space run, emitted as one ' ' or '\n' before the next visible character.
  Class pending = Class::drop;
  uint32_t pending_begin = 0, pending_end = 0;
  // The last punctuation emitted, so a run of the same one collapses.
  FoldTable::Entry last_punct;
  bool last_was_punct = false;
  auto flush_pending = [&]() PW_ALWAYS_INLINE {
    const char c = pending == Class::newline ? '\n' : ' ';
    const uint32_t len = pending_end - pending_begin;
    if (len == 1) {
      emit(&c, 1, pending_begin, 1);
    } else {
      flush_run();
      room(1);
      out[o++] = c;
      view.map.append(1, pending_begin, len, true);
    }
    pending = Class::drop;
  };

  const auto* s = reinterpret_cast<const uint8_t*>(source.data());
  const int32_t len = static_cast<int32_t>(source.size());
  int32_t i = 0;
  while (i < len) {
    // The common case: printable ASCII that folds byte for byte, 16 bytes at a time. Only from a
    // settled state (no white space pending); the bytes it stops at go the scalar way below.
    if (pending == Class::drop && i + 17 <= len && s[i] < 0x80) {
      const unsigned char prev =
          last_was_punct && last_punct.len == 1 ? static_cast<unsigned char>(last_punct.out[0]) : 0;
      __m128i lowered;
      const unsigned n = ascii_prefix(source.data() + i, prev, lowered);
      if (n > 0) {
        room(16);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + o), lowered);
        o += n;
        extend_run(static_cast<uint32_t>(i), n);
        const uint8_t last = s[i + static_cast<int32_t>(n) - 1];
        last_was_punct = !kAsciiAlnum[last] && last != ' ';
        if (last_was_punct) last_punct = fold_table_.lookup(last);
        i += static_cast<int32_t>(n);
        if (n == 16) continue;
      }
    }
    // A run of ASCII letters and digits folds byte for byte (lower case).
    if (kAsciiAlnum[s[i]]) {
      if (pending != Class::drop) flush_pending();
      int32_t j = i;
      while (j < len && kAsciiAlnum[s[j]]) ++j;
      room(static_cast<size_t>(j - i));
      extend_run(static_cast<uint32_t>(i), static_cast<uint32_t>(j - i));
      for (int32_t k = i; k < j; ++k) out[o++] = static_cast<char>(s[k] | (kAsciiUpper[s[k]] ? 0x20 : 0));
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
      nfc_starters_only = nfc_starters_only && is_nfc_starter(c);
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
  text.resize(o);
  return nfc_starters_only;
}

TextViews Normalizer::normalize(std::string_view text, ViewMask wanted) const {
  TextViews out;
  normalize(text, wanted, out);
  return out;
}

void Normalizer::normalize(std::string_view text, ViewMask wanted, TextViews& out) const {
  if (text.size() >= (1u << 31)) throw std::length_error("segment of 2 GiB or more");
  constexpr auto kRaw = static_cast<size_t>(ViewKind::raw);
  constexpr auto kFolded = static_cast<size_t>(ViewKind::folded);
  constexpr auto kCompact = static_cast<size_t>(ViewKind::compact);
  constexpr auto kLegacy = static_cast<size_t>(ViewKind::legacy);

  // The slots built this time, each emptied for reuse; the others are released at the end.
  std::array<bool, kViewKinds + 2> built{};
  auto take = [&](size_t slot, int parent) -> View& {
    built[slot] = true;
    auto& v = out.slots[slot];
    if (!v) v.emplace();
    v->text.clear();
    v->map.clear();
    v->parent = parent;
    return *v;
  };
  out.invalid_utf8_at.reset();

  // raw: NFC, via a repaired copy when the input is not valid UTF-8. Text certainly in NFC is
  // its own raw view (identity map); with a fold to do, the fold checks that as it goes.
  const bool folding = wanted & (view_bit(ViewKind::folded) | view_bit(ViewKind::compact));
  bool nfc = false;
  if (folding) {
    take(kRaw, -1).text.assign(text);
    nfc = fold(out.slots[kRaw]->text, static_cast<int>(kRaw), take(kFolded, static_cast<int>(kRaw)));
  } else if ((nfc = certainly_nfc(text))) {
    take(kRaw, -1).text.assign(text);
  }
  if (!nfc) {
    View& repaired = take(TextViews::kRepaired, -1);
    out.invalid_utf8_at = repair_utf8(text, repaired);
    if (out.invalid_utf8_at) {
      to_nfc(repaired.text, static_cast<int>(TextViews::kRepaired), take(kRaw, -1));
    } else {
      built[TextViews::kRepaired] = false;
      to_nfc(text, -1, take(kRaw, -1));
    }
    if (folding) fold(out.slots[kRaw]->text, static_cast<int>(kRaw), take(kFolded, static_cast<int>(kRaw)));
  }
  const std::string& raw = out.slots[kRaw]->text;

  if (wanted & view_bit(ViewKind::compact))
    compact(*out.slots[kFolded], static_cast<int>(kFolded), take(kCompact, static_cast<int>(kFolded)));
  if (wanted & view_bit(ViewKind::legacy)) {
    if (auto decoded = legacy_.decode(raw)) {
      View& source = take(TextViews::kLegacySource, static_cast<int>(kRaw));
      from_legacy(std::move(*decoded), static_cast<int>(kRaw), source);
      fold(source.text, static_cast<int>(TextViews::kLegacySource), take(kLegacy, -1));
    }
  }
  for (size_t slot = 0; slot < out.slots.size(); ++slot)
    if (!built[slot]) out.slots[slot].reset();
}

}  // namespace promptwall
