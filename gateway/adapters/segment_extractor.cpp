#include "gateway/adapters/segment_extractor.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <optional>
#include <stdexcept>
#include <utility>

#include "encoding/web_text.h"
#include "gateway/adapters/body_charset.h"
#include "gateway/adapters/multipart_form.h"
#include "gateway/adapters/segment_parsing.h"

namespace promptwall::gateway {
namespace {

namespace od = simdjson::ondemand;

// ---------------------------------------------------------------------------------------------
// What kind of body this is

enum class BodyKind : uint8_t { json, form, text };

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

bool is_file_type(std::string_view mt) {
  for (std::string_view prefix : {"multipart/", "image/", "audio/", "video/", "font/", "model/", "application/grpc"})
    if (mt.starts_with(prefix)) return true;
  for (std::string_view t : {"application/octet-stream", "application/pdf", "application/zip", "application/gzip",
                             "application/x-tar", "application/x-7z-compressed", "application/protobuf",
                             "application/x-protobuf", "application/msgpack", "application/x-msgpack",
                             "application/cbor", "application/wasm", "application/msword", "application/rtf",
                             "text/rtf", "message/rfc822", "application/x-zip-compressed", "application/epub+zip"})
    if (mt == t) return true;
  // Office and other vendor formats (application/vnd.openxmlformats-..., vnd.ms-excel, vnd.oasis...),
  // but not the vendor JSON and XML dialects, which are read as text.
  return mt.starts_with("application/vnd.") && !mt.ends_with("+json") && !mt.ends_with("+xml");
}

// A body whose first byte after spaces (and a BOM) opens a JSON object or array: a lenient
// upstream reads it as JSON whatever its label says, so the gateway must too.
bool looks_like_json(std::string_view body) {
  if (body.starts_with(kUtf8Bom)) body.remove_prefix(kUtf8Bom.size());
  const auto first = std::find_if_not(body.begin(), body.end(), is_json_space);
  return first != body.end() && (*first == '{' || *first == '[');
}

BodyKind classify(std::string_view mt, std::string_view body) {
  if (mt == "application/x-www-form-urlencoded") return BodyKind::form;
  if (mt == "application/json" || mt.ends_with("+json") || looks_like_json(body)) return BodyKind::json;
  return BodyKind::text;
}

bool is_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

// ---------------------------------------------------------------------------------------------
// Where a value sits

struct PathStep {
  std::string_view key;  // empty for an array element; a view into the parser's string buffer
  size_t index = 0;
  bool is_index = false;
};

// Locations go to logs and decisions, but keys are data too (a map keyed by ID numbers). A key
// that does not look like a field name (over 64 bytes, non-ASCII, or with a run of 4 or more
// digits) is withheld as `[*]`; it is scanned as its own segment all the same.
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
      return c == '.' || c == '[' || c == ']' || c == '"' || c == ' ' || static_cast<unsigned char>(c) < 0x20;
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

constexpr std::string_view kKeySuffix = " (key)";
constexpr std::string_view kDecodedSuffix = " (decoded base64)";
constexpr int kJsonInStringLevels = 4;  // JSON in a string in a string...: opened this deep

// ---------------------------------------------------------------------------------------------
// Files in JSON: base64 data: URLs, the APIs' base64 file fields, long base64 strings

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;  // standard and URL-safe alphabets
  if (c == '/' || c == '_') return 63;
  return -1;
}

// The bytes of base64 text (either alphabet, padding optional, CR/LF line breaks allowed), or
// nullopt unless it decodes cleanly: every character in the alphabet, padding only at the end,
// a length that is whole characters, and no stray bits in the last one.
std::optional<std::string> decode_base64(std::string_view s) {
  std::string out;
  out.reserve(s.size() / 4 * 3 + 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t chars = 0;
  size_t padding = 0;
  for (char c : s) {
    if (c == '\r' || c == '\n') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    const int v = base64_value(c);
    if (v < 0 || padding > 0) return std::nullopt;
    acc = ((acc << 6) | static_cast<uint32_t>(v)) & 0xFFFFFF;
    bits += 6;
    ++chars;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (chars == 0 || chars % 4 == 1 || padding > 2) return std::nullopt;
  if (padding > 0 && (chars + padding) % 4 != 0) return std::nullopt;
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

bool is_base64_text(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return base64_value(c) >= 0 || c == '=' || c == '\r' || c == '\n'; });
}

// Text a person could read: UTF-8 with no control characters but tab, line breaks and form feed.
// A DOCX (ZIP) begins "PK\x03\x04", which is valid UTF-8 but not text.
bool is_readable_text(std::string_view bytes) {
  if (!is_utf8(bytes)) return false;
  return std::none_of(bytes.begin(), bytes.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || u == 0x7F;
  });
}

// The media type of common file formats, from their first bytes; "" when not recognised.
std::string_view sniff_media_type(std::string_view b) {
  if (b.starts_with("%PDF-")) return "application/pdf";
  if (b.starts_with("\x89PNG\r\n\x1a\n")) return "image/png";
  if (b.starts_with("\xFF\xD8\xFF")) return "image/jpeg";
  if (b.starts_with("GIF87a") || b.starts_with("GIF89a")) return "image/gif";
  if (b.starts_with(std::string_view("PK\x03\x04", 4))) return "application/zip";  // also DOCX, XLSX, PPTX
  if (b.starts_with("RIFF") && b.size() >= 12 && b.substr(8, 4) == "WEBP") return "image/webp";
  if (b.starts_with("RIFF") && b.size() >= 12 && b.substr(8, 4) == "WAVE") return "audio/wav";
  if (b.starts_with("ID3")) return "audio/mpeg";
  if (b.starts_with(std::string_view("\xD0\xCF\x11\xE0", 4))) return "application/x-ole-storage";  // .doc, .xls
  if (b.starts_with("{\\rtf")) return "application/rtf";  // text, but its words hide behind \'hh escapes
  return {};
}

// A string value that is (or may be) a file, read into the extraction: a decoded_base64 segment
// in its place if its bytes are text, a CarriedFile if not, or the string itself if it is not
// base64 after all. `file_field`: a field the APIs carry files in, so short base64 counts too.
void add_string_value(Extraction& out, Segment&& s, bool file_field, std::string_view file_name = {}) {
  constexpr size_t kBareBase64Min = 256;
  std::string_view payload = s.text;
  std::string declared_type;
  bool data_url = false;
  if (payload.size() > 5 && ascii_lower(payload[0]) == 'd' && ascii_lower(payload[1]) == 'a' &&
      ascii_lower(payload[2]) == 't' && ascii_lower(payload[3]) == 'a' && payload[4] == ':') {
    const size_t comma = payload.find(',');
    if (comma != std::string_view::npos) {
      std::string head(payload.substr(5, comma - 5));
      std::transform(head.begin(), head.end(), head.begin(), ascii_lower);
      if (head.ends_with(";base64")) {
        data_url = true;
        declared_type = head.substr(0, head.find(';'));
        payload.remove_prefix(comma + 1);
      }
    }
  }
  const bool candidate = data_url || (file_field && !payload.empty()) ||
                         (payload.size() >= kBareBase64Min && is_base64_text(payload));
  std::optional<std::string> bytes = candidate ? decode_base64(payload) : std::nullopt;
  if (!bytes && data_url) {
    // A data: URL that says base64 but does not decode cleanly: a lenient reader may still find
    // a file or text in it, so it is a file the gateway did not read (fail closed).
    out.files.push_back({std::move(s.location), std::move(declared_type), payload.size(), std::string(file_name), {}, false});
    return;
  }
  if (!bytes) {
    out.segments.push_back(std::move(s));
    return;
  }
  const std::string_view sniffed = sniff_media_type(*bytes);
  if (sniffed.empty() && is_readable_text(*bytes)) {
    s.text = std::move(*bytes);
    s.location += kDecodedSuffix;
    s.kind = Segment::Kind::decoded_base64;
    s.rewritable = false;
    out.segments.push_back(std::move(s));
    return;
  }
  if (declared_type.empty()) declared_type = sniffed;
  const size_t size = bytes->size();
  // Base64 that is not a data: URL and names no file format may just be text that happens to be
  // base64 ("001203004567" decodes to 9 bytes): the upstream may read the string as it is, so it
  // is scanned as a string too, besides being read as a file.
  if (!data_url && sniffed.empty()) out.segments.push_back(s);
  out.files.push_back({std::move(s.location), std::move(declared_type), size, std::string(file_name), std::move(*bytes), true});
}

// ---------------------------------------------------------------------------------------------
// JSON

class JsonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Walks every value of a document in order (so simdjson reports any malformed part, which a
// skipped value would hide), collecting every string value and every key with its token range
// and path, and enforcing what simdjson's on-demand parser lets through (duplicate keys).
class JsonWalker {
 public:
  struct StringValue {
    Segment segment;
    bool file_field;  // a field the APIs carry base64 files in
    std::string file_name = {};       // a sibling "filename" / "file_name" (OpenAI's file parts)
  };

  // document: the bytes simdjson reads, which start `shift` bytes into the body.
  JsonWalker(std::string_view document, size_t shift, size_t max_depth)
      : document_(document), shift_(shift), max_depth_(max_depth) {}

  void walk_document(od::document& doc) {
    switch (doc.type().value()) {
      case od::json_type::object:
      case od::json_type::array:
        walk(doc.get_value().value(), 0);
        break;
      case od::json_type::string: {
        const std::string_view token = doc.raw_json_token().value();
        add_string(token, doc.get_string().value(), Segment::Kind::value);
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

 private:
  void walk(od::value v, size_t depth) {
    switch (v.type().value()) {
      case od::json_type::object: {
        enter(v, depth);
        const char* object_start = v.raw_json_token().data();
        if (keys_by_depth_.size() <= depth) keys_by_depth_.resize(depth + 1);
        keys_by_depth_[depth].clear();
        // Anthropic's base64 source ({"type":"base64","media_type":...,"data":...}) is known by a
        // sibling, which may come before or after `data`.
        bool type_is_base64 = false;
        std::optional<size_t> data_string, file_name_string;
        std::vector<size_t> direct_strings;  // this object's own string values
        for (auto field_result : v.get_object()) {
          od::field field = std::move(field_result);
          const char* key_content = field.key().raw();
          const std::string_view key = field.unescaped_key().value();
          keys_by_depth_[depth].push_back(key);
          path_.push_back({key, 0, false});
          add_string(key_token(key_content), key, Segment::Kind::key);
          od::value value = field.value();
          const bool is_string = value.type().value() == od::json_type::string;
          const size_t value_index = strings_.size();
          walk(value, depth + 1);
          if (is_string && key == "type") type_is_base64 = strings_[value_index].segment.text == "base64";
          if (is_string && key == "data") data_string = value_index;
          if (is_string && (key == "filename" || key == "file_name")) file_name_string = value_index;
          if (is_string) direct_strings.push_back(value_index);
          path_.pop_back();
        }
        if (type_is_base64 && data_string) strings_[*data_string].file_field = true;
        // A file's name beside its bytes ({"filename": "report.docx", "file_data": "data:..."}):
        // the refusal and the audit event name the file by it.
        if (file_name_string)
          for (size_t i : direct_strings)
            if (i != *file_name_string) strings_[i].file_name = strings_[*file_name_string].segment.text;
        check_unique(keys_by_depth_[depth], object_start);
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
        add_string(token, v.get_string().value(), Segment::Kind::value);
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

  // Readers disagree on a repeated key (first wins, last wins, error), so the gateway could scan
  // one value while the upstream reads the other. The key itself is not named: it may be data.
  void check_unique(std::vector<std::string_view>& keys, const char* object_start) const {
    if (keys.size() < 2) return;
    bool repeated = false;
    if (keys.size() <= 16) {
      for (size_t i = 1; i < keys.size() && !repeated; ++i)
        repeated = std::find(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(i), keys[i]) != keys.begin() + static_cast<std::ptrdiff_t>(i);
    } else {
      std::sort(keys.begin(), keys.end());
      repeated = std::adjacent_find(keys.begin(), keys.end()) != keys.end();
    }
    if (repeated) throw JsonError("duplicate key in the object at byte " + std::to_string(offset(object_start)));
  }

  // The key's token, quotes included, from the first byte of its content (simdjson's raw key).
  // Stage 1 has already matched every quote of the document, so the closing one is there.
  std::string_view key_token(const char* content) const {
    const char* p = content;
    while (*p != '"') p += (*p == '\\') ? 2 : 1;
    return std::string_view(content - 1, static_cast<size_t>(p + 1 - (content - 1)));
  }

  size_t offset(const char* p) const { return static_cast<size_t>(p - document_.data()) + shift_; }

  bool is_file_field() const {
    if (path_.empty() || path_.back().is_index) return false;
    const std::string_view last = path_.back().key;
    const std::string_view parent = path_.size() >= 2 && !path_[path_.size() - 2].is_index ? path_[path_.size() - 2].key : "";
    return last == "file_data" || last == "image_url" || (last == "url" && parent == "image_url") ||
           (last == "data" && (parent == "inline_data" || parent == "inlineData" || parent == "input_audio"));
  }

  // raw_json_token() runs to the next token, so it ends in the whitespace between them.
  void add_string(std::string_view token, std::string_view text, Segment::Kind kind) {
    while (!token.empty() && is_json_space(token.back())) token.remove_suffix(1);
    Segment s;
    s.text.assign(text);
    s.location = path_.empty() ? "body" : location_of(path_);
    if (kind == Segment::Kind::key) s.location += kKeySuffix;
    s.raw_begin = offset(token.data());
    s.raw_end = s.raw_begin + token.size();
    s.encoding = Segment::Encoding::json_string;
    s.kind = kind;
    s.rewritable = kind == Segment::Kind::value;
    const bool file_field = kind == Segment::Kind::value && is_file_field();
    strings_.push_back({std::move(s), file_field});
  }

  std::string_view document_;
  size_t shift_;
  size_t max_depth_;
  std::vector<PathStep> path_;
  std::vector<StringValue> strings_;
  std::vector<std::vector<std::string_view>> keys_by_depth_;  // reused: one list per open object
};

// Every string and key of a JSON document (`json`, which starts `shift` bytes into the body);
// nullopt with `error` when it is not strict JSON.
std::optional<std::vector<JsonWalker::StringValue>> walk_json(std::string_view json, size_t shift, size_t max_depth,
                                                              std::string& error) {
  // Trailing whitespace is insignificant (RFC 8259), but simdjson's on-demand reader refuses a
  // scalar document followed by some ("true\t" is "not the requested type"; found by
  // fuzz/segment_extractor). Offsets do not move: only the end is cut.
  while (!json.empty() && (json.back() == ' ' || json.back() == '\t' || json.back() == '\n' || json.back() == '\r'))
    json.remove_suffix(1);
  const simdjson::padded_string padded(json);
  od::parser parser;
  JsonWalker walker(std::string_view(padded.data(), padded.size()), shift, max_depth);
  od::document doc;
  bool iterating = false;  // `doc` holds a document (a default one has no buffer to point into)
  try {
    doc = parser.iterate(padded);
    iterating = true;
    walker.walk_document(doc);
  } catch (const simdjson::simdjson_error& e) {
    error = "malformed JSON";
    if (const auto where = iterating ? walker.position_of(doc) : std::nullopt) error += " at byte " + std::to_string(*where);
    error += std::string(": ") + e.what();
    return std::nullopt;
  } catch (const JsonError& e) {
    error = e.what();
    return std::nullopt;
  }
  return walker.take_strings();
}

Extraction unparseable(std::string error) { return Extraction{Extraction::Status::unparseable, {}, {}, std::move(error), {}, {}}; }

Extraction extract_json(std::string_view body, size_t max_depth) {
  // A byte order mark may precede JSON text (RFC 8259 §8.1); offsets stay those of `body`.
  const size_t bom = body.starts_with(kUtf8Bom) ? kUtf8Bom.size() : 0;
  std::string error;
  auto strings = walk_json(body.substr(bom), bom, max_depth, error);
  if (!strings) return unparseable(std::move(error));
  Extraction out;
  out.segments.reserve(strings->size());
  std::string inner_error;
  for (auto& [segment, file_field, file_name] : *strings) {
    if (segment.kind != Segment::Kind::value) {
      out.segments.push_back(std::move(segment));
    } else if (auto inner = segments::open_json_string(body, segment, max_depth, kJsonInStringLevels, &inner_error)) {
      // JSON in a string (a tool call's `arguments`): the tool reads the inner document, so its
      // strings and keys are segments as if they were the body's, each with its own bounds (a
      // stamp is matched by its position in a field) and its escapes decoded.
      for (Segment& t : *inner) {
        if (t.kind == Segment::Kind::value) add_string_value(out, std::move(t), false);
        else out.segments.push_back(std::move(t));
      }
    } else if (inner_error.starts_with("duplicate key")) {
      // JSON in every respect but a repeated key: whoever reads it (a tool, a lenient model
      // runtime) takes one of the two values, so it is refused like the same body would be.
      return unparseable("the string at byte " + std::to_string(segment.raw_begin) + " holds JSON with a " + inner_error);
    } else {
      add_string_value(out, std::move(segment), file_field, file_name);
    }
    inner_error.clear();
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
  auto not_text = [&] { return unparseable("form field at byte " + std::to_string(pos) + " is not valid UTF-8"); };
  while (pos <= body.size()) {
    const size_t end = std::min(body.find('&', pos), body.size());
    const std::string_view field = body.substr(pos, end - pos);
    const size_t eq = std::min(field.find('='), field.size());
    // The name is text the upstream reads as well: a key segment (a field without '=' is a name alone).
    std::string name = form_decode(field.substr(0, eq));
    if (!is_utf8(name)) return not_text();
    std::string location = looks_like_field_name(name) ? name : "[*]";
    if (!name.empty()) {
      Segment key;
      key.text = std::move(name);
      key.location = location + std::string(kKeySuffix);
      key.raw_begin = pos;
      key.raw_end = pos + eq;
      key.encoding = Segment::Encoding::form_value;
      key.kind = Segment::Kind::key;
      key.rewritable = false;
      out.segments.push_back(std::move(key));
    }
    if (eq < field.size()) {
      Segment s;
      s.location = std::move(location);
      s.text = form_decode(field.substr(eq + 1));
      if (!is_utf8(s.text)) return not_text();
      s.raw_begin = pos + eq + 1;
      s.raw_end = end;
      s.encoding = Segment::Encoding::form_value;
      out.segments.push_back(std::move(s));
    }
    pos = end + 1;
  }
  return out;
}

// Every string and key of a JSON document, each as a json_string segment in `json`'s coordinates;
// nullopt (with `error`) when the document is not strict JSON. Base64 is not decoded here: the
// web apps' nested JSON carries no files.
std::optional<std::vector<Segment>> json_strings(std::string_view json, size_t max_depth, std::string& error) {
  auto strings = walk_json(json, 0, max_depth, error);
  if (!strings) return std::nullopt;
  std::vector<Segment> out;
  out.reserve(strings->size());
  for (auto& [segment, file_field, file_name] : *strings) out.push_back(std::move(segment));
  return out;
}

}  // namespace segments

namespace {

Extraction extract_text(std::string_view body) {
  if (!is_utf8(body)) return unparseable("body is not valid UTF-8 text and names no other charset");
  Extraction out;
  out.segments.push_back({std::string(body), "body", 0, body.size(), Segment::Encoding::raw});
  return out;
}

Extraction extract_utf8(Schema schema, std::string_view mt, std::string_view path, std::string_view body,
                        size_t max_depth) {
  switch (classify(mt, body)) {
    case BodyKind::json: return extract_json(body, max_depth);
    case BodyKind::form:
      return schema == Schema::gemini_web ? segments::extract_gemini_web_form(body, path, max_depth)
                                          : segments::extract_form(body);
    case BodyKind::text: break;
  }
  return extract_text(body);
}

// multipart/form-data: each field's name, each file's name, each text part's content (JSON parts
// parsed like a JSON body); parts with a filename or a non-text type are files. Nothing here is
// rewritable: a part's content could be spliced, but a redaction that met the boundary would
// split the form, so a redact acts as a block. Names and filenames have no range of their own
// (an empty one at their part's content).
Extraction extract_multipart(std::string_view content_type, std::string_view body, size_t max_depth,
                             MultipartKind kind = MultipartKind::form_data) {
  const MultipartForm form = parse_multipart_form(content_type, body, kind);
  const std::string what = kind == MultipartKind::form_data ? "multipart/form-data: " : "multipart body: ";
  if (!form.ok) return unparseable(what + form.error);
  Extraction out;
  std::string metadata_name;  // multipart/related: the file's display name in a JSON metadata part
  auto label = [&](const std::string& name, Segment::Kind kind, std::string location, size_t at) {
    Segment s;
    s.text = name;
    s.location = std::move(location);
    s.raw_begin = s.raw_end = at;
    s.kind = kind;
    s.rewritable = false;
    out.segments.push_back(std::move(s));
  };
  for (size_t index = 0; index < form.parts.size(); ++index) {
    const MultipartPart& part = form.parts[index];
    const std::string_view content = body.substr(part.content_begin, part.content_end - part.content_begin);
    if (!is_utf8(part.name) || (part.filename && !is_utf8(*part.filename)))
      return unparseable(what + "a part's name is not UTF-8");
    // A related part has no name of its own: "part 2".
    const std::string location = part.name.empty() && kind == MultipartKind::related ? "part " + std::to_string(index + 1)
                                 : looks_like_field_name(part.name)                 ? part.name
                                                                                    : "[*]";
    if (!part.name.empty()) label(part.name, Segment::Kind::key, location + std::string(kKeySuffix), part.content_begin);
    const bool text_type = part.content_type.empty() || part.content_type.starts_with("text/") ||
                           part.content_type == "application/json" || part.content_type.ends_with("+json") ||
                           part.content_type == "application/x-www-form-urlencoded";
    if (part.filename || !text_type) {
      // A file name is text the upstream reads (and shows); the file itself is not read here.
      if (part.filename && !part.filename->empty())
        label(*part.filename, Segment::Kind::key, location + " (filename)", part.content_begin);
      if (content.empty()) continue;  // a file input left empty: nothing unread
      std::string media_type = part.content_type;
      if (media_type.empty() || media_type == "application/octet-stream") media_type = sniff_media_type(content);
      out.files.push_back({location, std::move(media_type), content.size(), part.filename.value_or(std::string()),
                           std::string(content), true});
      continue;
    }
    if (!part.charset.empty() && part.charset != "utf-8" && part.charset != "utf8" && part.charset != "us-ascii")
      return unparseable(what + "part " + location + " is in charset " + part.charset + ", which is not read");
    if (!is_utf8(content)) return unparseable(what + "part " + location + " is not valid UTF-8");
    if (part.content_type == "application/json" || part.content_type.ends_with("+json") || looks_like_json(content)) {
      Extraction inner = extract_json(content, max_depth);
      if (inner.status != Extraction::Status::ok) return unparseable(what + "part " + location + ": " + inner.error);
      for (Segment& t : inner.segments) {
        // Google's upload metadata {"file": {"displayName": "report.docx"}} names the file part.
        if (kind == MultipartKind::related && metadata_name.empty() && t.kind == Segment::Kind::value &&
            (t.location == "file.displayName" || t.location == "file.display_name"))
          metadata_name = t.text;
        t.raw_begin += part.content_begin;
        t.raw_end += part.content_begin;
        t.location = location + ":" + t.location;
        t.rewritable = false;
        out.segments.push_back(std::move(t));
      }
      for (CarriedFile& f : inner.files) {
        f.location = location + ":" + f.location;
        out.files.push_back(std::move(f));
      }
      continue;
    }
    Segment s;
    s.text.assign(content);
    s.location = location;
    s.raw_begin = part.content_begin;
    s.raw_end = part.content_end;
    s.rewritable = false;
    out.segments.push_back(std::move(s));
  }
  for (CarriedFile& f : out.files)
    if (f.name.empty()) f.name = metadata_name;
  return out;
}

}  // namespace

SegmentExtractor::SegmentExtractor(ExtractorLimits limits) : limits_(limits) {
  limits_.max_json_depth = std::min<size_t>(limits_.max_json_depth, simdjson::DEFAULT_MAX_DEPTH);
}

Extraction SegmentExtractor::extract(Schema schema, std::string_view content_type, std::string_view path,
                                     std::string_view body) const {
  if (body.empty()) return {};
  const std::string mt = media_type(content_type);
  if (mt == "multipart/form-data") return extract_multipart(content_type, body, limits_.max_json_depth);
  if (mt == "multipart/related" || mt == "multipart/mixed")
    return extract_multipart(content_type, body, limits_.max_json_depth, MultipartKind::related);
  // A body that is a file by its label, or by its first bytes whatever its label says (a docx sent
  // as text/plain is still a docx to the upstream).
  if (is_file_type(mt) || (!sniff_media_type(body).empty() && !looks_like_json(body))) {
    const std::string type = is_file_type(mt) ? mt : std::string(sniff_media_type(body));
    Extraction out{Extraction::Status::file, {}, {}, "content type " + type + " is a file", {}, {}};
    out.files.push_back({"body", type, body.size(), {}, std::string(body), true});
    return out;
  }
  const BodyCharset charset = BodyCharset::of(content_type, body);
  if (charset.is_utf8()) return extract_utf8(schema, mt, path, body, limits_.max_json_depth);

  // Another charset: the text as the upstream will decode it. Offsets are in that text, so no
  // segment can be spliced back into the body (a redaction becomes a block).
  BodyCharset::Text text = charset.to_utf8(body);
  if (!text.ok) return unparseable(std::move(text.error));
  Extraction out = extract_utf8(schema, mt, path, text.utf8, limits_.max_json_depth);
  if (out.status != Extraction::Status::ok) return out;
  for (Segment& s : out.segments) s.rewritable = false;
  out.transcoded = std::move(text.utf8);
  out.charset = charset.name();
  return out;
}

}  // namespace promptwall::gateway
