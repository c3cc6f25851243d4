// libFuzzer target for classifiers/legacy_decoder alone: the VIQR, TCVN3 and VNI readings of text a
// client pasted, where a wrong byte span would redact the wrong characters.
// Input: any bytes. The decoder's contract takes valid NFC UTF-8 (the Normalizer's raw view), so
// input that is not valid UTF-8 is skipped and the rest is put in NFC here first. Beyond "no crash,
// no sanitizer report", it checks what legacy_decoder.h promises on every decoded text:
//   - the output is valid UTF-8 (a validator written apart from ICU) and NFC;
//   - there is one source span per output byte; every span lies inside the input, is not empty,
//     and starts and ends on a character boundary of the input;
//   - the bytes of one output character share one span, and spans never decrease (neither their
//     begins nor their ends go back as the output goes on);
//   - decoding is pure: the same text decodes to the same result twice.
// Inputs are bounded at 8 KiB: the decoder is linear in the text.
#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "classifiers/legacy_decoder.h"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

// Sequence length at `i` when s[i..] starts a valid UTF-8 character, else 0. Written apart from ICU.
size_t utf8_char(std::string_view s, size_t i) {
  const auto c = static_cast<uint8_t>(s[i]);
  const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<uint8_t>(s[i + k]);
    if ((cc >> 6) != 0x2) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_char(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

const icu::Normalizer2& nfc() {
  UErrorCode ec = U_ZERO_ERROR;
  const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(ec);
  require(U_SUCCESS(ec));
  return *n;
}

std::string to_nfc(std::string_view s) {
  std::string out;
  icu::StringByteSink<std::string> sink(&out, static_cast<int32_t>(s.size()));
  UErrorCode ec = U_ZERO_ERROR;
  nfc().normalizeUTF8(0, icu::StringPiece(s.data(), static_cast<int32_t>(s.size())), sink, nullptr, ec);
  require(U_SUCCESS(ec));
  return out;
}

bool is_nfc(std::string_view s) {
  UErrorCode ec = U_ZERO_ERROR;
  const bool yes = nfc().isNormalizedUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())), ec);
  require(U_SUCCESS(ec));
  return yes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8 * 1024) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (!valid_utf8(bytes)) return 0;
  const std::string input = to_nfc(bytes);
  static const promptwall::LegacyDecoder decoder;  // builds its tables once; decode is const

  const auto decoded = decoder.decode(input);
  const auto again = decoder.decode(input);
  require(decoded.has_value() == again.has_value());
  if (!decoded) return 0;
  require(decoded->text == again->text && decoded->src_begin == again->src_begin && decoded->src_end == again->src_end);

  const std::string& text = decoded->text;
  require(valid_utf8(text));
  require(is_nfc(text));
  require(decoded->src_begin.size() == text.size() && decoded->src_end.size() == text.size());

  // Character boundaries of the input: a span must not cut one.
  std::string boundary(input.size() + 1, '\0');
  for (size_t i = 0; i < input.size(); i += utf8_char(input, i)) boundary[i] = 1;
  boundary[input.size()] = 1;

  uint32_t previous_begin = 0, previous_end = 0;
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_char(text, i);
    const uint32_t b = decoded->src_begin[i], e = decoded->src_end[i];
    require(b < e && e <= input.size());
    require(boundary[b] && boundary[e]);
    require(b >= previous_begin && e >= previous_end);
    for (size_t k = 1; k < n; ++k) require(decoded->src_begin[i + k] == b && decoded->src_end[i + k] == e);
    previous_begin = b;
    previous_end = e;
    i += n;
  }
  return 0;
}
