#include "gateway/adapters/body_rewriter.h"

#include <algorithm>
#include <stdexcept>

#include "encoding/web_text.h"

namespace promptwall::gateway {
namespace {

// What a browser sends (WHATWG serializer), so a rewritten form value looks native.
using encoding::form_encode;
using encoding::json_string_token;

std::string encode_as(Segment::Encoding encoding, std::string_view text) {
  switch (encoding) {
    case Segment::Encoding::json_string: return json_string_token(text);
    case Segment::Encoding::form_value: return form_encode(text);
    case Segment::Encoding::raw: return std::string(text);
  }
  return std::string(text);
}

// The token, then each enclosing layer's escaping, innermost first (inside a JSON string the
// token's bytes are that string's content: escaped, without quotes of their own).
std::string encode(const Segment& segment, std::string_view text) {
  std::string out = encode_as(segment.encoding, text);
  for (Segment::Encoding layer : segment.enclosing) {
    out = encode_as(layer, out);
    if (layer == Segment::Encoding::json_string) out = out.substr(1, out.size() - 2);
  }
  return out;
}

}  // namespace


std::string rewrite_body(std::string_view body, std::vector<SegmentReplacement> replacements) {
  std::sort(replacements.begin(), replacements.end(), [](const SegmentReplacement& a, const SegmentReplacement& b) {
    return a.segment->raw_begin < b.segment->raw_begin;
  });
  std::string out;
  out.reserve(body.size());
  size_t copied = 0;  // body bytes before this offset are in `out`
  for (const SegmentReplacement& r : replacements) {
    const Segment& s = *r.segment;
    if (!s.rewritable)
      throw std::invalid_argument("rewrite_body: segment at " + std::to_string(s.raw_begin) +
                                  " is not rewritable (a key, decoded base64 or a transcoded body)");
    if (s.raw_begin < copied || s.raw_end < s.raw_begin || s.raw_end > body.size())
      throw std::invalid_argument("rewrite_body: segment [" + std::to_string(s.raw_begin) + ", " +
                                  std::to_string(s.raw_end) + ") overlaps another or lies outside a body of " +
                                  std::to_string(body.size()) + " bytes");
    out.append(body.substr(copied, s.raw_begin - copied));
    out += encode(s, r.text);
    copied = s.raw_end;
  }
  out.append(body.substr(copied));
  return out;
}

}  // namespace promptwall::gateway
