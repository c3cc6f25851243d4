// SegmentExtractor: the pieces of text a request body sends, each with where it sits in the body,
// so that they can be scanned, and redacted in place by rewrite_body() (gateway/adapters/body_rewriter.h).
//
// Invariants of an Extraction:
//   - `segments` are ordered by raw_begin and their [raw_begin, raw_end) ranges never overlap;
//     every range lies inside the body given to extract().
//   - json_string: body[raw_begin] and body[raw_end - 1] are the token's quotes, and `text` is the
//     token's unescaped value. form_value: body[raw_begin, raw_end) percent-decodes to `text`.
//     raw: the range is the whole body and `text` is the body.
//   - nested (`enclosing` not empty, the web apps' JSON inside a JSON string inside a form value):
//     [raw_begin, raw_end) are the body bytes that encode the innermost token through every
//     enclosing layer; decoding them layer by layer, outermost first, gives the token, and
//     re-encoding a new token innermost first gives bytes that can stand in their place.
//   - `text` is always valid UTF-8: a JSON string with invalid UTF-8 makes the body unparseable,
//     and form or raw text that is not UTF-8 makes it binary.
//   - status ok: every value of the document was parsed, so malformed JSON or trailing bytes are
//     never ok; `segments` is everything the schema says leaves as text (possibly nothing).
//   - `error` is English for logs and holds positions and limits, never body text. `location`
//     is built from object keys and field names, which are not scanned (see extract()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/catalog/service.h"
#include "gateway/config/default_limits.h"

namespace promptwall::gateway {

// One piece of text that leaves in a request body.
struct Segment {
  enum class Encoding : uint8_t { json_string, form_value, raw };
  std::string text;        // the text itself (JSON/percent escapes decoded), UTF-8 as sent
  std::string location;    // where in the body, for people: "messages[2].content", "contents[0].parts[1].text",
                           // "tools[0].function.parameters.properties.city.description", "body" for raw
  size_t raw_begin = 0;    // byte range in the (decoded) body of the token that holds it:
  size_t raw_end = 0;      //   json_string: the string token INCLUDING its quotes; form_value: the value's
                           //   percent-encoded bytes; raw: the whole body [0, size)
  Encoding encoding = Encoding::raw;
  // What the token sits inside, innermost first: json_string = inside another JSON string's value
  // (escaped once more), form_value = inside a percent-encoded form value. Empty for a token that
  // is itself in the body.
  std::vector<Encoding> enclosing = {};
};

struct Extraction {
  enum class Status : uint8_t {
    ok,            // parsed by the schema / body type; `segments` is everything that leaves
    unparseable,   // could not parse as its content type says (malformed JSON, too deep, ...);
                   // `segments` holds ONE raw segment of the whole body if it is valid UTF-8, else none
    binary,        // not text (e.g. multipart with files, octet-stream, invalid UTF-8): no segments
  };
  Status status = Status::ok;
  std::vector<Segment> segments;  // ordered by raw_begin; ranges never overlap
  std::string error;              // English, for logs, when status != ok: "JSON nesting deeper than 64 at byte 812"
};

// max_json_depth counts nested objects and arrays (a top-level object is depth 1). It is capped
// at 1024, simdjson's own limit.
struct ExtractorLimits { size_t max_json_depth = default_limits::max_json_depth; };

// Which body is read how:
//   - empty body: ok, no segments.
//   - JSON (application/json, */*+json, or no content type and a body starting with '{' or '['):
//     Schema::json takes every string value except base64 `data:` URLs. openai, gemini and anthropic
//     take the fields their APIs carry text in (the union over each API's endpoints, which do not
//     collide); a JSON body with none of those top-level fields is an endpoint the schema does not
//     describe and is read as Schema::json. Object keys are never segments.
//   - application/x-www-form-urlencoded: one form_value segment per field, location = field name.
//   - multipart/*, application/octet-stream, image/*, audio/*, video/*, font/* and known binary
//     application types (pdf, zip, protobuf, ...): binary.
//   - chatgpt_web (chatgpt.com's /backend-api/): a conversation request (top-level `messages` or the
//     prepare call's `partial_query`) gives the user's text: content.parts[] strings and their
//     objects' `text`, content.text, custom instructions (user_profile, user_instructions) and
//     attachment names; any other JSON (and a WebSocket message) is read as Schema::json.
//   - gemini_web (gemini.google.com's /_/BardChatUi/): a form whose `f.req` holds JSON whose strings
//     hold JSON again (opened one level: a prompt that looks like JSON stays one text).
//     StreamGenerate: the prompt, f.req[1] → [0][0] (location "f.req[1]:[0][0]"); batchexecute
//     and other calls: every string of the nested JSON except batchexecute's rpc ids and markers;
//     other form fields except the XSRF token `at`. An f.req that does not parse,
//     or a StreamGenerate/batchexecute f.req without its known envelope, is unparseable with no
//     segments (so refused: fail closed). A form without f.req is read as any form.
//   - anything else, text/* and every body of Schema::text: one raw segment, or binary if it is not
//     valid UTF-8. Unknown types are read as text when they are text, since a DLP gateway should
//     see text in a format it does not know rather than wave it through.
// Thread-safe: extract() is const and keeps no state between calls.
class SegmentExtractor {
 public:
  explicit SegmentExtractor(ExtractorLimits limits = {});

  // content_type: the Content-Type header value (may be empty). path: the request path after the
  // service prefix (e.g. "/v1/chat/completions", "/v1beta/models/gemini-2.0-flash:generateContent").
  // Only gemini_web needs the path (StreamGenerate and batchexecute share the form but not its shape).
  Extraction extract(Schema schema, std::string_view content_type, std::string_view path, std::string_view body) const;

 private:
  ExtractorLimits limits_;
};

}  // namespace promptwall::gateway
