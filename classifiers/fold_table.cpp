#include "classifiers/fold_table.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>
#include <unicode/uspoof.h>

#include <stdexcept>
#include <string>

namespace promptwall {
namespace {

using Entry = FoldTable::Entry;
using Class = FoldTable::Class;

Entry make(Class cls, std::string_view out = {}) {
  Entry e;
  // A fold longer than the entry holds (a Hangul syllable's three jamo, an Arabic ligature) is
  // never split: the character is dropped like a zero-width one, so the white space on either
  // side still collapses into one (a text entry of no bytes left two spaces in the folded view).
  if (out.size() > sizeof e.out) return e;
  e.cls = cls;
  e.len = static_cast<uint8_t>(out.size());
  for (size_t i = 0; i < out.size(); ++i) e.out[i] = out[i];
  return e;
}

bool is_line_break(char32_t cp) {
  return cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || cp == 0x85 || cp == 0x2028 ||
         cp == 0x2029;
}

// Mappings ICU's folding does not make but obfuscated or pasted text relies on.
const char* extra_mapping(char32_t cp) {
  switch (cp) {
    case 0x0110: case 0x0111: case 0x0189: case 0x00D0: return "d";  // Đ đ Ɖ Ð
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2015:
    case 0x2212: case 0xFE58: case 0xFE63: case 0xFF0D: return "-";
    case 0x2018: case 0x2019: case 0x201A: case 0x201B: case 0x2032: case 0x00B4: return "'";
    case 0x201C: case 0x201D: case 0x201E: case 0x201F: case 0x00AB: case 0x00BB:
    case 0x2033: return "\"";
    // Dot-like characters people put between letters to dodge filters: `M•Ậ•T`.
    case 0x00B7: case 0x2022: case 0x2219: case 0x22C5: case 0x30FB: case 0x2027:
    case 0x0387: case 0xFF65: return ".";
    case 0x3010: case 0x3016: case 0x301A: return "[";
    case 0x3011: case 0x3017: case 0x301B: return "]";
    default: return nullptr;
  }
}

Entry classify_ascii_result(const std::string& s, int8_t general_category) {
  if (s.size() == 1) {
    unsigned char c = static_cast<unsigned char>(s[0]);
    if (c == ' ' || c == '\t') return make(Class::space);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return make(Class::text, s);
    if (c < 0x20 || c == 0x7F) return make(Class::drop);
    if (c < 0x80) return make(Class::punct, s);
  }
  const bool punctuation = general_category >= U_DASH_PUNCTUATION &&
                           general_category <= U_OTHER_PUNCTUATION;
  return make(punctuation || general_category == U_INITIAL_PUNCTUATION ||
                      general_category == U_FINAL_PUNCTUATION
                  ? Class::punct
                  : Class::text,
              s);
}

Entry compute_with(char32_t cp, const USpoofChecker* spoof) {
  if (is_line_break(cp)) return make(Class::newline);
  const int8_t gc = u_charType(static_cast<UChar32>(cp));
  if (cp == '\t' || gc == U_SPACE_SEPARATOR) return make(Class::space);
  if (gc == U_CONTROL_CHAR || gc == U_FORMAT_CHAR || gc == U_NON_SPACING_MARK ||
      gc == U_ENCLOSING_MARK || gc == U_COMBINING_SPACING_MARK || gc == U_SURROGATE ||
      gc == U_UNASSIGNED ||
      u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_DEFAULT_IGNORABLE_CODE_POINT)) {
    return make(Class::drop);
  }
  if (const char* m = extra_mapping(cp)) return classify_ascii_result(m, gc);

  UErrorCode ec = U_ZERO_ERROR;
  icu::UnicodeString src(static_cast<UChar32>(cp));

  // Look-alike letters from Cyrillic and Greek: take ICU's confusable skeleton when it is one
  // ASCII letter (Cyrillic `М` → `M`, Greek `Τ` → `T`). The lower-case form is asked first, so
  // capital `Ι`/`І` (skeleton `l`) fold like `ι`/`і` to `i`; the upper-case form last, so the
  // small capitals `т м к н` fold like `Т М К Н`.
  if (spoof != nullptr && u_isalpha(static_cast<UChar32>(cp))) {
    UScriptCode script = uscript_getScript(static_cast<UChar32>(cp), &ec);
    if (U_SUCCESS(ec) && (script == USCRIPT_CYRILLIC || script == USCRIPT_GREEK)) {
      for (UChar32 form : {u_tolower(static_cast<UChar32>(cp)), static_cast<UChar32>(cp),
                           u_toupper(static_cast<UChar32>(cp))}) {
        icu::UnicodeString skeleton;
        uspoof_getSkeletonUnicodeString(spoof, 0, icu::UnicodeString(form), skeleton, &ec);
        if (U_SUCCESS(ec) && skeleton.length() == 1 && skeleton[0] < 0x80 && u_isalpha(skeleton[0])) {
          std::string out(1, static_cast<char>(u_tolower(skeleton[0])));
          return make(Class::text, out);
        }
        ec = U_ZERO_ERROR;
      }
    }
    ec = U_ZERO_ERROR;
  }

  // NFKC case folding unfolds compatibility forms and case; NFD then separates the diacritics,
  // which are dropped (Vietnamese ơ/ư lose their horn the same way).
  const icu::Normalizer2* nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(ec);
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(ec);
  if (U_FAILURE(ec)) throw std::runtime_error("ICU normalisers unavailable");
  icu::UnicodeString folded = nfkc_cf->normalize(src, ec);
  icu::UnicodeString decomposed = nfd->normalize(folded, ec);
  if (U_FAILURE(ec)) return make(Class::drop);
  icu::UnicodeString stripped;
  for (int32_t i = 0; i < decomposed.length();) {
    UChar32 c = decomposed.char32At(i);
    i += U16_LENGTH(c);
    int8_t cgc = u_charType(c);
    if (cgc == U_NON_SPACING_MARK || cgc == U_ENCLOSING_MARK || cgc == U_COMBINING_SPACING_MARK) continue;
    if (const char* m = extra_mapping(static_cast<char32_t>(c))) {
      stripped.append(icu::UnicodeString::fromUTF8(m));
    } else {
      stripped.append(c);
    }
  }
  if (stripped.isEmpty()) return make(Class::drop);
  std::string out;
  stripped.toUTF8String(out);
  return classify_ascii_result(out, gc);
}

}  // namespace

FoldTable::Entry FoldTable::compute(char32_t cp) { return compute_with(cp, nullptr); }

FoldTable::FoldTable() : bmp_(0x10000) {
  UErrorCode ec = U_ZERO_ERROR;
  USpoofChecker* spoof = uspoof_open(&ec);
  if (U_FAILURE(ec)) throw std::runtime_error("ICU spoof checker unavailable");
  for (char32_t cp = 0; cp < 0x10000; ++cp) {
    if (cp < 0x80) {
      // ASCII: the hot path of most text, so decided here without ICU.
      unsigned char c = static_cast<unsigned char>(cp);
      if (c == '\n' || c == '\r' || c == 0x0B || c == 0x0C) bmp_[cp] = make(Class::newline);
      else if (c == ' ' || c == '\t') bmp_[cp] = make(Class::space);
      else if (c < 0x20 || c == 0x7F) bmp_[cp] = make(Class::drop);
      else if (c >= 'A' && c <= 'Z') bmp_[cp] = make(Class::text, std::string(1, char(c + 32)));
      else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) bmp_[cp] = make(Class::text, std::string(1, char(c)));
      else bmp_[cp] = make(Class::punct, std::string(1, char(c)));
      continue;
    }
    bmp_[cp] = compute_with(cp, spoof);
  }
  uspoof_close(spoof);
}

}  // namespace promptwall
