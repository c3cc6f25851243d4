#include "extractors/rtf_reader.h"

#include <unicode/ucnv.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace promptwall::extractors {

namespace {

constexpr size_t kMaxWordLetters = 32;  // RTF 1.9.1: "a control word can be no longer than 32 letters"
constexpr size_t kMaxParamDigits = 10;

enum class Dest : uint8_t {
  body,
  header,
  footer,
  footnote,
  comment,
  field_code,
  text_box,
  property,  // a text field of \info
  info,      // \info itself: only its text fields are read
  font_table,
  skip,
};

struct Group {
  Dest dest = Dest::body;
  int uc = 1;              // fallback characters after \uN
  int codepage = 0;        // of the current font; 0: the document's
  int font = -1;           // in \fonttbl: the font being described
  bool in_table = false;   // \intbl, until \pard
  bool starred = false;    // \* seen: the next control word names an ignorable destination
  bool in_upr = false;     // inside \upr: only its \ud spelling is read
  bool in_shape = false;   // inside \shpinst: only its \shptxt is read
  bool opens_dest = false; // this group began a buffered destination (header, footnote...)
  int buffer = -1;         // when it did: the index of its buffer
};

// \fcharset values (Windows character sets) → code pages.
int charset_codepage(int charset) {
  switch (charset) {
    case 77: return 10000;
    case 128: return 932;
    case 129: return 949;
    case 134: return 936;
    case 136: return 950;
    case 161: return 1253;
    case 162: return 1254;
    case 163: return 1258;
    case 177: return 1255;
    case 178: return 1256;
    case 186: return 1257;
    case 204: return 1251;
    case 222: return 874;
    case 238: return 1250;
    default: return 0;  // ANSI, DEFAULT, SYMBOL...: the document's code page
  }
}

struct NamedCharacter {
  std::string_view word;
  std::string_view utf8;
};
constexpr std::array<NamedCharacter, 12> kNamedCharacters{{
    {"emdash", "\u2014"},
    {"endash", "\u2013"},
    {"emspace", "\u2003"},
    {"enspace", "\u2002"},
    {"qmspace", "\u2005"},
    {"bullet", "\u2022"},
    {"lquote", "\u2018"},
    {"rquote", "\u2019"},
    {"ldblquote", "\u201C"},
    {"rdblquote", "\u201D"},
    {"zwj", "\u200D"},
    {"zwnj", "\u200C"},
}};

// Destinations that hold no text (or text that is not the document's): their groups are skipped.
constexpr std::array<std::string_view, 40> kSkipped{
    "colortbl",  "stylesheet", "pict",       "themedata",   "datastore",   "colorschememapping",
    "latentstyles", "listtable", "listoverridetable", "rsidtbl", "generator", "xmlnstbl",
    "objdata",   "bkmkstart",  "bkmkend",    "listtext",    "pntext",      "pntxta",
    "pntxtb",    "revtbl",     "atnid",      "atnauthor",   "atndate",     "atnref",
    "sp",        "filetbl",    "pgdsctbl",   "mmathPr",     "wgrffmtfilter", "docvar",
    "xe",        "tc",         "nonshppict", "blipuid",     "falt",        "panose",
    "fname",     "ftnsep",     "ftnsepc",    "aftnsep"};

constexpr std::array<std::string_view, 9> kInfoFields{"title",   "subject", "author",   "keywords", "doccomm",
                                                      "operator", "company", "category", "manager"};

template <size_t N>
bool contains(const std::array<std::string_view, N>& a, std::string_view w) {
  return std::find(a.begin(), a.end(), w) != a.end();
}

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

class RtfReader {
 public:
  struct Buffer {
    Dest dest;
    std::string text;
  };

  RtfReader(std::string_view bytes, TextCollector& out) : in_(bytes), out_(out) {}

  ~RtfReader() {
    for (auto& [cp, conv] : converters_) ucnv_close(conv);
  }
  RtfReader(const RtfReader&) = delete;
  RtfReader& operator=(const RtfReader&) = delete;

  ReadOutcome read() {
    out_.begin_part(SpanPlace{Place::body}, "rtf body");
    stack_.push_back(Group{});
    stack_.back().dest = Dest::skip;  // outside the {\rtf group nothing is text
    while (pos_ < in_.size()) {
      if (out_.full()) break;
      const char c = in_[pos_];
      if (c == '{') {
        flush_bytes();
        ++pos_;
        if (stack_.size() > kRtfMaxDepth)
          return finish(ReadOutcome::stop(Unscannable::truncated,
                                          "RTF groups nested deeper than " + std::to_string(kRtfMaxDepth)));
        Group g = stack_.back();
        g.starred = false;
        g.opens_dest = false;
        if (stack_.size() == 1) g.dest = Dest::body;  // the {\rtf1 group
        stack_.push_back(g);
        continue;
      }
      if (c == '}') {
        flush_bytes();
        ++pos_;
        skip_left_ = 0;
        close_group();
        if (stack_.size() <= 1) {
          ended_ = true;
          break;
        }
        continue;
      }
      if (c == '\\') {
        control();
        continue;
      }
      ++pos_;
      if (c == '\r' || c == '\n') continue;  // line breaks in the file are not text
      if (skip_left_ > 0) {
        --skip_left_;
        continue;
      }
      bytes_ += c;
    }
    flush_bytes();
    if (!ended_ && !out_.full())
      return finish(ReadOutcome::stop(Unscannable::truncated, "RTF ends inside " + std::to_string(stack_.size() - 1) + " open group(s)"));
    return finish(ReadOutcome::ok());
  }

 private:
  Group& top() { return stack_.back(); }

  // --- control words and symbols ----------------------------------------------------------------

  void control() {
    ++pos_;  // the backslash
    if (pos_ >= in_.size()) return;
    const char c = in_[pos_];
    if (!is_letter(c)) {
      ++pos_;
      symbol(c);
      return;
    }
    flush_bytes();
    const size_t start = pos_;
    while (pos_ < in_.size() && is_letter(in_[pos_])) ++pos_;
    const std::string_view word = in_.substr(start, std::min(pos_ - start, kMaxWordLetters));
    bool has_param = false;
    long param = 0;
    bool negative = false;
    if (pos_ < in_.size() && in_[pos_] == '-' && pos_ + 1 < in_.size() && is_digit(in_[pos_ + 1])) {
      negative = true;
      ++pos_;
    }
    size_t digits = 0;
    while (pos_ < in_.size() && is_digit(in_[pos_])) {
      if (digits++ < kMaxParamDigits) param = std::min(param * 10 + (in_[pos_] - '0'), 0x7FFFFFFFL);
      has_param = true;
      ++pos_;
    }
    if (negative) param = -param;
    if (pos_ < in_.size() && in_[pos_] == ' ') ++pos_;  // the delimiting space is part of the word
    word_(word, has_param, param);
  }

  void symbol(char c) {
    switch (c) {
      case '\'': {
        // \'hh: one byte in the current code page (kept with its neighbours: a multi-byte
        // character spans several \'hh).
        if (pos_ + 2 > in_.size()) return;
        const int hi = hex(in_[pos_]), lo = hex(in_[pos_ + 1]);
        if (hi < 0 || lo < 0) return;
        pos_ += 2;
        if (skip_left_ > 0) {
          --skip_left_;
          return;
        }
        bytes_ += static_cast<char>(hi * 16 + lo);
        return;
      }
      case '\\':
      case '{':
      case '}':
        if (skip_left_ > 0) {
          --skip_left_;
          return;
        }
        bytes_ += c;
        return;
      case '*':
        top().starred = true;
        return;
      case '~':
        flush_bytes();
        emit("\u00A0");
        return;
      case '_':
        flush_bytes();
        emit("\u2011");
        return;
      case '\r':
      case '\n':
        flush_bytes();
        paragraph();
        return;
      case '\t':
        flush_bytes();
        emit("\t");
        return;
      default:
        return;  // \- optional hyphen, \: index subentry, \| formula: no text
    }
  }

  void word_(std::string_view w, bool has_param, long param) {
    Group& g = top();
    const bool starred = g.starred;
    g.starred = false;

    // \binN's N bytes are data wherever they are (a skipped \pict too): braces in them are not groups.
    if (w == "bin") {
      if (has_param) pos_ += std::min(static_cast<size_t>(std::max(param, 0L)), in_.size() - pos_);
      return;
    }
    // Destinations first: they decide where the group's text goes.
    if (w == "fonttbl") return set_dest(Dest::font_table);
    if (contains(kSkipped, w)) return set_dest(Dest::skip);
    if (w == "upr") {
      // {\upr{ANSI spelling}{\*\ud{Unicode spelling}}}: only the second is read.
      g.in_upr = true;
      upr_parent_ = g.dest;
      return set_dest(Dest::skip);
    }
    if (w == "ud") {
      if (g.in_upr) g.dest = upr_parent_;
      return;
    }
    if (w == "shpinst") {
      g.in_shape = true;
      return set_dest(Dest::skip);
    }
    if (w == "shptxt") {
      if (g.in_shape || g.dest != Dest::skip) return open(Dest::text_box);
      return;
    }
    if (g.dest == Dest::skip) return;
    if (w == "header" || w == "headerl" || w == "headerr" || w == "headerf") return open(Dest::header);
    if (w == "footer" || w == "footerl" || w == "footerr" || w == "footerf") return open(Dest::footer);
    if (w == "footnote") return open(Dest::footnote);
    if (w == "annotation") return open(Dest::comment);
    if (w == "fldinst") return open(Dest::field_code);
    if (w == "info") return set_dest(Dest::info);
    if (g.dest == Dest::info) {
      if (contains(kInfoFields, w)) return open(Dest::property);
      return set_dest(Dest::skip);  // \creatim, \version...: numbers, not text
    }
    if (starred) return set_dest(Dest::skip);  // an ignorable destination this reader does not know

    if (g.dest == Dest::font_table) {
      if (w == "f" && has_param) g.font = static_cast<int>(param);
      else if (w == "fcharset" && has_param && g.font >= 0) font_codepage_[g.font] = charset_codepage(static_cast<int>(param));
      else if (w == "cpg" && has_param && g.font >= 0) font_codepage_[g.font] = static_cast<int>(param);
      return;
    }

    if (w == "deff" && has_param) default_font_ = static_cast<int>(param);
    else if (w == "ansicpg" && has_param) document_codepage_ = static_cast<int>(param);
    else if (w == "ansi") document_codepage_ = 1252;
    else if (w == "mac") document_codepage_ = 10000;
    else if (w == "pc") document_codepage_ = 437;
    else if (w == "pca") document_codepage_ = 850;
    else if (w == "f" && has_param) {
      const auto it = font_codepage_.find(static_cast<int>(param));
      g.codepage = it == font_codepage_.end() ? 0 : it->second;
    } else if (w == "uc" && has_param) {
      g.uc = static_cast<int>(std::clamp(param, 0L, 16L));
    } else if (w == "u" && has_param) {
      unicode(static_cast<char16_t>(param < 0 ? param + 65536 : param));
      skip_left_ = static_cast<size_t>(g.uc);
    } else if (w == "par" || w == "line" || w == "sect" || w == "page" || w == "softline") {
      paragraph();
    } else if (w == "tab") {
      emit("\t");
    } else if (w == "cell" || w == "nestcell") {
      cell();
    } else if (w == "row" || w == "nestrow") {
      row();
    } else if (w == "pard") {
      g.in_table = false;
    } else if (w == "intbl") {
      g.in_table = true;
    } else {
      for (const auto& n : kNamedCharacters)
        if (n.word == w) emit(n.utf8);
    }
  }

  void set_dest(Dest d) { top().dest = d; }

  // A buffered destination begins: its text is collected apart and written after the body.
  void open(Dest d) {
    Group& g = top();
    g.dest = d;
    g.opens_dest = true;
    buffers_.push_back(Buffer{d, {}});
    g.buffer = static_cast<int>(buffers_.size() - 1);
  }

  void close_group() {
    const Group closing = stack_.back();
    stack_.pop_back();
    if (closing.opens_dest && !buffers_.empty()) {
      // Nested destinations (a footnote's field) finish before their parents: hand the text of the
      // buffer on to its place, once per identical text.
      Buffer& b = buffers_[static_cast<size_t>(closing.buffer)];
      finished_.push_back(std::move(b));
      b.text.clear();
    }
  }

  // --- text -----------------------------------------------------------------------------------

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  UConverter* converter(int codepage) {
    const auto it = converters_.find(codepage);
    if (it != converters_.end()) return it->second;
    UErrorCode status = U_ZERO_ERROR;
    const std::string name = codepage == 10000 ? "macintosh" : "cp" + std::to_string(codepage);
    UConverter* conv = ucnv_open(name.c_str(), &status);
    if (U_FAILURE(status)) {
      status = U_ZERO_ERROR;
      conv = ucnv_open("windows-1252", &status);  // a code page ICU does not know: Latin look-alikes
    }
    converters_[codepage] = conv;
    return conv;
  }

  void flush_bytes() {
    if (bytes_.empty()) return;
    int cp = top().codepage;
    if (cp == 0) {
      const auto deff = font_codepage_.find(default_font_);
      cp = deff != font_codepage_.end() && deff->second != 0 ? deff->second : document_codepage_;
    }
    UConverter* conv = converter(cp);
    std::string utf8;
    if (conv) {
      UErrorCode status = U_ZERO_ERROR;
      std::u16string units(bytes_.size() * 2 + 4, u'\0');
      const int32_t n = ucnv_toUChars(conv, units.data(), static_cast<int32_t>(units.size()), bytes_.data(),
                                      static_cast<int32_t>(bytes_.size()), &status);
      if (U_SUCCESS(status)) {
        units.resize(static_cast<size_t>(n));
        utf8 = to_utf8(units);
      }
    }
    bytes_.clear();
    emit(utf8);
  }

  static std::string to_utf8(std::u16string_view units) {
    std::string out;
    for (size_t i = 0; i < units.size();) {
      UChar32 c;
      U16_NEXT(units.data(), i, units.size(), c);
      if (U_IS_SURROGATE(c)) c = 0xFFFD;
      char buf[4];
      int32_t k = 0;
      U8_APPEND_UNSAFE(buf, k, c);
      out.append(buf, static_cast<size_t>(k));
    }
    return out;
  }

  void unicode(char16_t unit) {
    if (U16_IS_LEAD(unit)) {
      high_surrogate_ = unit;
      return;
    }
    if (U16_IS_TRAIL(unit) && high_surrogate_) {
      const char16_t pair[2] = {high_surrogate_, unit};
      high_surrogate_ = 0;
      emit(to_utf8(std::u16string_view(pair, 2)));
      return;
    }
    high_surrogate_ = 0;
    emit(to_utf8(std::u16string_view(&unit, 1)));
  }

  Buffer* buffer() {
    const Group& g = top();
    if (g.dest == Dest::body || g.dest == Dest::skip || g.dest == Dest::info || g.dest == Dest::font_table) return nullptr;
    // The innermost group that opened a destination names its buffer.
    for (auto it = stack_.rbegin(); it != stack_.rend(); ++it)
      if (it->opens_dest) return &buffers_[static_cast<size_t>(it->buffer)];
    return nullptr;
  }

  void emit(std::string_view utf8) {
    if (utf8.empty()) return;
    const Dest d = top().dest;
    if (d == Dest::body) {
      body_text(utf8);
    } else if (Buffer* b = buffer()) {
      b->text.append(utf8);
    }
  }

  void body_text(std::string_view utf8) {
    const Place want = top().in_table ? Place::table : Place::body;
    if (want != body_place_) {
      out_.end_paragraph();
      out_.anchor(SpanPlace{want});
      body_place_ = want;
    }
    if (pending_cell_) out_.end_cell();
    pending_cell_ = false;
    out_.text(utf8);
  }

  void paragraph() {
    const Dest d = top().dest;
    if (d == Dest::body) {
      pending_cell_ = false;
      out_.end_paragraph();
    } else if (Buffer* b = buffer()) {
      if (!b->text.empty() && b->text.back() != '\n') b->text += '\n';
    }
  }

  // Cells are joined with '\t': the separator is written when the next cell's text comes.
  void cell() {
    if (top().dest == Dest::body) pending_cell_ = true;
    else if (Buffer* b = buffer(); b && !b->text.empty()) b->text += '\t';
  }
  void row() {
    pending_cell_ = false;
    paragraph();
  }

  // --- output -----------------------------------------------------------------------------------

  static Place place_of(Dest d) {
    switch (d) {
      case Dest::header: return Place::header;
      case Dest::footer: return Place::footer;
      case Dest::footnote: return Place::footnote;
      case Dest::comment: return Place::comment;
      case Dest::field_code: return Place::field_code;
      case Dest::text_box: return Place::text_box;
      default: return Place::properties;
    }
  }

  ReadOutcome finish(ReadOutcome outcome) {
    out_.end_paragraph();
    // Destinations still open (a file cut inside one) count too.
    for (auto& b : buffers_)
      if (!b.text.empty()) finished_.push_back(std::move(b));
    static constexpr std::array<Dest, 7> kOrder{Dest::header,     Dest::footer,   Dest::footnote, Dest::comment,
                                                Dest::text_box,   Dest::field_code, Dest::property};
    for (const Dest d : kOrder) {
      std::set<std::string> seen;
      bool begun = false;
      for (const auto& b : finished_) {
        if (b.dest != d) continue;
        // Each destination's lines, trimmed; a destination repeated word for word is read once.
        std::string lines;
        size_t at = 0;
        while (at < b.text.size()) {
          size_t end = b.text.find('\n', at);
          if (end == std::string::npos) end = b.text.size();
          std::string_view line = std::string_view(b.text).substr(at, end - at);
          while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
          while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
          if (!line.empty()) {
            lines.append(line);
            lines += '\n';
          }
          at = end + 1;
        }
        if (lines.empty() || !seen.insert(lines).second) continue;
        if (!begun) {
          out_.begin_part(SpanPlace{place_of(d)}, "rtf " + std::string(to_string(place_of(d))));
          begun = true;
        }
        out_.text(lines.substr(0, lines.size() - 1));
        out_.end_paragraph();
      }
    }
    if (out_.full()) return ReadOutcome::stop(Unscannable::too_big, "text over the max_text_bytes limit");
    return outcome;
  }

  std::string_view in_;
  TextCollector& out_;
  size_t pos_ = 0;
  std::vector<Group> stack_;
  std::string bytes_;  // bytes waiting for their code page
  size_t skip_left_ = 0;
  char16_t high_surrogate_ = 0;
  int document_codepage_ = 1252;
  int default_font_ = -1;
  std::map<int, int> font_codepage_;
  std::map<int, UConverter*> converters_;
  std::vector<Buffer> buffers_;
  std::vector<Buffer> finished_;
  Dest upr_parent_ = Dest::skip;
  Place body_place_ = Place::body;
  bool pending_cell_ = false;
  bool ended_ = false;
};

}  // namespace

ReadOutcome read_rtf(std::string_view bytes, TextCollector& out, ReadContext&) { return RtfReader(bytes, out).read(); }

}  // namespace promptwall::extractors
