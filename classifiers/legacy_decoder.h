// LegacyDecoder: recovers Vietnamese text that arrives in a pre-Unicode disguise, so the `legacy`
// view can match it like any other text:
//  - VIQR, typed with ASCII marks: `TO^'I MA^.T` -> `TỐI MẬT`, `dd` -> `đ`;
//  - text written in the TCVN3 (ABC) fonts and pasted as Unicode, which shows Latin-1 look-alikes:
//    `TUYÖT MËT` -> `TUYệT MậT` (TCVN3 has no upper-case toned letters; case is folded later);
//  - text written in the VNI fonts and pasted as Unicode, which shows a letter followed by a mark
//    character: `TUYEÄT MAÄT` -> `TUYỆT MẬT`.
//
// Invariants:
//  - Input is valid NFC UTF-8 (the Normalizer guarantees it). Output is valid NFC UTF-8.
//  - `decode` returns nullopt when the text shows no sign of any legacy encoding; that check is
//    the common path and must be cheap (pure ASCII text without VIQR mark sequences is rejected
//    in one pass).
//  - Every output byte maps back to the input: output byte i came from input bytes
//    [src_begin[i], src_end[i]). Bytes of one decoded character share one span; spans never
//    decrease.
//  - Immutable after construction; `decode` is const and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace promptwall {

struct LegacyText {
  std::string text;                  // decoded, NFC UTF-8
  std::vector<uint32_t> src_begin;   // per output byte: start of its source span in the input
  std::vector<uint32_t> src_end;     // per output byte: end of its source span in the input
};

class LegacyDecoder {
 public:
  LegacyDecoder();  // builds the TCVN3 and VNI tables once

  // Decodes every legacy-encoded word of `nfc`; other characters are copied as they are. Text
  // without Unicode Vietnamese may be legacy throughout and is decoded whole. In text that holds
  // Unicode Vietnamese, only the lines with legacy evidence of their own that decode are returned,
  // each with the line breaks around it (a line that does not follow the previous one opens with
  // the break before it), so `^` and `$` read each kept line as in the whole text; the Unicode
  // lines between them are left out (the other views read them).
  std::optional<LegacyText> decode(std::string_view nfc) const;

 private:
  struct Tables;
  std::shared_ptr<const Tables> tables_;
};

}  // namespace promptwall
