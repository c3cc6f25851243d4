#include "extractors/mime_message_reader.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "extractors/text_file_reader.h"

namespace promptwall::extractors {

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// --- transfer encodings -------------------------------------------------------------------------

// Base64 (RFC 2045 §6.8): characters outside the alphabet (line breaks, spaces) are skipped, as
// the RFC asks; decoding stops at '='.
std::string decode_base64(std::string_view s) {
  std::string out;
  out.reserve(s.size() / 4 * 3);
  uint32_t bits = 0;
  int count = 0;
  for (char c : s) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else if (c == '=') break;
    else continue;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    if (++count == 4) {
      out += static_cast<char>((bits >> 16) & 0xFF);
      out += static_cast<char>((bits >> 8) & 0xFF);
      out += static_cast<char>(bits & 0xFF);
      bits = 0;
      count = 0;
    }
  }
  if (count == 2) out += static_cast<char>((bits >> 4) & 0xFF);
  if (count == 3) {
    out += static_cast<char>((bits >> 10) & 0xFF);
    out += static_cast<char>((bits >> 2) & 0xFF);
  }
  return out;
}

// Quoted-printable (RFC 2045 §6.7): =XX a byte, '=' at a line's end a soft break; an '=' that is
// neither stays as written. In an encoded-word (`q_word`), '_' is a space (RFC 2047 §4.2).
std::string decode_quoted_printable(std::string_view s, bool q_word = false) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (q_word && c == '_') {
      out += ' ';
      continue;
    }
    if (c != '=') {
      out += c;
      continue;
    }
    if (i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
      continue;
    }
    // A soft line break: '=', optional trailing whitespace, then CRLF or LF.
    size_t k = i + 1;
    while (k < s.size() && (s[k] == ' ' || s[k] == '\t')) ++k;
    if (k < s.size() && s[k] == '\r') ++k;
    if (k < s.size() && s[k] == '\n') {
      i = k;
      continue;
    }
    if (k >= s.size()) break;  // '=' at the very end
    out += c;
  }
  return out;
}

// --- headers ------------------------------------------------------------------------------------

// RFC 2047 encoded-words decoded; the whitespace between two adjacent encoded-words is dropped, and
// their bytes are joined before the charset is applied (a sender may split a character).
std::string decode_words(std::string_view value) {
  std::string out;
  std::string pending;          // decoded bytes of adjacent encoded-words in one charset
  std::string pending_charset;
  std::string gap;              // whitespace after an encoded-word, dropped if another follows
  const auto flush = [&] {
    if (!pending.empty()) out += text_as_utf8(pending, pending_charset);
    pending.clear();
  };
  size_t i = 0;
  while (i < value.size()) {
    const size_t start = value.find("=?", i);
    if (start == std::string_view::npos) break;
    // =?charset?enc?text?=
    const size_t q1 = value.find('?', start + 2);
    const size_t q2 = q1 == std::string_view::npos ? q1 : value.find('?', q1 + 1);
    const size_t end = q2 == std::string_view::npos ? q2 : value.find("?=", q2 + 1);
    if (end == std::string_view::npos || q2 != q1 + 2) {
      flush();
      out += gap;
      gap.clear();
      out.append(value.substr(i, start + 2 - i));
      i = start + 2;
      continue;
    }
    const std::string_view between = value.substr(i, start - i);
    const bool adjacent = !pending.empty() && trim(between).empty();
    std::string charset = lowercase(value.substr(start + 2, q1 - start - 2));
    if (const size_t star = charset.find('*'); star != std::string::npos) charset.resize(star);  // RFC 2231 language
    const char enc = lower(value[q1 + 1]);
    const std::string_view text = value.substr(q2 + 1, end - q2 - 1);
    if (enc != 'b' && enc != 'q') {
      flush();
      out.append(value.substr(i, end + 2 - i));
      i = end + 2;
      continue;
    }
    if (!adjacent || charset != pending_charset) {
      flush();
      out.append(between);
    }
    pending_charset = charset;
    pending += enc == 'b' ? decode_base64(text) : decode_quoted_printable(text, true);
    i = end + 2;
  }
  flush();
  out.append(value.substr(i));
  return out;
}

struct Header {
  std::string name;   // lower case
  std::string value;  // unfolded, as written
};

struct Entity {
  std::vector<Header> headers;
  std::string_view body;
  const std::string* find(std::string_view name) const {
    for (const auto& h : headers)
      if (h.name == name) return &h.value;
    return nullptr;
  }
};

// Headers up to the first empty line, unfolded; the rest is the body. A header block that never
// ends (no empty line) leaves an empty body.
Entity parse_entity(std::string_view s) {
  Entity e;
  size_t at = 0;
  while (at < s.size()) {
    size_t end = s.find('\n', at);
    const bool last = end == std::string_view::npos;
    if (last) end = s.size();
    std::string_view line = s.substr(at, end - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    at = last ? s.size() : end + 1;
    if (line.empty()) {
      e.body = s.substr(at);
      return e;
    }
    if ((line[0] == ' ' || line[0] == '\t') && !e.headers.empty()) {
      e.headers.back().value += ' ';
      e.headers.back().value.append(trim(line));
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;  // not a field (an mbox "From " line)
    e.headers.push_back({lowercase(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
  }
  return e;
}

struct ContentType {
  std::string type = "text/plain";  // lower case
  std::vector<std::pair<std::string, std::string>> params;  // names lower case, values unquoted
};

// "type/subtype; name=value; name="quoted; value"" (RFC 2045 §5.1), parameter names lower case;
// RFC 2231 continuations (name*0, name*1*) joined and name* values decoded.
ContentType parse_content_type(std::string_view v, std::string_view default_type) {
  ContentType ct;
  const size_t semi = v.find(';');
  std::string type = lowercase(trim(v.substr(0, semi)));
  ct.type = type.find('/') == std::string::npos ? std::string(default_type) : type;
  if (semi == std::string_view::npos) return ct;
  std::string_view rest = v.substr(semi + 1);
  std::vector<std::pair<std::string, std::string>> raw;
  while (!rest.empty()) {
    rest = trim(rest);
    const size_t eq = rest.find('=');
    if (eq == std::string_view::npos) break;
    std::string name = lowercase(trim(rest.substr(0, eq)));
    rest.remove_prefix(eq + 1);
    rest = trim(rest);
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      size_t k = 1;
      for (; k < rest.size() && rest[k] != '"'; ++k) {
        if (rest[k] == '\\' && k + 1 < rest.size()) ++k;
        value += rest[k];
      }
      rest.remove_prefix(std::min(rest.size(), k + 1));
      const size_t next = rest.find(';');
      rest.remove_prefix(next == std::string_view::npos ? rest.size() : next + 1);
    } else {
      const size_t next = rest.find(';');
      value = std::string(trim(rest.substr(0, next)));
      rest.remove_prefix(next == std::string_view::npos ? rest.size() : next + 1);
    }
    raw.emplace_back(std::move(name), std::move(value));
  }
  // RFC 2231: name*=charset'lang'%XX..., name*0=..., name*1*=...; joined in order of appearance.
  for (auto& [name, value] : raw) {
    const size_t star = name.find('*');
    if (star == std::string::npos) {
      ct.params.emplace_back(name, value);
      continue;
    }
    const std::string base = name.substr(0, star);
    const bool encoded = name.back() == '*';
    std::string decoded;
    std::string charset;
    std::string_view v2 = value;
    const bool first_section = name == base + "*" || name == base + "*0*" || name == base + "*0";
    if (encoded && first_section) {
      const size_t a = v2.find('\'');
      const size_t b = a == std::string_view::npos ? a : v2.find('\'', a + 1);
      if (b != std::string_view::npos) {
        charset = std::string(v2.substr(0, a));
        v2.remove_prefix(b + 1);
      }
    }
    if (encoded) {
      for (size_t i = 0; i < v2.size(); ++i) {
        if (v2[i] == '%' && i + 2 < v2.size() && hex_value(v2[i + 1]) >= 0 && hex_value(v2[i + 2]) >= 0) {
          decoded += static_cast<char>(hex_value(v2[i + 1]) * 16 + hex_value(v2[i + 2]));
          i += 2;
        } else {
          decoded += v2[i];
        }
      }
      if (!charset.empty()) decoded = text_as_utf8(decoded, charset);
    } else {
      decoded = std::string(v2);
    }
    auto it = std::find_if(ct.params.begin(), ct.params.end(), [&](const auto& p) { return p.first == base; });
    if (it == ct.params.end() || first_section) {
      if (it != ct.params.end() && first_section) it->second = decoded;
      else ct.params.emplace_back(base, decoded);
    } else {
      it->second += decoded;
    }
  }
  return ct;
}

std::string param(const ContentType& ct, std::string_view name) {
  for (const auto& [n, v] : ct.params)
    if (n == name) return v;
  return {};
}

constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kShownHeaders{{
    {"subject", "Subject"},
    {"from", "From"},
    {"to", "To"},
    {"cc", "Cc"},
    {"bcc", "Bcc"},
    {"reply-to", "Reply-To"},
    {"sender", "Sender"},
    {"date", "Date"},
    {"organization", "Organization"},
    {"keywords", "Keywords"},
    {"comments", "Comments"},
    {"thread-topic", "Thread-Topic"},
}};

class MessageReader {
 public:
  MessageReader(TextCollector& out, ReadContext& ctx) : out_(out), ctx_(ctx) {}

  ReadOutcome read(std::string_view bytes) {
    const Entity top = parse_entity(bytes);
    write_headers(top);
    return entity(top, 0, "text/plain");
  }

 private:
  void write_headers(const Entity& e) {
    bool begun = false;
    bool prominent = false;
    for (const auto& [key, shown] : kShownHeaders) {
      for (const auto& h : e.headers) {
        if (h.name != key) continue;
        const std::string value = decode_words(h.value);
        if (trim(value).empty()) continue;
        if (!begun) {
          out_.begin_part(SpanPlace{Place::email_header}, "headers");
          begun = true;
        }
        if ((key == "subject") != prominent) {
          prominent = key == "subject";
          out_.anchor(SpanPlace{Place::email_header, 0, "", "", prominent});
        }
        out_.text(std::string(shown) + ": " + value);
        out_.end_paragraph();
      }
    }
  }

  ReadOutcome entity(const Entity& e, size_t depth, std::string_view default_type) {
    if (++parts_ > kMimeMaxParts)
      return ReadOutcome::stop(Unscannable::too_many_entries,
                               "e-mail with more than " + std::to_string(kMimeMaxParts) + " MIME parts");
    if (out_.full()) return ReadOutcome::stop(Unscannable::too_big, "text over the max_text_bytes limit");
    const std::string* ct_header = e.find("content-type");
    const ContentType ct = parse_content_type(ct_header ? *ct_header : std::string_view(), default_type);
    if (ct.type.rfind("multipart/", 0) == 0) return multipart(e, ct, depth);

    const std::string* cte_header = e.find("content-transfer-encoding");
    const std::string cte = cte_header ? lowercase(trim(*cte_header)) : "7bit";
    std::string data;
    if (cte == "base64") data = decode_base64(e.body);
    else if (cte == "quoted-printable") data = decode_quoted_printable(e.body);
    else data = std::string(e.body);

    const std::string* cd_header = e.find("content-disposition");
    const ContentType cd = parse_content_type(cd_header ? "x/" + *cd_header : std::string(), "x/inline");
    std::string name = decode_words(param(cd, "filename"));
    if (name.empty()) name = decode_words(param(ct, "name"));
    const bool attachment = cd.type == "x/attachment";
    const bool text = ct.type == "text/plain" || ct.type == "text/html";
    if (text && !(attachment && !name.empty())) {
      const std::string utf8 = text_as_utf8(data, param(ct, "charset"));
      out_.begin_part(SpanPlace{Place::body}, ct.type);
      if (ct.type == "text/html") {
        write_html_text(utf8, out_);
      } else {
        size_t at = 0;
        while (at < utf8.size() && !out_.full()) {
          size_t end = utf8.find('\n', at);
          if (end == std::string::npos) end = utf8.size();
          std::string_view line = std::string_view(utf8).substr(at, end - at);
          if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
          out_.text(line);
          out_.end_paragraph();
          at = end + 1;
        }
      }
      if (out_.full()) return ReadOutcome::stop(Unscannable::too_big, "text over the max_text_bytes limit");
      return ReadOutcome::ok();
    }
    ++files_;
    if (name.empty())
      name = ct.type == "message/rfc822" ? "message-" + std::to_string(files_) + ".eml"
                                         : "attachment-" + std::to_string(files_);
    return ctx_.read_inner(data, name);
  }

  ReadOutcome multipart(const Entity& e, const ContentType& ct, size_t depth) {
    if (depth + 1 > kMimeMaxDepth)
      return ReadOutcome::stop(Unscannable::too_deep, "MIME multiparts nested deeper than " + std::to_string(kMimeMaxDepth));
    const std::string boundary = param(ct, "boundary");
    if (boundary.empty() || boundary.size() > 200)
      return ReadOutcome::stop(Unscannable::truncated, "multipart without a usable boundary parameter");
    const std::string delimiter = "--" + boundary;
    // multipart/digest's parts are messages unless they say otherwise (RFC 2046 §5.1.5).
    const std::string_view child_default = ct.type == "multipart/digest" ? "message/rfc822" : "text/plain";
    const std::string_view body = e.body;
    size_t at = 0;
    size_t part_start = std::string_view::npos;
    while (at <= body.size()) {
      size_t end = body.find('\n', at);
      const bool last = end == std::string_view::npos;
      if (last) end = body.size();
      std::string_view line = body.substr(at, end - at);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      const size_t line_start = at;
      at = end + 1;
      if (line.size() >= delimiter.size() && line.substr(0, delimiter.size()) == delimiter) {
        std::string_view rest = line.substr(delimiter.size());
        const bool close = rest.substr(0, 2) == "--";
        if (close) rest.remove_prefix(2);
        if (trim(rest).empty()) {
          if (part_start != std::string_view::npos) {
            // The line break before the delimiter belongs to the delimiter (RFC 2046 §5.1.1).
            size_t part_end = line_start;
            if (part_end > part_start && body[part_end - 1] == '\n') --part_end;
            if (part_end > part_start && body[part_end - 1] == '\r') --part_end;
            const ReadOutcome r = entity(parse_entity(body.substr(part_start, part_end - part_start)), depth + 1,
                                         child_default);
            if (!r.good()) return r;
          }
          if (close) return ReadOutcome::ok();
          part_start = std::min(at, body.size());
        }
      }
      if (last) break;
    }
    // No closing delimiter: the message was cut. Read the last part as far as it goes, then say so.
    if (part_start != std::string_view::npos) {
      const ReadOutcome r = entity(parse_entity(body.substr(part_start)), depth + 1, child_default);
      if (!r.good()) return r;
    }
    return ReadOutcome::stop(Unscannable::truncated, "multipart without its closing boundary");
  }

  TextCollector& out_;
  ReadContext& ctx_;
  size_t parts_ = 0;
  size_t files_ = 0;
};

}  // namespace

ReadOutcome read_mime_message(std::string_view bytes, TextCollector& out, ReadContext& ctx) {
  return MessageReader(out, ctx).read(bytes);
}

}  // namespace promptwall::extractors
