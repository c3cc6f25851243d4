#include "extractors/text_file_reader.h"

#include <unicode/ucnv.h>
#include <unicode/ucsdet.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cctype>
#include <memory>
#include <optional>
#include <string>

#include "extractors/byte_order_mark.h"

namespace promptwall::extractors {

namespace {

constexpr size_t kDetectSample = 64 * 1024;  // bytes ICU's detector looks at
constexpr size_t kMetaWindow = 4096;         // where an HTML file's <meta charset> must be

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

size_t ifind(std::string_view hay, std::string_view needle, size_t from = 0) {
  if (needle.empty() || hay.size() < needle.size()) return std::string_view::npos;
  for (size_t i = from; i + needle.size() <= hay.size(); ++i)
    if (lower(hay[i]) == lower(needle[0]) && iequals(hay.substr(i, needle.size()), needle)) return i;
  return std::string_view::npos;
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const auto n = static_cast<int64_t>(s.size());
  for (int64_t i = 0; i < n;) {
    // U8_NEXT takes int32_t lengths: walk in windows so a file past 2 GiB is still judged whole.
    const int32_t len = static_cast<int32_t>(std::min<int64_t>(n - i, 1 << 30));
    int32_t k = 0;
    while (k < len) {
      UChar32 c;
      U8_NEXT(p + i, k, len, c);
      if (c < 0) return false;
    }
    i += k;
  }
  return true;
}

// `bytes` from `charset` to UTF-8, invalid bytes as U+FFFD; nullopt when ICU does not know it.
std::optional<std::string> convert(std::string_view bytes, const char* charset) {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<UConverter, decltype(&ucnv_close)> from(ucnv_open(charset, &status), &ucnv_close);
  if (U_FAILURE(status)) return std::nullopt;
  std::unique_ptr<UConverter, decltype(&ucnv_close)> to(ucnv_open("UTF-8", &status), &ucnv_close);
  if (U_FAILURE(status)) return std::nullopt;
  // Any unit of a single-byte, UTF-16 or UTF-32 charset is at most 3 UTF-8 bytes per input byte;
  // other charsets grow the buffer as they need.
  std::string out(bytes.size() * 3 + 16, '\0');
  const char* src = bytes.data();
  char* dst = out.data();
  UChar pivot[1024];
  UChar* ps = pivot;
  UChar* pt = pivot;
  bool first = true;
  for (;;) {
    status = U_ZERO_ERROR;
    ucnv_convertEx(to.get(), from.get(), &dst, out.data() + out.size(), &src, bytes.data() + bytes.size(), pivot,
                   &ps, &pt, pivot + 1024, first, true, &status);
    first = false;
    if (status == U_BUFFER_OVERFLOW_ERROR) {
      const size_t used = static_cast<size_t>(dst - out.data());
      out.resize(out.size() * 2);
      dst = out.data() + used;
      continue;
    }
    break;
  }
  if (U_FAILURE(status)) return std::nullopt;
  out.resize(static_cast<size_t>(dst - out.data()));
  return out;
}


// The charset ICU's detector names with confidence; on a short or ambiguous sample its guesses
// turn to multi-byte East Asian charsets that would garble Latin text, so below kSureConfidence the
// best single-byte match is taken, and windows-1252 when there is none (Vietnamese legacy text then
// arrives as the Latin-1 look-alikes the legacy view decodes).
std::string detected_charset(std::string_view bytes) {
  constexpr int32_t kSureConfidence = 50;
  const std::string fallback = "windows-1252";
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<UCharsetDetector, decltype(&ucsdet_close)> det(ucsdet_open(&status), &ucsdet_close);
  if (U_FAILURE(status)) return fallback;
  const std::string_view sample = bytes.substr(0, kDetectSample);
  ucsdet_setText(det.get(), sample.data(), static_cast<int32_t>(sample.size()), &status);
  int32_t count = 0;
  const UCharsetMatch** matches = ucsdet_detectAll(det.get(), &count, &status);
  if (U_FAILURE(status) || !matches) return fallback;
  for (int32_t i = 0; i < count; ++i) {
    UErrorCode s = U_ZERO_ERROR;
    const char* name = ucsdet_getName(matches[i], &s);
    const int32_t confidence = ucsdet_getConfidence(matches[i], &s);
    if (U_FAILURE(s) || !name) continue;
    const std::string_view n(name);
    const bool single_byte = starts_with(n, "ISO-8859-") || starts_with(n, "windows-125") || starts_with(n, "KOI8");
    if (confidence >= kSureConfidence || single_byte) return name;
  }
  return fallback;
}

// The charset an HTML file names for itself: <meta charset="x"> or <meta http-equiv content="...; charset=x">.
std::string html_meta_charset(std::string_view bytes) {
  const std::string_view head = bytes.substr(0, kMetaWindow);
  size_t at = 0;
  while ((at = ifind(head, "<meta", at)) != std::string_view::npos) {
    const size_t end = head.find('>', at);
    if (end == std::string_view::npos) break;
    const std::string_view tag = head.substr(at, end - at);
    at = end;
    const size_t cs = ifind(tag, "charset=");
    if (cs == std::string_view::npos) continue;
    std::string_view v = tag.substr(cs + 8);
    if (!v.empty() && (v.front() == '"' || v.front() == '\'')) v.remove_prefix(1);
    size_t n = 0;
    while (n < v.size() && n < 40 &&
           (std::isalnum(static_cast<unsigned char>(v[n])) || v[n] == '-' || v[n] == '_' || v[n] == '.' || v[n] == ':'))
      ++n;
    if (n > 0) return std::string(v.substr(0, n));
  }
  return {};
}

// --- HTML ---------------------------------------------------------------------------------------

struct NamedReference {
  std::string_view name;
  char32_t code;
};
// The named references text uses most: markup escapes, spaces and punctuation, and the Latin
// letters of Vietnamese that have names (the others come as numeric references or as text).
constexpr std::array<NamedReference, 72> kNamed{{
    {"amp", '&'},        {"lt", '<'},         {"gt", '>'},          {"quot", '"'},        {"apos", '\''},
    {"nbsp", 0xA0},      {"ensp", 0x2002},    {"emsp", 0x2003},     {"thinsp", 0x2009},   {"shy", 0xAD},
    {"copy", 0xA9},      {"reg", 0xAE},       {"trade", 0x2122},    {"deg", 0xB0},        {"plusmn", 0xB1},
    {"times", 0xD7},     {"divide", 0xF7},    {"middot", 0xB7},     {"bull", 0x2022},     {"hellip", 0x2026},
    {"ndash", 0x2013},   {"mdash", 0x2014},   {"lsquo", 0x2018},    {"rsquo", 0x2019},    {"ldquo", 0x201C},
    {"rdquo", 0x201D},   {"laquo", 0xAB},     {"raquo", 0xBB},      {"euro", 0x20AC},     {"sect", 0xA7},
    {"para", 0xB6},      {"zwj", 0x200D},     {"zwnj", 0x200C},     {"Agrave", 0xC0},     {"Aacute", 0xC1},
    {"Acirc", 0xC2},     {"Atilde", 0xC3},    {"Egrave", 0xC8},     {"Eacute", 0xC9},     {"Ecirc", 0xCA},
    {"Igrave", 0xCC},    {"Iacute", 0xCD},    {"Ograve", 0xD2},     {"Oacute", 0xD3},     {"Ocirc", 0xD4},
    {"Otilde", 0xD5},    {"Ugrave", 0xD9},    {"Uacute", 0xDA},     {"Yacute", 0xDD},     {"agrave", 0xE0},
    {"aacute", 0xE1},    {"acirc", 0xE2},     {"atilde", 0xE3},     {"egrave", 0xE8},     {"eacute", 0xE9},
    {"ecirc", 0xEA},     {"igrave", 0xEC},    {"iacute", 0xED},     {"ograve", 0xF2},     {"oacute", 0xF3},
    {"ocirc", 0xF4},     {"otilde", 0xF5},    {"ugrave", 0xF9},     {"uacute", 0xFA},     {"yacute", 0xFD},
    {"Auml", 0xC4},      {"auml", 0xE4},      {"Ouml", 0xD6},       {"ouml", 0xF6},       {"Uuml", 0xDC},
    {"uuml", 0xFC},      {"szlig", 0xDF},
}};

void append_utf8(std::string& out, char32_t c) {
  if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) c = 0xFFFD;
  char buf[4];
  int32_t n = 0;
  U8_APPEND_UNSAFE(buf, n, c);
  out.append(buf, static_cast<size_t>(n));
}

// Text with its character references decoded. A reference that names nothing stays as written.
std::string decode_references(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const size_t amp = s.find('&', i);
    if (amp == std::string_view::npos) {
      out.append(s.substr(i));
      break;
    }
    out.append(s.substr(i, amp - i));
    i = amp + 1;
    if (i < s.size() && s[i] == '#') {
      const bool hex = i + 1 < s.size() && (s[i + 1] == 'x' || s[i + 1] == 'X');
      size_t k = i + (hex ? 2 : 1);
      char32_t value = 0;
      size_t digits = 0;
      while (k < s.size()) {
        const char c = s[k];
        int d = -1;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
        if (d < 0) break;
        // Saturates past U+10FFFF (then U+FFFD), however many digits follow.
        value = std::min<char32_t>(value * (hex ? 16 : 10) + static_cast<char32_t>(d), 0x110000);
        ++k;
        ++digits;
      }
      if (digits == 0) {
        out += '&';
        continue;
      }
      append_utf8(out, value);
      i = k < s.size() && s[k] == ';' ? k + 1 : k;
      continue;
    }
    size_t k = i;
    while (k < s.size() && k - i < 10 && std::isalnum(static_cast<unsigned char>(s[k]))) ++k;
    const std::string_view name = s.substr(i, k - i);
    const auto* ref = std::find_if(kNamed.begin(), kNamed.end(), [&](const auto& r) { return r.name == name; });
    if (ref == kNamed.end() || name.empty()) {
      out += '&';
      continue;
    }
    append_utf8(out, ref->code);
    i = k < s.size() && s[k] == ';' ? k + 1 : k;
  }
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// Elements whose start or end breaks the line in a browser.
bool is_block(std::string_view name) {
  static constexpr std::array<std::string_view, 38> kBlocks{
      "p",      "div",     "br",     "li",       "ul",       "ol",      "dl",     "dt",         "dd",
      "h1",     "h2",      "h3",     "h4",       "h5",       "h6",      "tr",     "table",      "thead",
      "tbody",  "tfoot",   "caption", "section", "article",  "header",  "footer", "nav",        "aside",
      "main",   "blockquote", "pre", "hr",       "form",     "fieldset", "address", "figure",    "figcaption",
      "option", "title"};
  return std::find(kBlocks.begin(), kBlocks.end(), name) != kBlocks.end();
}

bool is_shown_attribute(std::string_view name) {
  static constexpr std::array<std::string_view, 7> kShown{"alt",     "title",      "value", "placeholder",
                                                          "content", "aria-label", "label"};
  return std::find(kShown.begin(), kShown.end(), name) != kShown.end();
}

class HtmlText {
 public:
  explicit HtmlText(TextCollector& out) : out_(out) {}

  void read(std::string_view html) {
    size_t i = 0;
    while (i < html.size() && !out_.full()) {
      const size_t lt = html.find('<', i);
      if (lt == std::string_view::npos) {
        characters(html.substr(i));
        break;
      }
      characters(html.substr(i, lt - i));
      i = markup(html, lt);
    }
    flush();
    out_.end_paragraph();
  }

 private:
  // Markup at html[lt] ('<'); returns where the text after it starts.
  size_t markup(std::string_view html, size_t lt) {
    const std::string_view rest = html.substr(lt);
    if (starts_with(rest, "<!--")) {
      const size_t end = html.find("-->", lt + 4);
      const size_t stop = end == std::string_view::npos ? html.size() : end;
      raw_lines(html.substr(lt + 4, stop - lt - 4));
      return end == std::string_view::npos ? html.size() : end + 3;
    }
    const char next = rest.size() > 1 ? rest[1] : '\0';
    const bool tag = std::isalpha(static_cast<unsigned char>(next)) || next == '/' || next == '!' || next == '?';
    if (!tag) {
      characters("<");
      return lt + 1;
    }
    // The tag's end: the first '>' outside a quoted attribute value.
    size_t k = lt + 1;
    char quote = 0;
    for (; k < html.size(); ++k) {
      const char c = html[k];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        break;
      }
    }
    if (k >= html.size()) {
      // Never closed: not markup after all, the rest is text as a browser would show it.
      characters(html.substr(lt));
      return html.size();
    }
    element(html.substr(lt + 1, k - lt - 1));
    size_t after = k + 1;
    if (raw_until_.empty()) return after;
    // script, style, textarea: their content up to the end tag is text, not markup.
    const std::string close = "</" + raw_until_;
    const size_t end = ifind(html, close, after);
    const size_t stop = end == std::string_view::npos ? html.size() : end;
    flush();
    out_.end_paragraph();
    raw_lines(html.substr(after, stop - after));
    raw_until_.clear();
    return stop;
  }

  void element(std::string_view tag) {
    if (tag.empty() || tag[0] == '!' || tag[0] == '?') return;  // doctype, processing instruction
    const bool closing = tag[0] == '/';
    if (closing) tag.remove_prefix(1);
    size_t n = 0;
    while (n < tag.size() && !is_space(tag[n]) && tag[n] != '/' && tag[n] != '>') ++n;
    std::string name(tag.substr(0, n));
    for (char& c : name) c = lower(c);
    if (!closing) attributes(tag.substr(n));

    if (name == "td" || name == "th") {
      // Cells are joined with '\t': the separator comes before every cell but a row's first.
      flush();
      if (!closing && cells_in_row_++ > 0) out_.end_cell();
      return;
    }
    if (name == "tr") cells_in_row_ = 0;
    if (name == "table") {
      flush();
      out_.end_paragraph();
      if (!closing) {
        if (table_depth_++ == 0) out_.anchor(SpanPlace{Place::table});
      } else if (table_depth_ > 0 && --table_depth_ == 0) {
        out_.anchor(SpanPlace{Place::body});
      }
      return;
    }
    if (name == "pre") pre_ += closing ? (pre_ > 0 ? -1 : 0) : 1;
    if (!closing && (name == "script" || name == "style" || name == "textarea")) raw_until_ = name;
    if (is_block(name)) {
      flush();
      out_.end_paragraph();
    } else if (!closing && name == "img") {
      pending_space_ = !line_.empty();
    }
  }

  void attributes(std::string_view a) {
    size_t i = 0;
    while (i < a.size()) {
      while (i < a.size() && (is_space(a[i]) || a[i] == '/')) ++i;
      size_t n = i;
      while (n < a.size() && !is_space(a[n]) && a[n] != '=' && a[n] != '/') ++n;
      std::string name(a.substr(i, n - i));
      for (char& c : name) c = lower(c);
      i = n;
      while (i < a.size() && is_space(a[i])) ++i;
      if (i >= a.size() || a[i] != '=') {
        if (n == i && i < a.size()) ++i;  // a stray character: step over it
        continue;
      }
      ++i;
      while (i < a.size() && is_space(a[i])) ++i;
      std::string_view value;
      if (i < a.size() && (a[i] == '"' || a[i] == '\'')) {
        const size_t end = a.find(a[i], i + 1);
        const size_t stop = end == std::string_view::npos ? a.size() : end;
        value = a.substr(i + 1, stop - i - 1);
        i = stop + 1;
      } else {
        size_t end = i;
        while (end < a.size() && !is_space(a[end])) ++end;
        value = a.substr(i, end - i);
        i = end;
      }
      if (is_shown_attribute(name) && !value.empty()) {
        flush();
        out_.text(decode_references(value));
        out_.end_paragraph();
      }
    }
  }

  // Text between tags: references decoded, whitespace collapsed outside <pre>.
  void characters(std::string_view s) {
    if (s.empty()) return;
    const std::string text = decode_references(s);
    for (char c : text) {
      if (pre_ > 0) {
        if (c == '\n') {
          flush();
          out_.end_paragraph();
        } else if (c != '\r') {
          line_ += c;
        }
        continue;
      }
      if (is_space(c)) {
        pending_space_ = !line_.empty();
        continue;
      }
      if (pending_space_) line_ += ' ';
      pending_space_ = false;
      line_ += c;
    }
  }

  // Script, style and comment text: line by line, as written.
  void raw_lines(std::string_view s) {
    flush();
    size_t i = 0;
    while (i < s.size()) {
      size_t end = s.find('\n', i);
      if (end == std::string_view::npos) end = s.size();
      std::string_view line = s.substr(i, end - i);
      while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
      while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
      if (!line.empty()) {
        out_.text(line);
        out_.end_paragraph();
      }
      i = end + 1;
    }
  }

  void flush() {
    if (!line_.empty()) out_.text(line_);
    line_.clear();
    pending_space_ = false;
  }

  TextCollector& out_;
  std::string line_;
  bool pending_space_ = false;
  int pre_ = 0;
  int table_depth_ = 0;
  int cells_in_row_ = 0;
  std::string raw_until_;
};

void read_lines(std::string_view text, TextCollector& out) {
  size_t i = 0;
  while (i < text.size() && !out.full()) {
    size_t end = text.find('\n', i);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(i, end - i);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.text(line);
    out.end_paragraph();
    i = end + 1;
  }
}

}  // namespace

std::string text_as_utf8(std::string_view bytes, std::string_view declared_charset, std::string* charset) {
  const auto done = [&](std::string name, std::string text) {
    if (charset) *charset = std::move(name);
    return text;
  };
  for (const auto& bom : kByteOrderMarks) {
    if (!starts_with(bytes, bom.bytes)) continue;
    const std::string_view body = bytes.substr(bom.bytes.size());
    if (std::string_view(bom.charset) == "UTF-8") return done("UTF-8", std::string(body));
    if (auto text = convert(body, bom.charset)) return done(bom.charset, std::move(*text));
  }
  if (!declared_charset.empty() && !iequals(declared_charset, "utf-8") && !iequals(declared_charset, "us-ascii")) {
    const std::string name(declared_charset);
    if (auto text = convert(bytes, name.c_str())) return done(name, std::move(*text));
  }
  if (valid_utf8(bytes)) return done("UTF-8", std::string(bytes));
  const std::string name = detected_charset(bytes);
  if (auto text = convert(bytes, name.c_str())) return done(name, std::move(*text));
  // ICU named a charset it cannot open (never expected): the collector replaces invalid bytes.
  return done("UTF-8", std::string(bytes));
}

void write_html_text(std::string_view utf8, TextCollector& out) { HtmlText(out).read(utf8); }

ReadOutcome read_text_file(FileType type, std::string_view bytes, TextCollector& out, ReadContext&) {
  const std::string declared = type == FileType::html ? html_meta_charset(bytes) : std::string();
  const std::string text = text_as_utf8(bytes, declared);
  out.begin_part(SpanPlace{Place::body}, std::string(to_string(type)));
  if (type == FileType::html) {
    HtmlText(out).read(text);
  } else {
    read_lines(text, out);
  }
  if (out.full()) return ReadOutcome::stop(Unscannable::too_big, "text over the max_text_bytes limit");
  return ReadOutcome::ok();
}

}  // namespace promptwall::extractors
