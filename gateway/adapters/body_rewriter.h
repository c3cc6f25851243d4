// rewrite_body: puts new text (a redaction) into the places of a body that SegmentExtractor found,
// leaving every other byte as it was, so the body still parses as what it was and says what it
// said apart from the replaced text.
//
// Invariants:
//   - Bytes outside the replaced segments' [raw_begin, raw_end) ranges are copied unchanged and in
//     order; a segment that is not replaced keeps its bytes even if an identical text is elsewhere.
//   - A json_string replacement is one valid JSON string token for a UTF-8 `text`: '"', '\\' and
//     the control characters U+0000..U+001F are escaped (\n, \t, ... or \u00XX); other characters,
//     including non-ASCII UTF-8, are copied as they are. Decoding the token gives back `text`.
//   - A form_value replacement percent-encodes every byte except ASCII letters, digits and
//     "*-._", and writes a space as '+' (WHATWG application/x-www-form-urlencoded serializer), so
//     it never introduces a '&' or '=' that would split or rename a field.
//   - A raw replacement is copied as is.
//   - A nested segment's replacement (Segment::enclosing) is its token encoded as above, then
//     escaped for each enclosing layer, innermost first: decoded layer by layer it is the new token.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "encoding/web_text.h"
#include "gateway/adapters/segment_extractor.h"

namespace promptwall::gateway {

struct SegmentReplacement { const Segment* segment; std::string text; };  // new text for a segment

// A copy of `body` where each replaced segment's raw range holds its new text encoded as that
// segment's encoding (json_string: a JSON string token with ", \, control characters escaped and
// UTF-8 kept as is; form_value: percent-encoded; raw: as is). Every other byte is unchanged.
// Replacements may come in any order; segments must not overlap (they never do from extract()).
// Throws std::invalid_argument if two replaced ranges overlap, one lies outside `body`, or a
// segment is not `rewritable` (a key, decoded base64, a transcoded body: the caller must block
// instead): that is a caller's bug, and a silently mangled body must never be forwarded.
std::string rewrite_body(std::string_view body, std::vector<SegmentReplacement> replacements);

// The encodings rewrite_body() writes, for callers that build a body themselves, are
// encoding::json_string_token and encoding::form_encode (encoding/web_text.h).
using encoding::json_string_token;

}  // namespace promptwall::gateway
