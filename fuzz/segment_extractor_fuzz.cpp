// libFuzzer target for adapters/segment_extractor: SegmentExtractor::extract(), which turns a
// request body into the pieces of text that are scanned (and redacted in place); a body it misreads
// would let text leave unscanned. It reaches body_charset (transcoding), multipart_form,
// webapp_segments (gemini_web's JSON in a JSON string in a form value) and encoding/web_text.
// Input: the first byte picks the content type (byte % 7, kContentTypes), the schema
// ((byte / 7) % 7, kEverySchema) and the path ((byte / 49) % 3, kPaths: StreamGenerate and
// batchexecute matter to gemini_web); the rest is the body. Beyond "no crash, no sanitizer
// report", it checks the invariants segment_extractor.h states for an Extraction:
//   - status not ok: no segments, no files, an error;
//   - segments are ordered by raw_begin, their [raw_begin, raw_end) ranges never overlap, and
//     each lies inside the body (inside `transcoded` when the body was in another charset);
//   - every segment's text is valid UTF-8;
//   - json_string: the range, decoded through each enclosing layer outermost first (a JSON string
//     body, a form value), is a JSON string token (quotes first and last), and that token's value
//     (parsed by nlohmann::json) is `text` for a value or a key; form_value: the range form-decodes
//     to `text`; raw: a non-empty range is `text` byte for byte, an empty one is a name (kind key);
//   - not rewritable: every key, every decoded_base64 segment, everything in a multipart body and
//     everything in a transcoded body;
//   - strict JSON, both ways, against nlohmann::json (strict by default: no comments, no NaN, no
//     trailing commas, valid UTF-8, no lone surrogates): a body read as JSON with status ok is
//     accepted by nlohmann, and a UTF-8 body read as JSON that nlohmann accepts is refused only
//     for what nlohmann does not check (a duplicate key, nesting deeper than the limit); bodies
//     with a NUL byte are left out of that direction (nlohmann stops reading at one), and so is
//     a number with an exponent of 19+ digits, which simdjson refuses (fail closed, see below).
// Inputs are bounded at 64 KiB (as RE2's fuzzer bounds its own), nesting by the extractor's limit.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "encoding/web_text.h"
#include "gateway/adapters/segment_extractor.h"

namespace {

using promptwall::gateway::Extraction;
using promptwall::gateway::Schema;
using promptwall::gateway::Segment;

void require(bool ok) {
  if (!ok) std::abort();
}

constexpr std::string_view kContentTypes[] = {
    "application/json",
    "text/plain",
    "text/plain; charset=utf-16",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=pwfuzz",
    "",
    "text/plain; charset=windows-1252",
};
constexpr std::string_view kPaths[] = {
    "/v1/chat/completions",
    "/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate?bl=boq&rt=c",
    "/_/BardChatUi/data/batchexecute?rpcids=MUAZcd&rt=c",
};

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (b < 0x80) { ++i; continue; }
    if (b >= 0xC2 && b <= 0xDF) { n = 1; cp = b & 0x1F; }
    else if (b >= 0xE0 && b <= 0xEF) { n = 2; cp = b & 0x0F; }
    else if (b >= 0xF0 && b <= 0xF4) { n = 3; cp = b & 0x07; }
    else return false;
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

bool json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// What the extractor reads as JSON whatever its label: '{' or '[' first after a BOM and spaces.
bool looks_like_json(std::string_view body) {
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);
  const auto first = std::find_if_not(body.begin(), body.end(), json_space);
  return first != body.end() && (*first == '{' || *first == '[');
}

// The value of a JSON string token, or nullopt when `token` is not exactly one.
std::optional<std::string> json_string_value(std::string_view token) {
  if (token.size() < 2 || token.front() != '"' || token.back() != '"') return std::nullopt;
  const nlohmann::json j = nlohmann::json::parse(token, nullptr, /*allow_exceptions=*/false);
  if (!j.is_string()) return std::nullopt;
  return j.get<std::string>();
}

void check_segment(const Segment& s, std::string_view base, bool transcoded, bool multipart) {
  require(s.raw_begin <= s.raw_end && s.raw_end <= base.size());
  require(valid_utf8(s.text));
  if (s.kind != Segment::Kind::value || transcoded || multipart) require(!s.rewritable);
  std::string bytes(base.substr(s.raw_begin, s.raw_end - s.raw_begin));
  // Through every enclosing layer, outermost (last) first.
  for (auto layer = s.enclosing.rbegin(); layer != s.enclosing.rend(); ++layer) {
    if (*layer == Segment::Encoding::form_value) {
      bytes = promptwall::encoding::form_decode(bytes);
    } else {
      const auto inner = json_string_value("\"" + bytes + "\"");
      require(inner.has_value());
      bytes = *inner;
    }
  }
  switch (s.encoding) {
    case Segment::Encoding::json_string: {
      const auto value = json_string_value(bytes);
      require(value.has_value());
      if (s.kind != Segment::Kind::decoded_base64) require(*value == s.text);
      break;
    }
    case Segment::Encoding::form_value:
      require(s.enclosing.empty() && promptwall::encoding::form_decode(bytes) == s.text);
      break;
    case Segment::Encoding::raw:
      require(s.enclosing.empty());
      if (s.raw_begin < s.raw_end) require(bytes == s.text);
      else require(s.kind == Segment::Kind::key || s.text.empty());
      break;
  }
}

// An exponent of 19 or more digits ("0e99999999999999999999", valid JSON worth 0): simdjson's number
// parser refuses it (the exponent overflows its int64), so the extractor refuses the body as
// unparseable while nlohmann reads it. A refusal, so fail closed: left out of the converse check.
bool has_huge_exponent(std::string_view body) {
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] != 'e' && body[i] != 'E') continue;
    size_t j = i + 1;
    if (j < body.size() && (body[j] == '+' || body[j] == '-')) ++j;
    size_t digits = 0;
    while (j + digits < body.size() && body[j + digits] >= '0' && body[j + digits] <= '9') ++digits;
    if (digits >= 19) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 65536) return 0;
  const unsigned selector = data[0];
  const std::string_view content_type = kContentTypes[selector % 7];
  const Schema schema = promptwall::gateway::kEverySchema[(selector / 7) % 7];
  const std::string_view path = kPaths[(selector / 49) % 3];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  const promptwall::gateway::SegmentExtractor extractor;
  const Extraction e = extractor.extract(schema, content_type, path, body);
  if (e.status != Extraction::Status::ok) {
    require(e.segments.empty() && !e.error.empty());
    // A body that is itself a file is handed on as that one file ("body"), to be read or refused.
    if (e.status == Extraction::Status::file) require(e.files.size() == 1 && e.files[0].location == "body");
    else require(e.files.empty());
  }
  const bool transcoded = !e.charset.empty();
  require(transcoded || e.transcoded.empty());
  const std::string_view base = transcoded ? std::string_view(e.transcoded) : body;
  const bool multipart = content_type.starts_with("multipart/");
  size_t previous_end = 0;
  for (const Segment& s : e.segments) {
    require(s.raw_begin >= previous_end);
    previous_end = s.raw_end;
    check_segment(s, base, transcoded, multipart);
  }

  // Strict JSON against nlohmann::json, for bodies read as JSON.
  const bool json_label = content_type == "application/json";
  const bool json_anyway = content_type != "application/x-www-form-urlencoded" && !multipart;
  if (e.status == Extraction::Status::ok && !body.empty() && (json_label || (json_anyway && looks_like_json(base))))
    require(nlohmann::json::accept(base));
  // nlohmann::json reads a NUL byte as the end of its input ("5\0garbage" is accepted as 5), so a
  // body holding one (never valid JSON) is left out of this direction.
  const bool utf8_body = content_type.find("charset") == std::string_view::npos && !body.starts_with("\xFF\xFE") &&
                         !body.starts_with("\xFE\xFF") && !body.starts_with(std::string_view("\0\0\xFE\xFF", 4));
  if (e.status == Extraction::Status::unparseable && utf8_body && body.find('\0') == std::string_view::npos &&
      (json_label || (json_anyway && looks_like_json(body))) && nlohmann::json::accept(body))
    require(e.error.find("duplicate key") != std::string::npos || e.error.find("nesting deeper") != std::string::npos ||
            (e.error.find("parsing a number") != std::string::npos && has_huge_exponent(body)));
  return 0;
}
