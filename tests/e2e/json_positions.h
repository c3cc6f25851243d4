// JsonPositions: every place a JSON document lets a client put text, as request bodies for the
// coverage test (issue 12, "nothing leaves unseen"). Given a realistic base document and a text
// (a classification stamp, a CCCD number, or clean text for the control run), it produces one
// variant per (position, placement, spelling):
//
//   placements  replace a string value · append a line to it · rename an object key to the text ·
//               add the text as a new key · add a new field holding it at each object · add it
//               as a new item of each array · repeat each key with the text as its value (the
//               repeated key written with \u escapes, so only an unescaped comparison sees it:
//               not strict JSON, and a lenient upstream reads the last value); strings that hold JSON themselves (tool-call
//               arguments) are opened and their positions used too, one escaping level deeper
//   spellings   UTF-8 NFC · every non-ASCII character as \uXXXX · UTF-8 NFD (decomposed marks) ·
//               NFD with every non-ASCII as \uxxxx · every code point escaped · split (every other
//               code point escaped, so no two letters of the text sit together unescaped) · a text
//               file as a base64 data: URL (only where a value goes: a file is not a key, and a line
//               appended to a data: URL is no longer a file)
//
// Why it exists apart from the gateway: the positions come from the document's own structure, not
// from any schema's field list, so a field the gateway's lists forgot is covered the day it is
// added to a base document. The bodies are built by dumping the document with an ASCII placeholder
// and splicing the spelled text over it, so the escapes are exactly those written here (nlohmann
// would re-escape a \u sequence otherwise).
//
// Invariants: every body but a duplicate_key one is valid strict JSON (RFC 8259) that decodes to
// the base document with exactly one change, at the variant's position; variants come in a deterministic order (the
// document's own order) with unique `where` strings; a spelling that would repeat the body of an
// earlier one at the same position (escaping non-ASCII in ASCII text) is dropped, so the same
// document yields fewer variants for a CCCD than for a Vietnamese stamp. The base document must
// not contain the placeholder.
// Threads: pure functions, no state. Errors: std::invalid_argument when the base document holds
// the placeholder or the text is not valid UTF-8 (ICU cannot normalise it).
#pragma once

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace promptwall::e2e {

using OrderedJson = nlohmann::ordered_json;

enum class Placement { replace_value, append_line, rename_key, add_key, add_field, add_array_item, duplicate_key };
enum class Spelling { utf8_nfc, escaped_nfc, utf8_nfd, escaped_nfd, all_escaped, split_escapes, base64_data_url };

inline const char* to_string(Placement p) {
  switch (p) {
    case Placement::replace_value: return "replace_value";
    case Placement::append_line: return "append_line";
    case Placement::rename_key: return "rename_key";
    case Placement::add_key: return "add_key";
    case Placement::add_field: return "add_field";
    case Placement::add_array_item: return "add_array_item";
    case Placement::duplicate_key: return "duplicate_key";
  }
  return "?";
}

inline const char* to_string(Spelling s) {
  switch (s) {
    case Spelling::utf8_nfc: return "utf8_nfc";
    case Spelling::escaped_nfc: return "escaped_nfc";
    case Spelling::utf8_nfd: return "utf8_nfd";
    case Spelling::escaped_nfd: return "escaped_nfd";
    case Spelling::all_escaped: return "all_escaped";
    case Spelling::split_escapes: return "split_escapes";
    case Spelling::base64_data_url: return "base64_data_url";
  }
  return "?";
}

inline constexpr Spelling kAllSpellings[] = {Spelling::utf8_nfc, Spelling::escaped_nfc, Spelling::utf8_nfd,
                                             Spelling::escaped_nfd, Spelling::all_escaped, Spelling::split_escapes,
                                             Spelling::base64_data_url};

struct JsonVariant {
  std::string position;  // "/messages/0/content append_line"; in JSON inside a string: "/a/arguments → /city ..."
  std::string where;     // the position and the spelling: "/messages/0/content append_line escaped_nfd"
  Placement placement;
  Spelling spelling;
  int string_depth = 0;  // 0: in the document; 1: in JSON held by one of its strings
  bool in_file = false;  // append_line to a data: URL: the file no longer decodes
  std::string body;      // the JSON text to send
};

namespace json_positions_detail {

// ASCII letters only: JSON dumps it unchanged at any nesting depth.
inline constexpr std::string_view kPlaceholder = "QzxPromptwallPositionQzx";
// Where a duplicate_key variant's repeated key goes (a JSON object cannot hold it twice).
inline constexpr std::string_view kRepeatedKey = "QzxPromptwallRepeatedKeyQzx";

// One level of a position: a pointer into the document at that level. Every level but the last
// points to a string holding JSON.
struct Site {
  std::vector<OrderedJson::json_pointer> levels;
  Placement placement;
  std::string key;  // rename_key: the key renamed; duplicate_key: the key repeated
  bool in_file = false;
};

inline std::vector<char32_t> code_points(const std::string& utf8) {
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(utf8);
  std::vector<char32_t> out;
  for (int32_t i = 0; i < u.length(); i = u.moveIndex32(i, 1)) out.push_back(static_cast<char32_t>(u.char32At(i)));
  return out;
}

inline std::string normalized(const std::string& utf8, bool nfd) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = nfd ? icu::Normalizer2::getNFDInstance(status) : icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) throw std::invalid_argument("ICU normaliser unavailable");
  icu::UnicodeString out = n->normalize(icu::UnicodeString::fromUTF8(utf8), status);
  if (U_FAILURE(status)) throw std::invalid_argument("text cannot be normalised");
  std::string s;
  out.toUTF8String(s);
  return s;
}

inline std::string utf8(char32_t c) {
  std::string s;
  icu::UnicodeString(static_cast<UChar32>(c)).toUTF8String(s);
  return s;
}

// \uXXXX, with a surrogate pair above the BMP; upper or lower hex digits (both are valid JSON).
inline std::string escape(char32_t c, bool upper) {
  auto one = [upper](unsigned unit) {
    char buf[8];
    std::snprintf(buf, sizeof buf, upper ? "\\u%04X" : "\\u%04x", unit);
    return std::string(buf);
  };
  if (c < 0x10000) return one(static_cast<unsigned>(c));
  const unsigned v = static_cast<unsigned>(c) - 0x10000;
  return one(0xD800 + (v >> 10)) + one(0xDC00 + (v & 0x3FF));
}

// The JSON string content (no quotes) of `c` when written plainly.
inline std::string plain(char32_t c) {
  if (c == '"') return "\\\"";
  if (c == '\\') return "\\\\";
  if (c < 0x20) return escape(c, false);
  return utf8(c);
}

}  // namespace json_positions_detail

inline std::string base64(const std::string& in) {
  static constexpr char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += i + 1 < in.size() ? kTable[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kTable[v & 63] : '=';
  }
  return out;
}

// The bytes a base64 data: URL carries; nullopt when `s` is not one (or its base64 is broken).
inline std::optional<std::string> decode_data_url(std::string_view s) {
  const size_t comma = s.find(',');
  if (s.rfind("data:", 0) != 0 || comma == std::string_view::npos || s.substr(0, comma).find(";base64") == std::string_view::npos)
    return std::nullopt;
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (char c : s.substr(comma + 1)) {
    int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
          : c == '+' ? 62 : c == '/' ? 63 : c == '=' ? -2 : -1;
    if (v == -2) break;
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<unsigned>(v);
    if ((count += 6) >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xFF);
    }
  }
  return out;
}

// The text as the content of a JSON string (without quotes), in one spelling.
inline std::string spell(const std::string& text, Spelling spelling) {
  using namespace json_positions_detail;
  if (spelling == Spelling::base64_data_url) return "data:text/plain;base64," + base64(normalized(text, false));
  const bool nfd = spelling == Spelling::utf8_nfd || spelling == Spelling::escaped_nfd;
  std::string out;
  size_t i = 0;
  for (char32_t c : code_points(normalized(text, nfd))) {
    switch (spelling) {
      case Spelling::utf8_nfc:
      case Spelling::utf8_nfd: out += plain(c); break;
      case Spelling::escaped_nfc: out += c < 0x80 ? plain(c) : escape(c, true); break;
      case Spelling::escaped_nfd: out += c < 0x80 ? plain(c) : escape(c, false); break;
      case Spelling::all_escaped: out += escape(c, true); break;
      case Spelling::split_escapes: out += i % 2 == 1 ? escape(c, i % 4 == 1) : plain(c); break;
      case Spelling::base64_data_url: break;  // handled above
    }
    ++i;
  }
  return out;
}

// The string content `s` written as the content of a JSON string once more (one nesting level).
inline std::string escape_again(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

namespace json_positions_detail {

inline std::string pointer_text(const std::vector<OrderedJson::json_pointer>& levels) {
  std::string out;
  for (size_t i = 0; i < levels.size(); ++i) {
    if (i > 0) out += " → ";
    out += levels[i].to_string().empty() ? "/" : levels[i].to_string();
  }
  return out;
}

inline bool holds_json(const OrderedJson& v) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  if (s.empty() || (s.front() != '{' && s.front() != '[')) return false;
  auto parsed = OrderedJson::parse(s, nullptr, false);
  return !parsed.is_discarded() && parsed.is_structured();
}

inline void collect(const OrderedJson& node, const OrderedJson::json_pointer& at,
                    const std::vector<OrderedJson::json_pointer>& outer, std::vector<Site>& out) {
  auto site = [&](Placement p, std::string key = {}) {
    Site s{outer, p, std::move(key),
           p == Placement::append_line && node.get_ref<const std::string&>().rfind("data:", 0) == 0};
    s.levels.push_back(at);
    out.push_back(std::move(s));
  };
  if (node.is_string()) {
    site(Placement::replace_value);
    site(Placement::append_line);
    if (holds_json(node)) {
      auto inner_outer = outer;
      inner_outer.push_back(at);
      collect(OrderedJson::parse(node.get<std::string>()), OrderedJson::json_pointer(), inner_outer, out);
    }
  } else if (node.is_object()) {
    site(Placement::add_key);
    site(Placement::add_field);
    for (const auto& [key, value] : node.items()) site(Placement::rename_key, key);
    for (const auto& [key, value] : node.items()) site(Placement::duplicate_key, key);
    for (const auto& [key, value] : node.items()) collect(value, at / key, outer, out);
  } else if (node.is_array()) {
    site(Placement::add_array_item);
    for (size_t i = 0; i < node.size(); ++i) collect(node[i], at / i, outer, out);
  }
}

// The document with the placeholder put at the site's last level.
inline void apply(OrderedJson& doc, const Site& site, size_t level) {
  OrderedJson& target = doc.at(site.levels[level]);
  if (level + 1 < site.levels.size()) {
    OrderedJson inner = OrderedJson::parse(target.get<std::string>());
    apply(inner, site, level + 1);
    target = inner.dump();
    return;
  }
  const std::string placeholder(kPlaceholder);
  switch (site.placement) {
    case Placement::replace_value: target = placeholder; break;
    case Placement::append_line: target = target.get<std::string>() + "\n" + placeholder; break;
    case Placement::add_key: target[placeholder] = "ok"; break;
    case Placement::add_field: target["x_note"] = placeholder; break;
    case Placement::add_array_item: target.push_back(placeholder); break;
    case Placement::duplicate_key: target[std::string(kRepeatedKey)] = placeholder; break;
    case Placement::rename_key: {
      OrderedJson renamed = OrderedJson::object();
      for (auto& [key, value] : target.items()) renamed[key == site.key ? placeholder : key] = value;
      target = std::move(renamed);
      break;
    }
  }
}

}  // namespace json_positions_detail

// Every variant of `base` with `text` placed once, in every spelling listed.
inline std::vector<JsonVariant> json_variants(const OrderedJson& base, const std::string& text,
                                              const std::vector<Spelling>& spellings) {
  using namespace json_positions_detail;
  if (base.dump().find(kPlaceholder) != std::string::npos || base.dump().find(kRepeatedKey) != std::string::npos)
    throw std::invalid_argument("base document holds the placeholder");
  std::vector<Site> sites;
  collect(base, OrderedJson::json_pointer(), {}, sites);
  std::vector<JsonVariant> out;
  for (const Site& site : sites) {
    OrderedJson doc = base;
    apply(doc, site, 0);
    std::string dumped = doc.dump();
    if (site.placement == Placement::duplicate_key) {
      std::string repeated = spell(site.key, Spelling::split_escapes);
      for (size_t d = 1; d < site.levels.size(); ++d) repeated = escape_again(repeated);
      dumped.replace(dumped.find(kRepeatedKey), kRepeatedKey.size(), repeated);
    }
    const size_t at = dumped.find(kPlaceholder);
    std::set<std::string> seen;
    for (Spelling spelling : spellings) {
      if (spelling == Spelling::base64_data_url &&
          (site.placement == Placement::rename_key || site.placement == Placement::add_key || site.placement == Placement::append_line ||
           site.placement == Placement::duplicate_key))
        continue;
      std::string spelled = spell(text, spelling);
      for (size_t d = 1; d < site.levels.size(); ++d) spelled = escape_again(spelled);
      std::string body = dumped;
      body.replace(at, kPlaceholder.size(), spelled);
      if (!seen.insert(body).second) continue;
      std::string position = pointer_text(site.levels);
      if (site.placement == Placement::rename_key || site.placement == Placement::duplicate_key) position += " [" + site.key + "]";
      position += std::string(" ") + to_string(site.placement);
      std::string where = position + " " + to_string(spelling);
      out.push_back({std::move(position), std::move(where), site.placement, spelling, static_cast<int>(site.levels.size()) - 1,
                     site.in_file, std::move(body)});
    }
  }
  return out;
}

}  // namespace promptwall::e2e
