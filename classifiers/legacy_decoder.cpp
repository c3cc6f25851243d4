// LegacyDecoder: see legacy_decoder.h for the contract.
//
// How it works, in three steps over the code points of the input:
//  1. Cut the text into candidate words and read each one in every legacy encoding it could be:
//     a run of ASCII letters (plus the VIQR marks between them) may be VIQR; a run of ASCII
//     letters and Latin-1 characters U+00A1..U+00FF may be VNI or TCVN3 pasted as Unicode.
//  2. Keep a reading only if it decodes to a well-formed Vietnamese syllable (onset, vowel
//     cluster, coda, one tone, a stop coda only with sắc/nặng). This one check is what keeps
//     French, German, Spanish words, file names, abbreviations and English contractions intact.
//  3. Grade each reading. A *strong* reading carries evidence no ordinary Unicode text carries
//     (a VIQR modifier, a VNI pair other than the "oà/oá/oã" that Unicode Vietnamese also
//     writes, a TCVN3 character that is not itself a Vietnamese letter next to ASCII letters).
//     A *weak* reading is only taken when the same encoding has a strong word somewhere in the
//     text and the text holds no Unicode-only Vietnamese letter (ư, đ, ệ, ...): a document is
//     written in one encoding, so a strong word vouches for its ambiguous neighbours, while a
//     Unicode document never has its own words (tài, hoàng, có) re-read as legacy text.
//
// Every decoded character is produced precomposed (the composition table is built with ICU's
// NFC), and a word followed by a combining mark is left alone, so the output stays NFC.

#include "classifiers/legacy_decoder.h"

#include <emmintrin.h>  // SSE2: part of the x86-64 baseline
#include <iconv.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <limits>
#include <span>
#include <stdexcept>
#include <unordered_map>

namespace promptwall {
namespace {

// Tones in the order every legacy table lists them.
enum Tone : uint8_t { kNoTone = 0, kSac = 1, kHuyen = 2, kHoi = 3, kNga = 4, kNang = 5 };

// Combining marks for the tones above; NFC of base + mark gives the precomposed letter.
constexpr std::array<char32_t, 6> kToneMarks = {0, 0x0301, 0x0300, 0x0309, 0x0303, 0x0323};

// The twelve Vietnamese vowel bases, lower case, toneless.
constexpr std::array<char32_t, 12> kVowelBases = {U'a', U'ă', U'â', U'e', U'ê', U'i',
                                                  U'o', U'ô', U'ơ', U'u', U'ư', U'y'};

constexpr char32_t kInvalid = 0xFFFFFFFF;  // a malformed UTF-8 byte

// A decoded letter before composition: lower-case toneless base (a vowel base, đ, or an ASCII
// consonant), its tone, and whether it was written upper case.
struct Letter {
  char32_t base;
  uint8_t tone;
  bool upper;
};

// One output character and the input bytes it came from.
struct OutChar {
  char32_t cp;
  uint32_t begin;
  uint32_t end;
};

struct CodePoint {
  char32_t c;
  uint32_t begin;
  uint32_t end;
};

enum class Enc : uint8_t { kViqr, kVni, kTcvn3 };

struct Reading {
  Enc enc;
  bool strong;
  std::vector<OutChar> out;
};

// A candidate word: code point indices [begin, end) and the readings that survived.
struct Word {
  size_t begin;
  size_t end;
  std::vector<Reading> readings;
};

// What a Latin-1 character means when it follows a letter in VNI-Windows text.
enum class VniKind : uint8_t { kNone, kTone, kCirc, kBreve, kSingle };

struct VniEntry {
  VniKind kind = VniKind::kNone;
  uint8_t tone = kNoTone;
  bool upper = false;
  char32_t single = 0;  // kSingle: the base letter it stands for on its own
};

// VNI-Windows, derived from the VNI-WIN table of Unikey's vnconv (ukengine/data.cpp, where each
// letter is a base byte plus an optional mark byte) and checked against the known samples
// (TUYEÄT MAÄT, Vieät, Ñeà aùn, toái). VNI writes a toned vowel as the plain ASCII vowel followed
// by one mark character whose case follows the vowel's; i, y-nặng, đ, ơ, ư have glyphs of
// their own. Each row: the mark in lower and upper case, what it adds, and the tone.
struct VniRule {
  char32_t lower;
  char32_t upper;
  VniKind kind;
  uint8_t tone;
  char32_t single;
};

constexpr std::array<VniRule, 26> kVniRules = {{
    // Tone alone, after a e o u y and after the ơ / ư glyphs.
    {U'ù', U'Ù', VniKind::kTone, kSac, 0},
    {U'ø', U'Ø', VniKind::kTone, kHuyen, 0},
    {U'û', U'Û', VniKind::kTone, kHoi, 0},
    {U'õ', U'Õ', VniKind::kTone, kNga, 0},
    {U'ï', U'Ï', VniKind::kTone, kNang, 0},
    // Circumflex with a tone, after a e o.
    {U'â', U'Â', VniKind::kCirc, kNoTone, 0},
    {U'á', U'Á', VniKind::kCirc, kSac, 0},
    {U'à', U'À', VniKind::kCirc, kHuyen, 0},
    {U'å', U'Å', VniKind::kCirc, kHoi, 0},
    {U'ã', U'Ã', VniKind::kCirc, kNga, 0},
    {U'ä', U'Ä', VniKind::kCirc, kNang, 0},
    // Breve with a tone, after a.
    {U'ê', U'Ê', VniKind::kBreve, kNoTone, 0},
    {U'é', U'É', VniKind::kBreve, kSac, 0},
    {U'è', U'È', VniKind::kBreve, kHuyen, 0},
    {U'ú', U'Ú', VniKind::kBreve, kHoi, 0},
    {U'ü', U'Ü', VniKind::kBreve, kNga, 0},
    {U'ë', U'Ë', VniKind::kBreve, kNang, 0},
    // Letters with a glyph of their own.
    {U'ñ', U'Ñ', VniKind::kSingle, kNoTone, U'đ'},
    {U'ô', U'Ô', VniKind::kSingle, kNoTone, U'ơ'},
    {U'ö', U'Ö', VniKind::kSingle, kNoTone, U'ư'},
    {U'í', U'Í', VniKind::kSingle, kSac, U'i'},
    {U'ì', U'Ì', VniKind::kSingle, kHuyen, U'i'},
    {U'æ', U'Æ', VniKind::kSingle, kHoi, U'i'},
    {U'ó', U'Ó', VniKind::kSingle, kNga, U'i'},
    {U'ò', U'Ò', VniKind::kSingle, kNang, U'i'},
    {U'î', U'Î', VniKind::kSingle, kNang, U'y'},
}};

// Vietnamese syllable structure, used to accept a decoded word. Onsets longest first.
constexpr std::array<std::u32string_view, 28> kOnsets = {
    U"ngh", U"ng", U"nh", U"ch", U"gh", U"gi", U"kh", U"ph", U"th", U"tr", U"qu", U"b", U"c", U"d",
    U"đ",   U"g",  U"h",  U"k",  U"l",  U"m",  U"n",  U"p",  U"r",  U"s",  U"t",  U"v", U"x", U""};
constexpr std::array<std::u32string_view, 9> kCodas = {U"",  U"c", U"ch", U"m", U"n",
                                                       U"ng", U"nh", U"p", U"t"};
// Vowel clusters that end in a glide and so take no final consonant.
constexpr std::array<std::u32string_view, 31> kOpenNuclei = {
    U"y",   U"ai",  U"ao",  U"au",  U"ay",  U"âu",  U"ây",  U"eo",  U"êu",  U"ia",  U"iu",
    U"oi",  U"ôi",  U"ơi",  U"ua",  U"ui",  U"ưa",  U"ưi",  U"ưu",  U"uơ",  U"iêu", U"yêu",
    U"oai", U"oay", U"oeo", U"uây", U"uôi", U"ươi", U"ươu", U"uya", U"uyu"};
// Vowel clusters that stand alone or take a final consonant.
constexpr std::array<std::u32string_view, 15> kFreeNuclei = {
    U"a", U"ă", U"â", U"e", U"ê", U"i", U"o", U"ô", U"ơ", U"u", U"ư", U"oa", U"oe", U"uê", U"uy"};
// Vowel clusters that need a final consonant.
constexpr std::array<std::u32string_view, 8> kClosedNuclei = {U"iê", U"yê", U"uô", U"ươ",
                                                             U"uyê", U"oă", U"uâ", U"oo"};

template <size_t N>
bool contains(const std::array<std::u32string_view, N>& set, std::u32string_view s) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

bool is_vowel_base(char32_t c) {
  return std::find(kVowelBases.begin(), kVowelBases.end(), c) != kVowelBases.end();
}

bool valid_rhyme(std::u32string_view r, uint8_t tone) {
  size_t n = 0;
  while (n < r.size() && is_vowel_base(r[n])) ++n;
  if (n == 0) return false;
  const std::u32string_view nucleus = r.substr(0, n);
  const std::u32string_view coda = r.substr(n);
  if (!contains(kCodas, coda)) return false;
  if (contains(kOpenNuclei, nucleus)) {
    if (!coda.empty()) return false;
  } else if (contains(kClosedNuclei, nucleus)) {
    if (coda.empty()) return false;
  } else if (!contains(kFreeNuclei, nucleus)) {
    return false;
  }
  // A syllable closed by a stop (c ch p t) only carries sắc or nặng.
  const bool stop = coda == U"c" || coda == U"ch" || coda == U"p" || coda == U"t";
  return !stop || tone == kSac || tone == kNang;
}

bool valid_syllable(const std::vector<Letter>& letters) {
  std::u32string s;
  s.reserve(letters.size());
  uint8_t tone = kNoTone;
  for (const Letter& l : letters) {
    if (l.tone != kNoTone) {
      if (tone != kNoTone) return false;  // one tone per syllable
      tone = l.tone;
    }
    s.push_back(l.base);
  }
  const std::u32string_view v(s);
  // Try every onset: "gi"/"g" and "qu"/"" overlap with the vowels that follow them.
  for (std::u32string_view onset : kOnsets) {
    if (v.substr(0, onset.size()) == onset && valid_rhyme(v.substr(onset.size()), tone)) {
      return true;
    }
  }
  return false;
}

bool is_ascii_letter(char32_t c) { return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z'); }
bool is_ascii_digit(char32_t c) { return c >= U'0' && c <= U'9'; }
char32_t ascii_lower(char32_t c) { return (c >= U'A' && c <= U'Z') ? c + 32 : c; }
bool is_ascii_vowel(char32_t c) {
  const char32_t l = ascii_lower(c);
  return l == U'a' || l == U'e' || l == U'i' || l == U'o' || l == U'u' || l == U'y';
}
bool is_latin1_high(char32_t c) { return c >= 0xA1 && c <= 0xFF; }
// Characters a VNI or TCVN3 word is made of.
bool is_run_char(char32_t c) { return is_ascii_letter(c) || is_latin1_high(c); }
bool is_alpha(char32_t c) { return c != kInvalid && u_isalpha(static_cast<UChar32>(c)); }
bool is_mark(char32_t c) {
  return c != kInvalid && (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_M_MASK) != 0;
}

// VIQR: the vowel with a modifier typed after it, or 0 if the pair is not a VIQR modifier.
char32_t viqr_modified(char32_t lower_vowel, char32_t mark) {
  switch (mark) {
    case U'^':
      if (lower_vowel == U'a') return U'â';
      if (lower_vowel == U'e') return U'ê';
      if (lower_vowel == U'o') return U'ô';
      return 0;
    case U'(':
      return lower_vowel == U'a' ? U'ă' : 0;
    case U'+':
      if (lower_vowel == U'o') return U'ơ';
      if (lower_vowel == U'u') return U'ư';
      return 0;
    default:
      return 0;
  }
}

uint8_t viqr_tone(char32_t mark) {
  switch (mark) {
    case U'\'': return kSac;
    case U'`': return kHuyen;
    case U'?': return kHoi;
    case U'~': return kNga;
    case U'.': return kNang;
    default: return kNoTone;
  }
}

// Latin-1 letters that Vietnamese itself uses (à á â ã è é ê ì í ò ó ô õ ù ú ý, either case).
bool is_vietnamese_latin1(char32_t c) {
  switch (c | 0x20) {  // U+00C0..U+00DE and U+00E0..U+00FE differ by 0x20
    case 0xE0: case 0xE1: case 0xE2: case 0xE3: case 0xE8: case 0xE9: case 0xEA: case 0xEC:
    case 0xED: case 0xF2: case 0xF3: case 0xF4: case 0xF5: case 0xF9: case 0xFA: case 0xFD:
      return true;
    default:
      return false;
  }
}

// Whether ASCII vowel `v` directly followed by Vietnamese Latin-1 letter `m` can occur in
// ordinary Vietnamese (tiên, yêu, hoàng, khoé, quý, xuân, giá). Any other pair is a VNI mark.
bool plausible_vietnamese_pair(char32_t v, char32_t m) {
  m |= 0x20;
  switch (ascii_lower(v)) {
    // After i, any: "gi" is a consonant (giá, giúp, giây, giữ), and VNI never puts a mark after
    // i (its toned i are glyphs of their own), so read_vni reads no i + mark pair at all.
    case U'i': return true;
    case U'y': return m == 0xEA;                                               // yê
    case U'o': return m == 0xE0 || m == 0xE1 || m == 0xE3 || m == 0xE8 || m == 0xE9;  // oà oá oã oè oé
    case U'u': return m != 0xF9 && m != 0xF5;                                  // not uù, uõ
    default: return false;                                                     // a, e: never
  }
}

// The one-pass gate: could this text hold legacy Vietnamese at all? `decode` only ever decodes
// a text holding at least one *strong* word, so the gate looks for strong evidence alone: a
// Latin-1 character that is no Vietnamese letter (TCVN3 and most VNI marks), a vowel followed by
// a letter no Vietnamese word puts there or two Latin-1 letters in a row (the other VNI marks),
// or a strong VIQR mark (^ ( +
// ` ~ ? after a vowel, dd). Unicode Vietnamese and plain English pass through in one pass.
// The bytes at which next_evidence has anything to decide; it skips every other byte.
constexpr std::array<bool, 256> kGateBytes = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : {'^', '(', '+', '`', '~', '?', 'd', 'D'}) t[c] = true;
  t[0xC2] = t[0xC3] = true;
  return t;
}();

// Whether the gate byte at s[i] is strong evidence, by the rules above. Always inline: in
// Vietnamese text a gate byte comes every few characters (the 0xC3 of à á â è é ê ...), and
// GCC left it a call (1.4 % of a scan's profile beside next_evidence's 1.7 %).
[[gnu::always_inline]] inline bool evidence_at(std::string_view s, size_t i) {
  const size_t n = s.size();
  const auto b = static_cast<unsigned char>(s[i]);
  if (b >= 0x80) {
    if (b == 0xC2 && i + 1 < n && static_cast<unsigned char>(s[i + 1]) >= 0xA1) return true;  // ¡..¿
    if (b == 0xC3 && i + 1 < n) {
      const char32_t c = 0xC0 + (static_cast<unsigned char>(s[i + 1]) & 0x3F);
      if (!is_vietnamese_latin1(c)) return true;
      if (i > 0 && is_ascii_vowel(static_cast<unsigned char>(s[i - 1])) &&
          !plausible_vietnamese_pair(static_cast<unsigned char>(s[i - 1]), c)) {
        return true;
      }
      // Two Latin-1 letters in a row (VNI ơ/ư glyphs with a tone: môùi) never occur in
      // Unicode Vietnamese, where a syllable carries one mark.
      if (i >= 2 && static_cast<unsigned char>(s[i - 2]) == 0xC3) return true;
    }
    return false;
  }
  const char32_t c = b;
  if (i > 0 && is_ascii_vowel(static_cast<unsigned char>(s[i - 1]))) {
    const char32_t v = ascii_lower(static_cast<unsigned char>(s[i - 1]));
    const char32_t next = i + 1 < n ? static_cast<unsigned char>(s[i + 1]) : 0;
    if (viqr_modified(v, c) != 0 || c == U'`' || c == U'~') return true;
    if (c == U'?' && is_ascii_letter(next)) return true;
  }
  return (c == U'd' || c == U'D') && i + 1 < n && (s[i + 1] == 'd' || s[i + 1] == 'D') &&
         (i == 0 || !is_ascii_letter(static_cast<unsigned char>(s[i - 1])));
}

// Where the first strong evidence at or after `from` lies, or npos. evidence_at reads the bytes
// around it, which are the same whether `s` is a whole text or one of its lines ending in '\n'
// (before a line start comes '\n', no vowel, letter or 0xC3 lead byte), so a search over the
// whole text finds exactly the lines a line-by-line gate would.
size_t next_evidence(std::string_view s, size_t from) {
  const size_t n = s.size();
  size_t i = from;
  // 16 bytes at a time (SSE2, the x86-64 baseline): most blocks hold no gate byte at all.
  for (; i + 16 <= n; i += 16) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    auto is = [&](__m128i v, char c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); };
    const __m128i marks = _mm_or_si128(_mm_or_si128(is(b, '^'), is(b, '(')), _mm_or_si128(is(b, '+'), is(b, '`')));
    const __m128i more = _mm_or_si128(_mm_or_si128(is(b, '~'), is(b, '?')),
                                      is(_mm_and_si128(b, _mm_set1_epi8(static_cast<char>(0xFE))),
                                         static_cast<char>(0xC2)));  // C2 C3
    // A d or D decides something only before another (VIQR's dd): keep those whose next byte is
    // one too (the last byte's next is in the next block: kept). English is full of single d's.
    auto dees = static_cast<unsigned>(_mm_movemask_epi8(is(_mm_or_si128(b, _mm_set1_epi8(0x20)), 'd')));
    dees &= (dees >> 1) | 0x8000u;
    for (auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(marks, more))) | dees; mask != 0;
         mask &= mask - 1) {
      const size_t at = i + static_cast<size_t>(__builtin_ctz(mask));
      if (evidence_at(s, at)) return at;
    }
  }
  for (; i < n; ++i)
    if (kGateBytes[static_cast<unsigned char>(s[i])] && evidence_at(s, i)) return i;
  return std::string_view::npos;
}

// UTF-8 to code points with their byte spans. Input is valid UTF-8 by contract; a malformed byte
// becomes one kInvalid code point of one byte so that it is copied through untouched.
std::vector<CodePoint> split_code_points(std::string_view s) {
  std::vector<CodePoint> cps;
  cps.reserve(s.size());
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    char32_t c = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
      len = 1;
      c = b0;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
      c = b0 & 0x1F;
      min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      c = b0 & 0x0F;
      min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      c = b0 & 0x07;
      min = 0x10000;
    }
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      const auto bk = static_cast<unsigned char>(s[i + k]);
      if ((bk & 0xC0) != 0x80) ok = false;
      c = (c << 6) | (bk & 0x3F);
    }
    if (ok && (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))) ok = false;
    if (!ok) {
      len = 1;
      c = kInvalid;
    }
    cps.push_back({c, static_cast<uint32_t>(i), static_cast<uint32_t>(i + len)});
    i += len;
  }
  return cps;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// Decodes one UTF-8 string that must hold exactly one code point; returns 0 otherwise.
char32_t single_code_point(std::string_view s) {
  const std::vector<CodePoint> cps = split_code_points(s);
  return (cps.size() == 1 && cps[0].c != kInvalid) ? cps[0].c : 0;
}

}  // namespace

struct LegacyDecoder::Tables {
  Tables();

  // Requires evidence in `nfc` (next_evidence): every caller has just found some.
  std::optional<LegacyText> decode(std::string_view nfc) const;

 private:
  // [vowel base index][tone][upper] -> precomposed code point.
  std::array<std::array<std::array<char32_t, 2>, 6>, kVowelBases.size()> compose_{};
  // Every precomposed Vietnamese vowel letter and đ/Đ -> its parts.
  std::unordered_map<char32_t, Letter> letters_;
  // TCVN3 byte 0xA0 + i (seen as U+00A0 + i) -> the Vietnamese letter it encodes, or 0.
  std::array<char32_t, 0x60> tcvn3_{};
  // U+00A0 + i is itself a Vietnamese letter (à, é, ô, ...), so Unicode text uses it too.
  std::array<bool, 0x60> latin1_is_vn_{};
  // U+00A0 + i in VNI-Windows.
  std::array<VniEntry, 0x60> vni_{};

  char32_t compose(const Letter& l) const;
  const VniEntry* vni_at(char32_t c) const {
    return (c >= 0xA0 && c <= 0xFF && vni_[c - 0xA0].kind != VniKind::kNone) ? &vni_[c - 0xA0]
                                                                            : nullptr;
  }
  bool is_unicode_only_vn(char32_t c) const { return c > 0xFF && letters_.count(c) != 0; }

  // A word parse's letters and output, kept by decode() for all its words: nearly every word is
  // parsed and turned down, and two vectors per word were most of a decode's allocations. A
  // reading that is kept copies its output.
  struct WordScratch {
    std::vector<Letter> letters;
    std::vector<OutChar> out;
  };
  size_t scan_viqr(const std::vector<CodePoint>& cps, size_t start, std::vector<Word>& words,
                   WordScratch& scratch) const;
  bool scan_latin(const std::vector<CodePoint>& cps, size_t b, size_t e, std::vector<Word>& words,
                  WordScratch& scratch) const;
  std::optional<Reading> read_vni(const std::vector<CodePoint>& cps, size_t b, size_t e,
                                  WordScratch& scratch) const;
  std::optional<Reading> read_tcvn3(const std::vector<CodePoint>& cps, size_t b, size_t e,
                                    WordScratch& scratch) const;
};

LegacyDecoder::Tables::Tables() {
  // Precomposed letters from ICU's NFC rather than a typed table.
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) throw std::runtime_error("LegacyDecoder: ICU NFC unavailable");
  for (size_t v = 0; v < kVowelBases.size(); ++v) {
    for (int upper = 0; upper < 2; ++upper) {
      const char32_t base =
          upper ? static_cast<char32_t>(u_toupper(static_cast<UChar32>(kVowelBases[v])))
                : kVowelBases[v];
      for (uint8_t tone = 0; tone < kToneMarks.size(); ++tone) {
        icu::UnicodeString s;
        s.append(static_cast<UChar32>(base));
        if (tone != kNoTone) s.append(static_cast<UChar32>(kToneMarks[tone]));
        const icu::UnicodeString composed = nfc->normalize(s, status);
        if (U_FAILURE(status) || composed.countChar32() != 1) {
          throw std::runtime_error("LegacyDecoder: Vietnamese letter does not compose");
        }
        const auto cp = static_cast<char32_t>(composed.char32At(0));
        compose_[v][tone][upper] = cp;
        letters_[cp] = Letter{kVowelBases[v], tone, upper != 0};
      }
    }
  }
  letters_[U'đ'] = Letter{U'đ', kNoTone, false};
  letters_[U'Đ'] = Letter{U'đ', kNoTone, true};
  for (char32_t c = 0xA0; c <= 0xFF; ++c) latin1_is_vn_[c - 0xA0] = letters_.count(c) != 0;

  // TCVN3 from glibc's TCVN5712-1 converter, one byte at a time.
  iconv_t cd = iconv_open("UTF-8", "TCVN5712-1");
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    throw std::runtime_error("LegacyDecoder: iconv has no TCVN5712-1 converter");
  }
  for (unsigned byte = 0xA1; byte <= 0xFF; ++byte) {
    iconv(cd, nullptr, nullptr, nullptr, nullptr);  // back to the initial state
    char in = static_cast<char>(byte);
    char buf[16];
    char* ip = &in;
    size_t il = 1;
    char* op = buf;
    size_t ol = sizeof buf;
    if (iconv(cd, &ip, &il, &op, &ol) == static_cast<size_t>(-1)) continue;
    // glibc holds a base letter back in case a combining tone byte follows; flush it.
    if (iconv(cd, nullptr, nullptr, &op, &ol) == static_cast<size_t>(-1)) continue;
    const char32_t cp = single_code_point(std::string_view(buf, static_cast<size_t>(op - buf)));
    // Only letters are kept: 0xB0..0xB4 are lone combining tone marks.
    if (cp != 0 && letters_.count(cp) != 0) tcvn3_[byte - 0xA0] = cp;
  }
  iconv_close(cd);

  for (const VniRule& r : kVniRules) {
    vni_[r.lower - 0xA0] = VniEntry{r.kind, r.tone, false, r.single};
    vni_[r.upper - 0xA0] = VniEntry{r.kind, r.tone, true, r.single};
  }
}

char32_t LegacyDecoder::Tables::compose(const Letter& l) const {
  if (l.base == U'đ') return l.upper ? U'Đ' : U'đ';
  const auto it = std::find(kVowelBases.begin(), kVowelBases.end(), l.base);
  if (it == kVowelBases.end()) {  // an ASCII consonant
    return l.upper ? l.base - 32 : l.base;
  }
  return compose_[static_cast<size_t>(it - kVowelBases.begin())][l.tone][l.upper ? 1 : 0];
}

// Parses a VIQR word starting at the ASCII letter cps[start]; adds it to `words` if it reads
// as a Vietnamese syllable with at least one mark. Returns where the parse stopped.
size_t LegacyDecoder::Tables::scan_viqr(const std::vector<CodePoint>& cps, size_t start,
                                        std::vector<Word>& words, WordScratch& scratch) const {
  const size_t n = cps.size();
  auto at = [&](size_t k) -> char32_t { return k < n ? cps[k].c : 0; };
  std::vector<Letter>& letters = scratch.letters;
  std::vector<OutChar>& out = scratch.out;
  letters.clear();
  out.clear();
  auto push = [&](const Letter& l, size_t from, size_t to) {
    letters.push_back(l);
    out.push_back({compose(l), cps[from].begin, cps[to - 1].end});
  };
  // After a word-final mark at k: more of the same sentence, in lower case, or , ; : - so the
  // mark cannot be the full stop or question mark that ends a sentence.
  auto not_sentence_end = [&](size_t k) {
    const char32_t c = at(k);
    if (c == U',' || c == U';' || c == U':') return true;
    if (c != U' ') return false;
    while (at(k) == U' ') ++k;
    return at(k) >= U'a' && at(k) <= U'z';
  };
  bool marked = false;
  bool strong = false;
  bool breve = false;
  bool tentative = false;
  size_t p = start;
  // dd / DD / Dd open a word with đ.
  const char32_t d0 = at(p);
  const char32_t d1 = at(p + 1);
  if ((d0 == U'd' || d0 == U'D') && (d1 == U'd' || d1 == U'D') && !(d0 == U'd' && d1 == U'D')) {
    push(Letter{U'đ', kNoTone, d0 == U'D'}, p, p + 2);
    p += 2;
    marked = strong = true;
  }
  while (p < n && is_ascii_letter(at(p))) {
    const char32_t ch = at(p);
    const char32_t lo = ascii_lower(ch);
    const bool up = ch != lo;
    if (!is_ascii_vowel(lo)) {
      push(Letter{lo, kNoTone, up}, p, p + 1);
      ++p;
      continue;
    }
    size_t q = p + 1;
    char32_t base = lo;
    // A modifier followed by a digit is arithmetic (a^2, u+1), not VIQR.
    if (const char32_t m = viqr_modified(lo, at(q)); m != 0 && !is_ascii_digit(at(q + 1))) {
      base = m;
      ++q;
    }
    uint8_t tone = kNoTone;
    if (const uint8_t t = viqr_tone(at(q)); t != kNoTone) {
      const char32_t mark = at(q);
      const char32_t after = at(q + 1);
      bool take = false;
      if (base != lo) {
        // After a modifier the mark can only be a tone (MA^.T, bo^. at the end of a sentence).
        take = !is_ascii_digit(after);
      } else if (mark == U'`' || mark == U'~') {
        // Rarely punctuation, so also a tone at the end of a word (la`, nga~) - unless the word
        // is wrapped in the same character (`code`, ~~strike~~) or it is a path (PROGRA~1).
        take = is_ascii_letter(after) ||
               (!is_ascii_digit(after) && after != mark && !(start > 0 && at(start - 1) == mark));
      } else if (is_ascii_letter(after)) {
        // ' ? . after a bare vowel are a tone inside a word.
        take = true;
      } else if (not_sentence_end(q + 1)) {
        // At the end of a word they are usually punctuation ("Are you?", "sure.", quotes),
        // but not when the sentence goes on in lower case (bi' ma^.t, tre? tuo^?i, vu., giu+~a):
        // then a tone, though only a weak one.
        take = true;
        tentative = true;
      }
      if (take) {
        tone = t;
        ++q;
      }
    }
    if (base != lo) {
      marked = strong = true;
      if (base == U'ă') breve = true;
    }
    if (tone != kNoTone) {
      marked = true;
      // ' and . inside words also occur in English (I'm, a.m.); ` ? ~ hardly ever do.
      if (tone == kHuyen || tone == kHoi || tone == kNga) strong = true;
    }
    push(Letter{base, tone, up}, p, q);
    p = q;
  }
  const size_t end = p;
  if (!marked) return end;
  // "a(n)" is a parenthesised optional letter, not ă.
  if (breve && at(end) == U')') return end;
  // Part of a longer word in another script, or followed by a combining mark that would make
  // the output non-NFC: leave it.
  if ((start > 0 && is_alpha(cps[start - 1].c)) || is_alpha(at(end)) || is_mark(at(end))) {
    return end;
  }
  if (!valid_syllable(letters)) return end;
  words.push_back(Word{start, end, {Reading{Enc::kViqr, strong && !tentative, out}}});
  return end;
}

std::optional<Reading> LegacyDecoder::Tables::read_vni(const std::vector<CodePoint>& cps,
                                                       size_t b, size_t e, WordScratch& scratch) const {
  std::vector<Letter>& letters = scratch.letters;
  std::vector<OutChar>& out = scratch.out;
  letters.clear();
  out.clear();
  auto push = [&](const Letter& l, size_t from, size_t to) {
    letters.push_back(l);
    out.push_back({compose(l), cps[from].begin, cps[to - 1].end});
  };
  bool strong = false;
  size_t p = b;
  while (p < e) {
    const char32_t c = cps[p].c;
    const VniEntry* next = p + 1 < e ? vni_at(cps[p + 1].c) : nullptr;
    if (c < 0x80) {
      const char32_t lo = ascii_lower(c);
      const bool up = c != lo;
      if (is_ascii_vowel(lo) && next != nullptr && next->upper == up) {
        std::optional<Letter> l;
        switch (next->kind) {
          case VniKind::kTone:
            if (lo != U'i' && !(lo == U'y' && next->tone == kNang)) l = Letter{lo, next->tone, up};
            break;
          case VniKind::kCirc:
            if (lo == U'a') l = Letter{U'â', next->tone, up};
            if (lo == U'e') l = Letter{U'ê', next->tone, up};
            if (lo == U'o') l = Letter{U'ô', next->tone, up};
            break;
          case VniKind::kBreve:
            if (lo == U'a') l = Letter{U'ă', next->tone, up};
            break;
          default:
            break;
        }
        if (l) {
          push(*l, p, p + 2);
          // o + à/á/ã is also how Unicode Vietnamese writes hoà, khoá, toàn: not evidence.
          const bool unicode_lookalike =
              lo == U'o' && next->kind == VniKind::kCirc &&
              (next->tone == kSac || next->tone == kHuyen || next->tone == kNga);
          if (!unicode_lookalike) strong = true;
          p += 2;
          continue;
        }
      }
      push(Letter{lo, kNoTone, up}, p, p + 1);
      ++p;
      continue;
    }
    const VniEntry* self = vni_at(c);
    if (self == nullptr || self->kind != VniKind::kSingle) return std::nullopt;
    Letter l{self->single, self->tone, self->upper};
    // The ơ and ư glyphs take a tone mark after them like a plain vowel.
    if ((l.base == U'ơ' || l.base == U'ư') && next != nullptr && next->kind == VniKind::kTone &&
        next->upper == self->upper) {
      l.tone = next->tone;
      push(l, p, p + 2);
      strong = true;
      p += 2;
      continue;
    }
    push(l, p, p + 1);
    ++p;
  }
  if (!valid_syllable(letters)) return std::nullopt;
  // A lone toned vowel ("où" -> ó) is too short to tell VNI from French: weak.
  if (letters.size() == 1) strong = false;
  return Reading{Enc::kVni, strong, out};
}

std::optional<Reading> LegacyDecoder::Tables::read_tcvn3(const std::vector<CodePoint>& cps,
                                                         size_t b, size_t e, WordScratch& scratch) const {
  std::vector<Letter>& letters = scratch.letters;
  std::vector<OutChar>& out = scratch.out;
  letters.clear();
  out.clear();
  bool ascii = false;
  bool tcvn_only = false;
  for (size_t p = b; p < e; ++p) {
    const char32_t c = cps[p].c;
    Letter l{};
    if (c < 0x80) {
      ascii = true;
      l = Letter{ascii_lower(c), kNoTone, ascii_lower(c) != c};
    } else {
      const char32_t cp = tcvn3_[c - 0xA0];
      if (cp == 0) return std::nullopt;
      l = letters_.at(cp);
      if (!latin1_is_vn_[c - 0xA0]) tcvn_only = true;
    }
    letters.push_back(l);
    out.push_back({compose(l), cps[p].begin, cps[p].end});
  }
  if (!valid_syllable(letters)) return std::nullopt;
  // Strong: a character Unicode Vietnamese never writes (Ö, Ë, ¸, ­, ...) inside a word with
  // ASCII letters. "§Ò" (Đề) or "lùc" (lực) alone could be symbols or Unicode; they are weak.
  return Reading{Enc::kTcvn3, ascii && tcvn_only, out};
}

// Reads cps[b, e) (ASCII letters and Latin-1, at least one Latin-1) as VNI and as TCVN3.
bool LegacyDecoder::Tables::scan_latin(const std::vector<CodePoint>& cps, size_t b, size_t e,
                                       std::vector<Word>& words, WordScratch& scratch) const {
  if ((b > 0 && is_alpha(cps[b - 1].c)) ||
      (e < cps.size() && (is_alpha(cps[e].c) || is_mark(cps[e].c)))) {
    return false;
  }
  Word w{b, e, {}};
  if (auto r = read_vni(cps, b, e, scratch)) w.readings.push_back(std::move(*r));
  if (auto r = read_tcvn3(cps, b, e, scratch)) w.readings.push_back(std::move(*r));
  if (w.readings.empty()) return false;
  words.push_back(std::move(w));
  return true;
}

std::optional<LegacyText> LegacyDecoder::Tables::decode(std::string_view nfc) const {
  // The caller has found evidence in `nfc` (next_evidence) already.
  if (nfc.size() >= std::numeric_limits<uint32_t>::max()) return std::nullopt;  // 32-bit offsets

  const std::vector<CodePoint> cps = split_code_points(nfc);
  const size_t n = cps.size();
  std::vector<Word> words;
  // Pasted legacy text usually sits on its own lines under an instruction typed in Unicode, so
  // the evidence is also weighed line by line: per line, whether it has Unicode-only Vietnamese
  // letters, and the line of each word.
  bool unicode_vn = false;
  std::vector<bool> line_unicode_vn{false};
  std::vector<size_t> word_line;
  WordScratch scratch;
  size_t i = 0;
  while (i < n) {
    const char32_t c = cps[i].c;
    if (!is_run_char(c)) {
      if (c == '\n') line_unicode_vn.push_back(false);
      if (c != kInvalid && is_unicode_only_vn(c)) unicode_vn = line_unicode_vn.back() = true;
      ++i;
      continue;
    }
    size_t j = i;
    bool ascii_only = true;
    while (j < n && is_run_char(cps[j].c)) {
      if (cps[j].c >= 0x80) ascii_only = false;
      ++j;
    }
    size_t next = j;
    if (ascii_only) {
      next = std::max(j, scan_viqr(cps, i, words, scratch));
    } else if (!scan_latin(cps, i, j, words, scratch)) {
      // Quotes, currency and other symbols glued to a word («TUYÖT», MA^.T»): retry without them.
      size_t i2 = i;
      size_t j2 = j;
      while (i2 < j2 && cps[i2].c >= 0x80 && !is_alpha(cps[i2].c)) ++i2;
      while (j2 > i2 && cps[j2 - 1].c >= 0x80 && !is_alpha(cps[j2 - 1].c)) --j2;
      if (i2 < j2 && (i2 != i || j2 != j)) {
        const bool inner_ascii =
            std::all_of(cps.begin() + static_cast<ptrdiff_t>(i2),
                        cps.begin() + static_cast<ptrdiff_t>(j2),
                        [](const CodePoint& cp) { return cp.c < 0x80; });
        if (inner_ascii) {
          next = std::max(j, scan_viqr(cps, i2, words, scratch));
        } else {
          scan_latin(cps, i2, j2, words, scratch);
        }
      }
    }
    i = next;
    for (const Word& w : std::span(words).subspan(word_line.size())) {
      for (size_t k = w.begin; k < w.end; ++k)
        if (is_unicode_only_vn(cps[k].c)) line_unicode_vn.back() = true;
      word_line.push_back(line_unicode_vn.size() - 1);
    }
  }

  // Strong readings per encoding. A document is written in one encoding, so where a word has
  // both a VNI and a TCVN3 reading, the encoding with more strong words elsewhere wins.
  std::array<size_t, 3> strong_count{};
  for (const Word& w : words) {
    for (const Reading& r : w.readings) {
      if (r.strong) ++strong_count[static_cast<size_t>(r.enc)];
    }
  }
  auto count_of = [&](const Reading& r) { return strong_count[static_cast<size_t>(r.enc)]; };
  std::vector<std::array<size_t, 3>> line_strong(line_unicode_vn.size(), std::array<size_t, 3>{});
  for (size_t w = 0; w < words.size(); ++w) {
    for (const Reading& r : words[w].readings)
      if (r.strong) ++line_strong[word_line[w]][static_cast<size_t>(r.enc)];
  }
  // Pick one reading per word, or none.
  std::vector<std::pair<const Word*, const Reading*>> chosen;
  chosen.reserve(words.size());
  for (size_t wi = 0; wi < words.size(); ++wi) {
    const Word& w = words[wi];
    const size_t line = word_line[wi];
    const Reading* pick = nullptr;
    for (const Reading& r : w.readings) {
      // Weak readings only where a strong word of the same encoding vouches for them, in a text
      // (or at least a line) with no Unicode Vietnamese; among the eligible, the more common
      // encoding, then the strong reading.
      const bool eligible = r.strong || (!unicode_vn && count_of(r) > 0) ||
                            (!line_unicode_vn[line] && line_strong[line][static_cast<size_t>(r.enc)] > 0);
      if (!eligible) continue;
      if (pick == nullptr || count_of(r) > count_of(*pick) ||
          (count_of(r) == count_of(*pick) && r.strong && !pick->strong)) {
        pick = &r;
      }
    }
    if (pick != nullptr) chosen.emplace_back(&w, pick);
  }
  if (chosen.empty()) return std::nullopt;

  LegacyText result;
  result.text.reserve(nfc.size() + 16);
  result.src_begin.reserve(nfc.size() + 16);
  result.src_end.reserve(nfc.size() + 16);
  auto emit_spans = [&](size_t bytes, uint32_t b, uint32_t e) {
    result.src_begin.insert(result.src_begin.end(), bytes, b);
    result.src_end.insert(result.src_end.end(), bytes, e);
  };
  size_t k = 0;
  size_t next_word = 0;
  while (k < n) {
    if (next_word < chosen.size() && chosen[next_word].first->begin == k) {
      for (const OutChar& oc : chosen[next_word].second->out) {
        const size_t before = result.text.size();
        append_utf8(result.text, oc.cp);
        emit_spans(result.text.size() - before, oc.begin, oc.end);
      }
      k = chosen[next_word].first->end;
      ++next_word;
      continue;
    }
    const CodePoint& cp = cps[k];
    result.text.append(nfc.substr(cp.begin, cp.end - cp.begin));
    emit_spans(cp.end - cp.begin, cp.begin, cp.end);
    ++k;
  }
  return result;
}

LegacyDecoder::LegacyDecoder() : tables_(std::make_shared<const Tables>()) {}

namespace {

// Whether the text holds a letter only Unicode Vietnamese writes (ă đ ĩ ũ ơ ư and the letters of
// U+1EA0..U+1EF9): UTF-8 lead bytes C4..C6 (U+0100..U+01BF), or E1 BA / E1 BB.
bool has_unicode_vietnamese(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0xC4 && b <= 0xC6) return true;
    if (b == 0xE1 && i + 1 < s.size() &&
        (static_cast<unsigned char>(s[i + 1]) == 0xBA || static_cast<unsigned char>(s[i + 1]) == 0xBB))
      return true;
  }
  return false;
}

}  // namespace

std::optional<LegacyText> LegacyDecoder::decode(std::string_view nfc) const {
  const size_t first = next_evidence(nfc, 0);
  if (first == std::string_view::npos) return std::nullopt;
  // A text with no Unicode Vietnamese may be a legacy document throughout: decode it whole, so
  // strong words vouch for weak ones anywhere in it.
  if (!has_unicode_vietnamese(nfc)) return tables_->decode(nfc);

  // Otherwise legacy material is pasted into Unicode text (an instruction above a document in
  // an old font): decode only the lines that carry evidence of their own, and leave the rest out
  // of the view. They are Unicode already, read by the other views; copying them would cost a
  // fold and a scan of the whole text for every stray line, and would let a legacy-only rule read
  // a Unicode line only when some other line of its segment happened to be legacy.
  LegacyText out;
  size_t kept_end = 0;  // the end of the last line put in the view
  bool any = false;
  // From one line with evidence to the next: the lines between hold none (next_evidence).
  for (size_t at = first; at != std::string_view::npos;) {
    const size_t nl_before = at == 0 ? std::string_view::npos : nfc.rfind('\n', at - 1);
    const size_t b = nl_before == std::string_view::npos ? 0 : nl_before + 1;
    size_t e = nfc.find('\n', at);
    e = e == std::string_view::npos ? nfc.size() : e + 1;
    if (auto d = tables_->decode(nfc.substr(b, e - b))) {
      // The line break before a line that does not follow the last one kept, so the line starts
      // a line in the view as it does in the text (a line's own break ends it: `^` and `$` read
      // each kept line as they would the whole text).
      if (b > 0 && kept_end != b) {
        out.text += '\n';
        out.src_begin.push_back(static_cast<uint32_t>(b - 1));
        out.src_end.push_back(static_cast<uint32_t>(b));
      }
      out.text += d->text;
      for (uint32_t v : d->src_begin) out.src_begin.push_back(v + static_cast<uint32_t>(b));
      for (uint32_t v : d->src_end) out.src_end.push_back(v + static_cast<uint32_t>(b));
      kept_end = e;
      any = true;
    }
    at = e < nfc.size() ? next_evidence(nfc, e) : std::string_view::npos;
  }
  if (!any) return std::nullopt;
  return out;
}

}  // namespace promptwall
