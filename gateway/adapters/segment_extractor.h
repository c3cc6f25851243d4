// SegmentExtractor: the pieces of text a request body sends, each with where it sits in the body,
// so that they can be scanned, and redacted in place by rewrite_body() (gateway/adapters/body_rewriter.h).
//
// Coverage (issue 12, docs/architecture.md "Coverage"): every string value AND every object key
// of a JSON body is a segment, whatever the schema; every form field's name and value; the whole
// of any other text. Schema knowledge only names locations and adds the known file fields; it
// never removes user text. The only exclusions are transport the user does not write, each said
// where it is made (gemini_web's XSRF token `at` and batchexecute's rpc ids and markers).
//
// Invariants of an Extraction:
//   - `segments` are ordered by raw_begin and their [raw_begin, raw_end) ranges never overlap;
//     every range lies inside the body given to extract() (or inside `transcoded`, when set).
//   - json_string: body[raw_begin] and body[raw_end - 1] are the token's quotes, and `text` is the
//     token's unescaped value (kind value or key). form_value: body[raw_begin, raw_end)
//     percent-decodes to `text`. raw: the range is the whole body and `text` is the body, or, in
//     multipart/form-data, a text part's content; a part's name and filename have an empty
//     range at their part's content (they are never rewritten).
//     kind decoded_base64: the range is the base64 string's token and `text` its decoded bytes.
//   - nested (`enclosing` not empty, the web apps' JSON inside a JSON string inside a form value):
//     [raw_begin, raw_end) are the body bytes that encode the innermost token through every
//     enclosing layer; decoding them layer by layer, outermost first, gives the token, and
//     re-encoding a new token innermost first gives bytes that can stand in their place.
//   - `rewritable` is false for a key (a rewritten key can collide with a sibling or break the
//     API), for decoded base64 (the file's bytes would have to be re-encoded), for everything in
//     multipart/form-data (a redaction that met the boundary would split the form) and for every
//     segment of a transcoded body (offsets are in the UTF-8 text, not in the body's charset):
//     a redaction there must be escalated to a block (RequestInspector does).
//   - `text` is always valid UTF-8.
//   - status ok: every value of the document was parsed strictly (see "Strict JSON" below);
//     `segments` is every text that leaves, `files` every file the body carries that was not
//     read as text. status unparseable: no segments, no files; the request is refused. status
//     file: no segments, one CarriedFile "body" holding the whole body.
//   - `error` is English for logs and holds positions and limits, never body text. `location`
//     is built from object keys and field names, and a key that looks like data (digits, non-
//     ASCII, long) is withheld there as `[*]`: the key itself is scanned as its own segment.
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
  enum class Kind : uint8_t {
    value,           // a string value, a form value, a whole text body
    key,             // an object key or a form field name; location ends in " (key)"
    decoded_base64,  // a base64 string (data: URL or file field) whose bytes are UTF-8 text;
                     // location ends in " (decoded base64)"
    document,        // one part of a carried file's text (RequestInspector adds these; the
                     // extractor never makes them): "file report.docx: page header"
  };
  std::string text;        // the text itself (JSON/percent escapes decoded), UTF-8 as sent
  std::string location;    // where in the body, for people: "messages[2].content", "contents[0].parts[1].text",
                           // "tools[0].input_schema.properties.city (key)", "body" for raw
  size_t raw_begin = 0;    // byte range in the (decoded) body of the token that holds it:
  size_t raw_end = 0;      //   json_string: the string token INCLUDING its quotes; form_value: the value's
                           //   percent-encoded bytes; raw: the whole body [0, size)
  Encoding encoding = Encoding::raw;
  // What the token sits inside, innermost first: json_string = inside another JSON string's value
  // (escaped once more), form_value = inside a percent-encoded form value. Empty for a token that
  // is itself in the body.
  std::vector<Encoding> enclosing = {};
  Kind kind = Kind::value;
  bool rewritable = true;  // false: a redaction here cannot be spliced in (see the invariants)
};

// A file the request carries whose bytes are not plain text: a base64 data: URL or file field in
// JSON, a multipart part with a filename or a non-text type, or the whole body (status file). Its
// text is read by extractors/ (RequestInspector hands `bytes` to the document reader); nothing in it
// is scanned by the segment pass.
struct CarriedFile {
  std::string location;    // as Segment::location; "body" for a body that is itself a file
  std::string media_type;  // declared (data: URL, part or body Content-Type) or sniffed; "" if unknown.
                           // Recorded only: extractors/ judges the type from the bytes.
  size_t size = 0;         // decoded bytes (the base64 text's length when it did not decode)
  std::string name = {};   // the client's file name: a multipart filename, a JSON sibling
                           // "filename"/"file_name"; "" when none was given
  std::string bytes = {};  // the file's bytes, when `decoded`
  bool decoded = true;     // false: a data: URL that says base64 but does not decode cleanly
                           // (a lenient reader may still find a file in it: unreadable, fail closed)
};

struct Extraction {
  enum class Status : uint8_t {
    ok,           // read completely; `segments` and `files` are everything that leaves
    unparseable,  // not readable as what it claims or looks like (JSON that is not strict JSON, text
                  // that is not valid in its charset, an unknown charset, ...): refuse as unreadable
    file,         // the body is itself a file (multipart/*, octet-stream, image/*, pdf, ...):
                  // `files` holds it, as "body"
  };
  Status status = Status::ok;
  std::vector<Segment> segments;   // ordered by raw_begin; ranges never overlap
  std::vector<CarriedFile> files;  // in body order
  std::string error;               // English, for logs, when status != ok: "JSON nesting deeper than 64 at byte 812"
  // When the body was in another charset (a `charset=` parameter, a UTF-16/32 byte order mark):
  // the body as UTF-8, which segment ranges refer to; no segment is then rewritable.
  std::string transcoded;
  std::string charset;             // the charset the body was decoded from, when transcoded
};

// max_json_depth counts nested objects and arrays (a top-level object is depth 1). It is capped
// at 1024, simdjson's own limit.
struct ExtractorLimits { size_t max_json_depth = default_limits::max_json_depth; };

// Which body is read how (after the charset: a body in another charset is decoded to UTF-8 first,
// adapters/body_charset.h; an unknown charset or bytes invalid in it are unparseable):
//   - empty body: ok, no segments.
//   - multipart/form-data (adapters/multipart_form.h, strict): each field's name and each file's
//     name (kind key), each text part's content (a JSON part parsed as JSON, located
//     "<field>:<inner>"); a part with a filename or a non-text type is a CarriedFile. A form
//     the parser refuses is unparseable.
//   - multipart/related and multipart/mixed (Google's multipart upload): status file, the body as a
//     MIME entity (a Content-Type header naming its boundary prepended), read by extractors/.
//   - other multipart/*, application/octet-stream, image/*, audio/*, video/*, font/* and known
//     binary application types (pdf, zip, protobuf, ...), or a body whose first bytes name a file
//     format whatever its label: status file.
//   - application/x-www-form-urlencoded: each field's name (kind key) and value; a name alone is a key.
//   - JSON: application/json, */*+json, and ANY other body (text/*, an unknown type, none, every
//     schema) whose first byte after spaces and a BOM is '{' or '[', since a lenient upstream would
//     read it as JSON. Parsed strictly; every string value and key is a segment.
//   - anything else: one raw segment, or unparseable if it is not valid UTF-8.
//
// Strict JSON: what the gateway parses is exactly what the upstream parses, so a document any
// reader could take two ways is unparseable: duplicate keys in one object (compared unescaped),
// NaN/Infinity, comments, trailing commas, a lone surrogate escape, invalid UTF-8, nesting deeper
// than max_json_depth, content after the document. It is never scanned as raw text instead
// (escapes would stay encoded: "TUY\u1ec6T M\u1eacT" would pass).
//
// Files in JSON: a string that is a base64 data: URL (anywhere), a base64 string in a known file
// field (OpenAI `file_data`, `image_url` and `image_url.url`; Anthropic `data` of an object whose
// `type` is "base64"; Gemini `inline_data.data` / `inlineData.data`; `input_audio.data`), or any
// string of 256 or more characters that is entirely base64, is decoded: UTF-8 text becomes a
// decoded_base64 segment (in place of the string), other bytes a CarriedFile, and so does text
// whose first bytes name a file format (a PDF written in ASCII still hides its text in streams).
// Base64 that does not decode cleanly stays an ordinary string segment.
//
// JSON in a string: a string value that is itself a strict JSON object or array (a tool call's
// `arguments`) is opened like the body, up to 4 levels deep: its strings and keys are segments in
// its place (location "<string's location>:<inner location>", `enclosing` json_string), so escapes
// inside it hide nothing and a stamp in an inner field is matched in that field. Inner values are
// redacted through the layers like the web apps'. A string that only looks like JSON stays text.
//
// Web apps: gemini_web (gemini.google.com's /_/BardChatUi/) sends a form whose `f.req` holds JSON
// whose strings hold JSON again (opened one level: a prompt that looks like JSON stays one text);
// every string and key of it is a segment except batchexecute's rpc ids and "generic" markers,
// and every other form field except the XSRF token `at` (both are the app's transport, and the
// token is a secret of the user's session that must not reach logs). The StreamGenerate prompt is
// at "f.req[1]:[0][0]". An f.req that does not parse, or without its known envelope, is
// unparseable (refused: fail closed). chatgpt_web is plain JSON.
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
