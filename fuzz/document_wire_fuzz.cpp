// libFuzzer target for extractors/document_wire: the decoder the gateway runs on an extraction
// worker's answer, which a worker subverted by a hostile file may have written byte by byte.
// Input: one answer frame (and, read again as a request frame, the worker's side). Beyond "no crash,
// no sanitizer report", it checks document_wire.h's promises on every answer it accepts:
//   - every string is valid UTF-8 (re-checked here independently of the decoder), every anchor
//     lies inside its part's text, the first at 0, in order; text within the bound;
//   - the answer re-encodes to exactly the input frame (the format has one spelling per document,
//     so nothing the decoder accepted was silently dropped or reinterpreted).
// Inputs are bounded at 64 KiB; the text bound is 16 KiB so the bound checks are reached.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "extractors/document_wire.h"
#include "fuzz/utf8_reference.h"

namespace {

using namespace promptwall::extractors;

void require(bool ok) {
  if (!ok) std::abort();
}

// A UTF-8 check written apart from the decoder's (ICU's U8_NEXT), to catch either erring.
bool utf8(std::string_view s) { return !promptwall::fuzz::first_invalid_utf8(s).has_value(); }

void check_place(const SpanPlace& p) {
  require(utf8(p.cell) && utf8(p.inner));
  require(static_cast<uint8_t>(p.place) <= static_cast<uint8_t>(Place::attachment));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  const wire::AnswerBounds bounds{16 * 1024, 4 * 1024};
  std::string error;
  if (const auto d = wire::decode_document(frame, bounds, &error)) {
    require(error.empty());
    require(utf8(d->name) && utf8(d->sha256) && utf8(d->detail));
    uint64_t text = 0;
    for (const TextPart& part : d->parts) {
      check_place(part.place);
      require(utf8(part.source) && utf8(part.text) && !part.text.empty());
      text += part.text.size();
      uint32_t previous = 0;
      for (size_t k = 0; k < part.anchors.size(); ++k) {
        const Anchor& a = part.anchors[k];
        check_place(a.place);
        require(a.offset <= part.text.size() && a.offset >= previous && (k > 0 || a.offset == 0));
        previous = a.offset;
      }
    }
    require(text <= bounds.max_text_bytes);
    require(wire::encode_document(*d) == frame);
  } else {
    require(!error.empty());
  }
  error.clear();
  if (const auto q = wire::decode_request(frame, 32 * 1024, &error)) {
    require(q->bytes.size() <= q->limits.max_file_bytes && utf8(q->name));
    require(wire::encode_request(*q) == frame);
  } else {
    require(!error.empty());
  }
  return 0;
}
