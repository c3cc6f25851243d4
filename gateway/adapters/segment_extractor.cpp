#include "gateway/adapters/segment_extractor.h"

#include <simdjson.h>

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <utility>

#include "encoding/web_text.h"
#include "gateway/adapters/segment_parsing.h"

namespace promptwall::gateway {
namespace {

namespace od = simdjson::ondemand;

// ---------------------------------------------------------------------------------------------
// What kind of body this is

enum class BodyKind : uint8_t { json, form, text, binary };

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// "Application/JSON; charset=utf-8" → "application/json".
std::string media_type(std::string_view content_type) {
  std::string_view mt = content_type.substr(0, content_type.find(';'));
  while (!mt.empty() && (mt.front() == ' ' || mt.front() == '\t')) mt.remove_prefix(1);
  while (!mt.empty() && (mt.back() == ' ' || mt.back() == '\t')) mt.remove_suffix(1);
  std::string out(mt);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

bool is_binary_type(std::string_view mt) {
  for (std::string_view prefix : {"multipart/", "image/", "audio/", "video/", "font/", "model/", "application/grpc"})
    if (mt.starts_with(prefix)) return true;
  for (std::string_view t : {"application/octet-stream", "application/pdf", "application/zip", "application/gzip",
                             "application/x-tar", "application/x-7z-compressed", "application/protobuf",
                             "application/x-protobuf", "application/msgpack", "application/x-msgpack",
                             "application/cbor", "application/wasm"})
    if (mt == t) return true;
  return false;
}

BodyKind classify(Schema schema, std::string_view mt, std::string_view body) {
  if (is_binary_type(mt)) return BodyKind::binary;
  if (schema == Schema::text) return BodyKind::text;
  if (mt == "application/x-www-form-urlencoded") return BodyKind::form;
  if (mt == "application/json" || mt.ends_with("+json")) return BodyKind::json;
  if (mt.empty()) {
    if (body.starts_with(kUtf8Bom)) body.remove_prefix(kUtf8Bom.size());
    const auto first = std::find_if_not(body.begin(), body.end(), is_json_space);
    if (first != body.end() && (*first == '{' || *first == '[')) return BodyKind::json;
  }
  return BodyKind::text;
}

bool is_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

// ---------------------------------------------------------------------------------------------
// Where a value sits, and which places a schema reads

struct PathStep {
  std::string key;  // empty for an array element
  size_t index = 0;
  bool is_index = false;
};

// Locations go to logs and decisions, but keys are data too (a map keyed by ID numbers), and keys
// are not scanned. A key that does not look like a field name (over 64 bytes, non-ASCII, or with a
// run of 4 or more digits) is withheld as `[*]`.
bool looks_like_field_name(std::string_view key) {
  if (key.size() > 64) return false;
  int digits = 0;
  for (unsigned char c : key) {
    if (c >= 0x80) return false;
    digits = (c >= '0' && c <= '9') ? digits + 1 : 0;
    if (digits >= 4) return false;
  }
  return true;
}

// "messages[2].content"; a key that would read ambiguously is quoted: `a["x.y"]`.
std::string location_of(const std::vector<PathStep>& path) {
  std::string out;
  for (const PathStep& step : path) {
    if (step.is_index) {
      out += '[' + std::to_string(step.index) + ']';
      continue;
    }
    if (!looks_like_field_name(step.key)) {
      out += "[*]";
      continue;
    }
    const bool plain = !step.key.empty() && std::none_of(step.key.begin(), step.key.end(), [](char c) {
      return c == '.' || c == '[' || c == ']' || c == '"' || static_cast<unsigned char>(c) < 0x20;
    });
    if (plain) {
      if (!out.empty()) out += '.';
      out += step.key;
    } else {
      out += "[\"";
      for (char c : step.key) {
        if (c == '"' || c == '\\') out += '\\';
        out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
      }
      out += "\"]";
    }
  }
  return out;
}

// A set of path patterns: keys separated by '.', "[]" for any array element, and a final "**" for
// every value below (or at) that point. Patterns are string literals, so views into them are safe.
class FieldSelector {
 public:
  // snake_case_alias: "function_call" in a body also matches "functionCall" in a pattern (the
  // proto JSON mapping behind the Gemini API accepts both spellings of every field).
  FieldSelector(std::initializer_list<std::string_view> patterns, bool snake_case_alias = false)
      : snake_case_alias_(snake_case_alias) {
    for (std::string_view p : patterns) {
      std::vector<Token> tokens;
      size_t pos = 0;
      while (pos < p.size()) {
        const size_t dot = std::min(p.find('.', pos), p.size());
        std::string_view part = p.substr(pos, dot - pos);
        if (part == "**") {
          tokens.push_back({Token::any_below, {}});
        } else {
          size_t brackets = 0;
          for (; part.ends_with("[]"); part.remove_suffix(2)) ++brackets;
          tokens.push_back({Token::named, part});
          tokens.insert(tokens.end(), brackets, Token{Token::any_index, {}});
        }
        pos = dot + 1;
      }
      if (std::find(top_level_.begin(), top_level_.end(), tokens.front().key) == top_level_.end())
        top_level_.push_back(tokens.front().key);
      patterns_.push_back(std::move(tokens));
    }
  }

  bool selects(const std::vector<PathStep>& path) const {
    return std::any_of(patterns_.begin(), patterns_.end(), [&](const auto& p) { return matches(p, path); });
  }

  bool knows_top_level(std::string_view key) const {
    return std::any_of(top_level_.begin(), top_level_.end(), [&](std::string_view k) { return key_equals(k, key); });
  }

 private:
  struct Token {
    enum Kind : uint8_t { named, any_index, any_below } kind;
    std::string_view key;
  };

  bool matches(const std::vector<Token>& tokens, const std::vector<PathStep>& path) const {
    size_t i = 0;
    for (const Token& t : tokens) {
      if (t.kind == Token::any_below) return true;
      if (i == path.size()) return false;
      const PathStep& step = path[i++];
      if (t.kind == Token::any_index ? !step.is_index : step.is_index || !key_equals(t.key, step.key)) return false;
    }
    return i == path.size();
  }

  bool key_equals(std::string_view pattern, std::string_view key) const {
    if (!snake_case_alias_ || key.find('_') == std::string_view::npos) return pattern == key;
    size_t p = 0;
    for (size_t k = 0; k < key.size(); ++k, ++p) {
      char c = key[k];
      if (c == '_' && k + 1 < key.size() && key[k + 1] >= 'a' && key[k + 1] <= 'z') {
        c = static_cast<char>(key[++k] - ('a' - 'A'));
      }
      if (p == pattern.size() || pattern[p] != c) return false;
    }
    return p == pattern.size();
  }

  bool snake_case_alias_;
  std::vector<std::vector<Token>> patterns_;
  std::vector<std::string_view> top_level_;
};

// The text fields of each API. A part's or block's "text" is text whatever its type: image, audio
// and file parts carry their payloads in other fields, which no pattern names.
const FieldSelector* selector_for(Schema schema) {
  static const FieldSelector openai{
      // Chat completions.
      "messages[].content", "messages[].content[].text", "messages[].name",
      "messages[].tool_calls[].function.arguments", "messages[].function_call.arguments",
      "tools[].function.name", "tools[].function.description", "tools[].function.parameters.**",
      "functions[].name", "functions[].description", "functions[].parameters.**",
      // Responses API (its function tools are flat); embeddings and moderations share `input`.
      "input", "input[]", "input[].text", "input[].content", "input[].content[].text", "input[].output",
      "input[].arguments", "instructions", "tools[].name", "tools[].description", "tools[].parameters.**",
      // Legacy completions.
      "prompt", "prompt[]", "suffix"};
  static const FieldSelector gemini{
      {// generateContent, streamGenerateContent, cachedContents.
       "contents[].parts[].text", "contents[].parts[].functionCall.args.**",
       "contents[].parts[].functionResponse.response.**", "systemInstruction.parts[].text",
       "tools[].functionDeclarations[].name", "tools[].functionDeclarations[].description",
       "tools[].functionDeclarations[].parameters.**", "tools[].functionDeclarations[].parametersJsonSchema.**",
       // countTokens wraps a whole request.
       "generateContentRequest.contents[].parts[].text",
       "generateContentRequest.contents[].parts[].functionCall.args.**",
       "generateContentRequest.contents[].parts[].functionResponse.response.**",
       "generateContentRequest.systemInstruction.parts[].text",
       // embedContent, batchEmbedContents.
       "content.parts[].text", "requests[].content.parts[].text"},
      /*snake_case_alias=*/true};
  static const FieldSelector anthropic{
      "system", "system[].text", "messages[].content", "messages[].content[].text",
      "messages[].content[].input.**",  // tool_use
      "messages[].content[].content", "messages[].content[].content[].text",  // tool_result
      "tools[].name", "tools[].description", "tools[].input_schema.**",
      "prompt"};  // legacy text completions
  // chatgpt.com's conversation request (POST /backend-api/conversation, /backend-api/f/conversation)
  // and its prepare call (partial_query: what the composer holds before it is sent). A part is a
  // string, or an object (image/audio asset pointers, transcriptions) whose `text` is text.
  static const FieldSelector chatgpt_web{
      "messages[].content.parts[]", "messages[].content.parts[].text", "messages[].content.text",
      "messages[].content.user_profile", "messages[].content.user_instructions",
      "messages[].metadata.attachments[].name", "partial_query.content.parts[]",
      "partial_query.content.parts[].text", "partial_query.content.text"};
  switch (schema) {
    case Schema::openai: return &openai;
    case Schema::gemini: return &gemini;
    case Schema::anthropic: return &anthropic;
    case Schema::chatgpt_web: return &chatgpt_web;
    case Schema::json:
    case Schema::text:
    case Schema::gemini_web: return nullptr;
  }
  return nullptr;
}

// A base64 `data:` URL is an encoded file (an image, a PDF), not text a person wrote. Other data
// URLs hold percent-encoded text and stay.
bool is_base64_data_url(std::string_view s) {
  if (s.size() < 5) return false;
  std::string head(s.substr(0, std::min(s.find(','), s.size())));
  std::transform(head.begin(), head.end(), head.begin(), ascii_lower);
  return head.starts_with("data:") && head.size() < s.size() && head.ends_with(";base64");
}

// ---------------------------------------------------------------------------------------------
// JSON

class JsonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Walks every value of a document in order (so simdjson reports any malformed part, which a
// skipped value would hide), collecting each string with its token range and path.
class JsonWalker {
 public:
  struct StringValue {
    Segment segment;
    bool selected;  // named by the schema's selector
  };

  // document: the bytes simdjson reads, which start `shift` bytes into the body.
  JsonWalker(std::string_view document, size_t shift, size_t max_depth, const FieldSelector* selector)
      : document_(document), shift_(shift), max_depth_(max_depth), selector_(selector) {}

  void walk_document(od::document& doc) {
    switch (doc.type().value()) {
      case od::json_type::object:
      case od::json_type::array:
        walk(doc.get_value().value(), 0);
        break;
      case od::json_type::string: {
        const std::string_view token = doc.raw_json_token().value();
        add_string(token, doc.get_string().value());
        break;
      }
      case od::json_type::number:
        (void)doc.get_double().value();
        break;
      case od::json_type::boolean:
        (void)doc.get_bool().value();
        break;
      case od::json_type::null:
        if (!doc.is_null().value()) throw JsonError("malformed JSON literal at byte " + std::to_string(shift_));
        break;
    }
    // The iterator has a location only while tokens remain.
    if (const auto where = position_of(doc))
      throw JsonError("unexpected content after the JSON document at byte " + std::to_string(*where));
  }

  // Where the document's iterator stands, as a body offset; none at the end of the document.
  std::optional<size_t> position_of(od::document& doc) const {
    const auto where = doc.current_location();
    if (where.error()) return std::nullopt;
    const char* p = where.value_unsafe();
    if (p < document_.data() || p >= document_.data() + document_.size()) return std::nullopt;
    return offset(p);
  }

  std::vector<StringValue> take_strings() { return std::move(strings_); }
  bool has_known_top_level() const { return has_known_top_level_; }

 private:
  void walk(od::value v, size_t depth) {
    switch (v.type().value()) {
      case od::json_type::object: {
        enter(v, depth);
        for (auto field_result : v.get_object()) {
          od::field field = std::move(field_result);
          path_.push_back({std::string(field.unescaped_key().value()), 0, false});
          if (depth == 0 && selector_ != nullptr && selector_->knows_top_level(path_.back().key))
            has_known_top_level_ = true;
          walk(field.value(), depth + 1);
          path_.pop_back();
        }
        break;
      }
      case od::json_type::array: {
        enter(v, depth);
        path_.push_back({{}, 0, true});
        for (auto element : v.get_array()) {
          walk(element.value(), depth + 1);
          ++path_.back().index;
        }
        path_.pop_back();
        break;
      }
      case od::json_type::string: {
        const std::string_view token = v.raw_json_token();
        add_string(token, v.get_string().value());
        break;
      }
      case od::json_type::number:
        // As a double: valid integers beyond 64 bits are still valid JSON.
        (void)v.get_double().value();
        break;
      case od::json_type::boolean:
        (void)v.get_bool().value();
        break;
      case od::json_type::null:
        if (!v.is_null()) throw JsonError("malformed JSON literal at byte " + std::to_string(offset(v.raw_json_token().data())));
        break;
    }
  }

  void enter(od::value& v, size_t depth) {
    if (depth + 1 > max_depth_)
      throw JsonError("JSON nesting deeper than " + std::to_string(max_depth_) + " at byte " +
                      std::to_string(offset(v.raw_json_token().data())));
  }

  size_t offset(const char* p) const { return static_cast<size_t>(p - document_.data()) + shift_; }

  // raw_json_token() runs to the next token, so it ends in the whitespace between them.
  void add_string(std::string_view token, std::string_view text) {
    while (!token.empty() && is_json_space(token.back())) token.remove_suffix(1);
    Segment s;
    s.text.assign(text);
    s.location = path_.empty() ? "body" : location_of(path_);
    s.raw_begin = offset(token.data());
    s.raw_end = s.raw_begin + token.size();
    s.encoding = Segment::Encoding::json_string;
    const bool selected = selector_ != nullptr && selector_->selects(path_);
    strings_.push_back({std::move(s), selected});
  }

  std::string_view document_;
  size_t shift_;
  size_t max_depth_;
  const FieldSelector* selector_;
  std::vector<PathStep> path_;
  std::vector<StringValue> strings_;
  bool has_known_top_level_ = false;
};

Extraction raw_fallback(std::string_view body, Extraction::Status status, std::string error);

Extraction extract_json(Schema schema, std::string_view body, size_t max_depth) {
  // A byte order mark may precede JSON text (RFC 8259 §8.1); offsets stay those of `body`.
  const size_t bom = body.starts_with(kUtf8Bom) ? kUtf8Bom.size() : 0;
  const simdjson::padded_string padded(body.substr(bom));
  od::parser parser;
  const FieldSelector* selector = selector_for(schema);
  JsonWalker walker(std::string_view(padded.data(), padded.size()), bom, max_depth, selector);
  od::document doc;
  bool iterating = false;  // `doc` holds a document (a default one has no buffer to point into)
  try {
    doc = parser.iterate(padded);
    iterating = true;
    walker.walk_document(doc);
  } catch (const simdjson::simdjson_error& e) {
    std::string error = "malformed JSON";
    if (const auto where = iterating ? walker.position_of(doc) : std::nullopt) error += " at byte " + std::to_string(*where);
    return raw_fallback(body, Extraction::Status::unparseable, error + ": " + e.what());
  } catch (const JsonError& e) {
    return raw_fallback(body, Extraction::Status::unparseable, e.what());
  }
  // A body with none of the schema's fields is an endpoint the schema does not describe: every
  // string may be text, as for Schema::json.
  const bool by_schema = selector != nullptr && walker.has_known_top_level();
  Extraction out;
  for (auto& [segment, selected] : walker.take_strings()) {
    if (by_schema ? selected : !is_base64_data_url(segment.text)) out.segments.push_back(std::move(segment));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Forms and raw text

}  // namespace

namespace segments {

// application/x-www-form-urlencoded decoding (WHATWG URL §5.1), the same as the review site's.
using encoding::form_decode;

Extraction extract_form(std::string_view body) {
  Extraction out;
  size_t pos = 0;
  while (pos <= body.size()) {
    const size_t end = std::min(body.find('&', pos), body.size());
    const std::string_view field = body.substr(pos, end - pos);
    const size_t eq = field.find('=');
    // A field without '=' is a name alone: names are not scanned, so it holds no text.
    if (eq != std::string_view::npos) {
      Segment s;
      s.location = form_decode(field.substr(0, eq));
      if (!looks_like_field_name(s.location)) s.location = "[*]";
      s.text = form_decode(field.substr(eq + 1));
      if (!is_utf8(s.text) || !is_utf8(s.location)) {
        return Extraction{Extraction::Status::binary, {},
                          "form field at byte " + std::to_string(pos) + " is not valid UTF-8"};
      }
      s.raw_begin = pos + eq + 1;
      s.raw_end = end;
      s.encoding = Segment::Encoding::form_value;
      out.segments.push_back(std::move(s));
    }
    pos = end + 1;
  }
  return out;
}

}  // namespace segments

namespace {

using segments::extract_form;

Extraction raw_fallback(std::string_view body, Extraction::Status status, std::string error) {
  Extraction out;
  out.status = status;
  out.error = std::move(error);
  if (is_utf8(body)) out.segments.push_back({std::string(body), "body", 0, body.size(), Segment::Encoding::raw});
  return out;
}

Extraction extract_text(std::string_view body) {
  if (!is_utf8(body)) return Extraction{Extraction::Status::binary, {}, "body is not valid UTF-8 text"};
  return raw_fallback(body, Extraction::Status::ok, {});
}


}  // namespace

namespace segments {

// Every string of a JSON document, each as a json_string segment in `json`'s coordinates;
// nullopt (with `error`) when the document does not parse.
std::optional<std::vector<Segment>> json_strings(std::string_view json, size_t max_depth, std::string& error) {
  const simdjson::padded_string padded(json);
  od::parser parser;
  JsonWalker walker(std::string_view(padded.data(), padded.size()), 0, max_depth, nullptr);
  try {
    od::document doc = parser.iterate(padded);
    walker.walk_document(doc);
  } catch (const simdjson::simdjson_error& e) {
    error = std::string("malformed JSON: ") + e.what();
    return std::nullopt;
  } catch (const JsonError& e) {
    error = e.what();
    return std::nullopt;
  }
  std::vector<Segment> out;
  for (auto& [segment, selected] : walker.take_strings()) out.push_back(std::move(segment));
  return out;
}

}  // namespace segments

SegmentExtractor::SegmentExtractor(ExtractorLimits limits) : limits_(limits) {
  limits_.max_json_depth = std::min<size_t>(limits_.max_json_depth, simdjson::DEFAULT_MAX_DEPTH);
}

Extraction SegmentExtractor::extract(Schema schema, std::string_view content_type, std::string_view path,
                                     std::string_view body) const {
  if (body.empty()) return {};
  const std::string mt = media_type(content_type);
  switch (classify(schema, mt, body)) {
    case BodyKind::json: return extract_json(schema, body, limits_.max_json_depth);
    case BodyKind::form:
      return schema == Schema::gemini_web ? segments::extract_gemini_web_form(body, path, limits_.max_json_depth)
                                          : extract_form(body);
    case BodyKind::text: return extract_text(body);
    case BodyKind::binary: break;
  }
  return Extraction{Extraction::Status::binary, {}, "content type " + mt + " is not text"};
}

}  // namespace promptwall::gateway
