// The web apps' own shapes that need more than a list of fields (adapters/segment_parsing.h).
// ChatGPT's web app sends plain JSON, so its fields are a FieldSelector in segment_extractor.cpp
// like any API's; Gemini's web app (gemini_web) sends its prompt as JSON inside a JSON string
// inside a form value, which this file opens while keeping every byte range in body coordinates.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "encoding/web_text.h"
#include "gateway/adapters/segment_parsing.h"

namespace promptwall::gateway::segments {
namespace {

using encoding::form_decode;
using encoding::hex_digit_value;

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A decoded text and, for each decoded byte, the source offset where the escape that produced it
// starts (plus the source size at the end). Decoded [b, e) comes from source [at[b], at[e]) when b
// and e fall between whole escapes, which a JSON token's quotes always do.
struct MappedText {
  std::string text;
  std::vector<size_t> at;
};

MappedText form_decode_mapped(std::string_view s) {
  MappedText out;
  out.text = form_decode(s, &out.at);
  return out;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::optional<uint32_t> hex4(std::string_view s, size_t pos) {
  if (pos + 4 > s.size()) return std::nullopt;
  uint32_t v = 0;
  for (size_t i = pos; i < pos + 4; ++i) {
    const int h = hex_digit_value(s[i]);
    if (h < 0) return std::nullopt;
    v = v * 16 + static_cast<uint32_t>(h);
  }
  return v;
}

// The value of a JSON string token's content (between its quotes), mapped. nullopt when malformed
// (simdjson has already accepted the token, so this does not happen for tokens it found).
std::optional<MappedText> json_unescape_mapped(std::string_view s) {
  MappedText out;
  out.text.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    const size_t before = out.text.size();
    if (s[i] != '\\') {
      out.text += s[i++];
    } else {
      if (i + 1 >= s.size()) return std::nullopt;
      const char e = s[i + 1];
      i += 2;
      switch (e) {
        case '"': out.text += '"'; break;
        case '\\': out.text += '\\'; break;
        case '/': out.text += '/'; break;
        case 'b': out.text += '\b'; break;
        case 'f': out.text += '\f'; break;
        case 'n': out.text += '\n'; break;
        case 'r': out.text += '\r'; break;
        case 't': out.text += '\t'; break;
        case 'u': {
          auto cp = hex4(s, i);
          if (!cp) return std::nullopt;
          i += 4;
          if (*cp >= 0xD800 && *cp < 0xDC00) {
            auto low = (i + 1 < s.size() && s[i] == '\\' && s[i + 1] == 'u') ? hex4(s, i + 2) : std::nullopt;
            if (!low || *low < 0xDC00 || *low > 0xDFFF) return std::nullopt;
            *cp = 0x10000 + ((*cp - 0xD800) << 10) + (*low - 0xDC00);
            i += 6;
          } else if (*cp >= 0xDC00 && *cp <= 0xDFFF) {
            return std::nullopt;
          }
          append_utf8(out.text, *cp);
          break;
        }
        default: return std::nullopt;
      }
    }
    out.at.insert(out.at.end(), out.text.size() - before, start);
  }
  out.at.push_back(s.size());
  return out;
}

bool looks_like_json_text(std::string_view s) {
  const auto first = std::find_if_not(s.begin(), s.end(), is_json_space);
  return first != s.end() && (*first == '[' || *first == '{');
}

// Strings of a JSON document, with strings that hold a JSON array or object themselves opened up
// (`levels` deep): an opened string's segments get the location "<outer>:<inner>", the range of
// their token as escaped inside the outer token, and json_string added to `enclosing`.
std::optional<std::vector<Segment>> nested_json_strings(std::string_view json, size_t max_depth, int levels,
                                                        std::string& error) {
  auto strings = json_strings(json, max_depth, error);
  if (!strings) return std::nullopt;
  std::vector<Segment> out;
  for (Segment& s : *strings) {
    if (levels > 0 && s.kind == Segment::Kind::value) {
      if (auto inner = open_json_string(json, s, max_depth, levels)) {
        for (Segment& t : *inner) out.push_back(std::move(t));
        continue;
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

// "[0][3][1]" → true for index paths of the form [0][i][k].
bool is_batch_entry_field(std::string_view location, char field) {
  if (!location.starts_with("[0][")) return false;
  const size_t close = location.find(']', 4);
  if (close == std::string_view::npos || close == 4) return false;
  for (size_t i = 4; i < close; ++i)
    if (location[i] < '0' || location[i] > '9') return false;
  return location.substr(close + 1) == std::string{'[', field, ']'};
}

// gemini.google.com's RPC forms. f.req is JSON whose strings hold JSON (StreamGenerate:
// [null,"[[\"prompt\",0,null,...],[\"vi\"],[\"c_..\",\"r_..\",\"rc_..\"],...]"]; batchexecute:
// [[["rpcid","<JSON>",null,"generic"],...]]).
}  // namespace

std::optional<std::vector<Segment>> open_json_string(std::string_view json, const Segment& s, size_t max_depth,
                                                     int levels, std::string* error_out) {
  if (levels <= 0 || s.encoding != Segment::Encoding::json_string || !looks_like_json_text(s.text)) return std::nullopt;
  const size_t content = s.raw_begin + 1;
  auto unescaped = json_unescape_mapped(json.substr(content, s.raw_end - 1 - content));
  if (!unescaped || unescaped->text != s.text) return std::nullopt;
  std::string error;
  auto inner = nested_json_strings(unescaped->text, max_depth, levels - 1, error);
  if (!inner) {
    if (error_out != nullptr) *error_out = std::move(error);
    return std::nullopt;
  }
  for (Segment& t : *inner) {
    t.raw_begin = content + unescaped->at[t.raw_begin];
    t.raw_end = content + unescaped->at[t.raw_end];
    t.enclosing.push_back(Segment::Encoding::json_string);
    t.enclosing.insert(t.enclosing.end(), s.enclosing.begin(), s.enclosing.end());
    t.location = s.location + ":" + t.location;
  }
  return inner;
}

Extraction extract_gemini_web_form(std::string_view body, std::string_view path, size_t max_depth) {
  Extraction form = extract_form(body);
  if (form.status != Extraction::Status::ok) return form;
  const auto freq = std::find_if(form.segments.begin(), form.segments.end(),
                                 [](const Segment& s) { return s.kind == Segment::Kind::value && s.location == "f.req"; });
  if (freq == form.segments.end()) return form;

  auto unparseable = [](std::string why) {
    Extraction e;
    e.status = Extraction::Status::unparseable;
    e.error = std::move(why);
    return e;
  };
  const size_t value_begin = freq->raw_begin;
  const MappedText decoded = form_decode_mapped(body.substr(value_begin, freq->raw_end - value_begin));
  std::string error;
  // One level: f.req's own strings that hold JSON are opened, the strings inside them are not. A
  // prompt that itself looks like JSON stays one whole text, keys and numbers scanned with it.
  auto nested = nested_json_strings(decoded.text, max_depth, /*levels=*/1, error);
  if (!nested) return unparseable("f.req is not JSON: " + error);

  const bool stream_generate = path.find("/StreamGenerate") != std::string_view::npos;
  const bool batch = path.find("/batchexecute") != std::string_view::npos;
  std::vector<Segment> chosen;
  if (stream_generate) {
    // Every string: the prompt, and the envelope's ids, language codes and context, which the app
    // may fill with text the user wrote (a shared conversation's title). The envelope is checked
    // so that a request the app no longer sends this way is refused rather than guessed at.
    const bool has_prompt = std::any_of(nested->begin(), nested->end(), [](const Segment& s) { return s.location == "[1]:[0][0]"; });
    if (!has_prompt) return unparseable("StreamGenerate f.req has no prompt at [1]:[0][0]");
    chosen = std::move(*nested);
  } else {
    bool envelope = !batch;
    for (Segment& s : *nested) {
      // The rpc id and the "generic" marker of each call are names, not text.
      if (batch && (is_batch_entry_field(s.location, '0') || is_batch_entry_field(s.location, '3'))) {
        envelope = true;
        continue;
      }
      chosen.push_back(std::move(s));
    }
    if (!envelope) return unparseable("batchexecute f.req has no [[[rpcid, payload, ...]]] envelope");
  }

  Extraction out;
  for (Segment& field : form.segments) {
    if (&field != &*freq) {
      // `at` is the XSRF token: transport, and a secret of the user's session that must not
      // reach a log; its name is scanned like any other.
      if (field.kind != Segment::Kind::value || field.location != "at") out.segments.push_back(std::move(field));
      continue;
    }
    for (Segment& s : chosen) {
      s.raw_begin = value_begin + decoded.at[s.raw_begin];
      s.raw_end = value_begin + decoded.at[s.raw_end];
      s.enclosing.push_back(Segment::Encoding::form_value);
      s.location = "f.req" + s.location;
      out.segments.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace promptwall::gateway::segments
