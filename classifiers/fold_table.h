// FoldTable: what each code point becomes in the `folded` view: lower case, no Vietnamese
// diacritics, `đ` → `d`, Cyrillic/Greek look-alikes → Latin, compatibility forms unfolded, format
// characters dropped, white space classified. The table is derived once from ICU's data (NFKC
// case folding, canonical decomposition, the confusable skeletons), never typed by hand, except
// for the few mappings ICU does not make (đ, dashes, quotes, dot-like separators).
//
// Immutable after construction; lookups are const and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

namespace promptwall {

class FoldTable {
 public:
  enum class Class : uint8_t {
    drop,     // contributes nothing (zero-width, format and control characters, stray marks)
    space,    // horizontal white space; runs collapse to one ' '
    newline,  // a line break; a white-space run holding one collapses to one '\n'
    punct,    // punctuation; a run of the same one collapses to one
    text,     // letters, digits, symbols: emitted as `out`
  };
  struct Entry {
    Class cls = Class::drop;
    uint8_t len = 0;  // bytes used in out
    char out[6] = {};
  };

  FoldTable();

  Entry lookup(char32_t cp) const {
    if (cp < 0x10000) return bmp_[cp];
    return compute(cp);  // outside the BMP: rare (mathematical alphanumerics, emoji)
  }

 private:
  static Entry compute(char32_t cp);
  std::vector<Entry> bmp_;
};

}  // namespace promptwall
