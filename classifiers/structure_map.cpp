#include "classifiers/structure_map.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <tuple>

#include <emmintrin.h>  // SSE2: part of the x86-64 baseline

#include "classifiers/normalizer.h"

namespace promptwall {
namespace {

// No field is longer: an element or cell holding more is a document, not a value, and the bound
// lets field_at() stop looking back.
constexpr uint32_t kMaxField = 4096;
// A header cell is a short name; a longer one is a sentence that happens to hold a separator.
constexpr size_t kMaxHeaderCell = 64;
constexpr size_t kMaxKey = 48;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// The bytes read_json acts on when no key is waiting for its value.
constexpr std::array<bool, 256> kJsonSyntax = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : {'"', '{', '[', '}', ']'}) t[c] = true;
  return t;
}();
// The first byte at or after `i` that read_json acts on (kJsonSyntax), or text.size(). 16 bytes
// at a time: a chunk of a large file is mostly prose, which this skips.
uint32_t next_json_syntax(std::string_view text, uint32_t i) {
  const auto n = static_cast<uint32_t>(text.size());
  for (; i + 16 <= n; i += 16) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
    auto is = [&](char c) { return _mm_cmpeq_epi8(b, _mm_set1_epi8(c)); };
    const __m128i hit = _mm_or_si128(_mm_or_si128(is('"'), is('{')), _mm_or_si128(_mm_or_si128(is('['), is('}')), is(']')));
    if (const auto m = static_cast<unsigned>(_mm_movemask_epi8(hit))) return i + static_cast<uint32_t>(__builtin_ctz(m));
  }
  while (i < n && !kJsonSyntax[static_cast<unsigned char>(text[i])]) ++i;
  return i;
}
bool is_ascii_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_ascii_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
// A letter, or a byte of a multi-byte character (Vietnamese letters, in practice).
bool is_letter(char c) { return is_ascii_lower(c) || is_ascii_upper(c) || (static_cast<unsigned char>(c) & 0x80); }
bool is_name_char(char c) { return is_letter(c) || is_digit(c) || c == '_' || c == '-' || c == '.' || c == ':'; }

Span trimmed(std::string_view text, uint32_t b, uint32_t e) {
  while (b < e && is_space(text[b])) ++b;
  while (e > b && is_space(text[e - 1])) --e;
  return {b, e};
}

// Trims spaces, then one pair of matching quotes around the whole cell.
Span trimmed_unquoted(std::string_view text, uint32_t b, uint32_t e) {
  Span s = trimmed(text, b, e);
  if (s.end - s.begin >= 2 && (text[s.begin] == '"' || text[s.begin] == '\'') && text[s.end - 1] == text[s.begin])
    s = trimmed(text, s.begin + 1, s.end - 1);
  return s;
}

size_t count_spaces(std::string_view s) { return static_cast<size_t>(std::count(s.begin(), s.end(), ' ')); }

bool has_digit_run(std::string_view s, int n) {
  int run = 0;
  for (char c : s) {
    run = is_digit(c) ? run + 1 : 0;
    if (run >= n) return true;
  }
  return false;
}

// The column separators a table may use, in the order they are tried (' ' stands for a run of two
// spaces or more: space-aligned columns, tried last).
constexpr std::array<char, 5> kDelims = {'\t', '|', ';', ',', ' '};

// Set bits in 16 (no POPCNT instruction in the x86-64 baseline; __builtin_popcount is a call).
inline uint32_t popcount16(unsigned x) {
  x = x - ((x >> 1) & 0x5555u);
  x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
  x = (x + (x >> 4)) & 0x0F0Fu;
  return (x + (x >> 8)) & 0x1Fu;
}

// Where `part`, a view into `text`, lies in it; empty when `part` is.
Span span_in(std::string_view text, std::string_view part) {
  if (part.empty()) return {};
  const auto b = static_cast<uint32_t>(part.data() - text.data());
  return {b, b + static_cast<uint32_t>(part.size())};
}

}  // namespace

struct StructureReader::Line {
  uint32_t begin, end;  // end excludes the line break and a '\r' before it
  // How often each of kDelims occurs in the line; for ' ', how many runs of two spaces or more
  // lie inside its text trimmed of white space (a gap between space-aligned columns, counted
  // once per run). Capped at UINT16_MAX.
  std::array<uint16_t, 5> delims;
};

namespace {

using Line = StructureReader::Line;

// The lines of `text` with their separator counts, in one pass 16 bytes at a time (SSE2, the
// x86-64 baseline): a bit mask per separator, line break and gap start in each block, counted
// line by line between the line-break bits. Prose has a space every few bytes and a comma every
// sentence, so a line-by-line count (a call per line, a memchr per space) cost more than the
// tables it found.
std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  lines.reserve(text.size() / 48 + 1);
  const auto n = static_cast<uint32_t>(text.size());
  const char* const s = text.data();
  std::array<uint32_t, 5> acc{};
  uint32_t begin = 0;
  // Gap starts: a space after no space, before one. Counted over the whole line; those in its
  // leading or trailing white space are taken off here, where the line's ends are known.
  auto is_gap_start = [&](uint32_t i) {
    return s[i] == ' ' && i + 1 < n && s[i + 1] == ' ' && !(i > 0 && s[i - 1] == ' ');
  };
  auto end_line = [&](uint32_t nl) {
    const uint32_t e = nl > begin && s[nl - 1] == '\r' ? nl - 1 : nl;
    const Span body = trimmed(text, begin, e);
    for (uint32_t i = begin; i < body.begin; ++i) acc[4] -= is_gap_start(i);
    for (uint32_t i = body.end; i < nl; ++i) acc[4] -= is_gap_start(i);
    Line line{begin, e, {}};
    for (size_t d = 0; d < kDelims.size(); ++d) line.delims[d] = static_cast<uint16_t>(std::min<uint32_t>(acc[d], UINT16_MAX));
    lines.push_back(line);
    acc = {};
    begin = nl + 1;
  };
  unsigned carry = 0;  // whether the byte before the block is a space
  // `p` holds the block's 16 bytes and the one after (0 past the end: no separator, space or break).
  auto block = [&](const char* p, uint32_t base) {
    auto mask = [&](const __m128i& v, char c) {
      return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c))));
    };
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const unsigned space = mask(b, ' ');
    const unsigned next_space = mask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1)), ' ');
    unsigned m[5] = {mask(b, '\t'), mask(b, '|'), mask(b, ';'), mask(b, ','),
                     space & next_space & ~((space << 1) | carry) & 0xFFFFu};
    carry = space >> 15;
    for (unsigned breaks = mask(b, '\n'); breaks != 0; breaks &= breaks - 1) {
      const auto at = static_cast<unsigned>(__builtin_ctz(breaks));
      const unsigned before = (1u << at) - 1;
      for (size_t d = 0; d < 5; ++d) {
        acc[d] += popcount16(m[d] & before);
        m[d] &= ~((before << 1) | 1u);
      }
      end_line(base + at);
    }
    for (size_t d = 0; d < 5; ++d) acc[d] += popcount16(m[d]);
  };
  uint32_t k = 0;
  for (; k + 17 <= n; k += 16) block(s + k, k);
  if (k < n) {  // the last bytes, through a zeroed copy
    char tail[17] = {};
    std::memcpy(tail, s + k, n - k);
    block(tail, k);
  }
  end_line(n);
  return lines;
}

// The lines of text[from, to), where `from` starts a line and `to` ends one (a break or the end
// of the text), with their offsets in `text`: the same lines and counts split_lines(text) has
// there, since a count looks no further than the line's own bytes and its break.
std::vector<Line> split_lines(std::string_view text, uint32_t from, uint32_t to) {
  std::vector<Line> lines = split_lines(text.substr(from, to - from));
  for (Line& l : lines) {
    l.begin += from;
    l.end += from;
  }
  return lines;
}

// The cells of one line split at `delim`, each trimmed. CSV quoting ("a, b") is honoured for commas
// and semicolons; markdown's outer pipes are dropped. Fewer than two cells: not a row.
void cells_of(std::string_view text, Line line, char delim, std::vector<Span>& cells) {
  cells.clear();
  if (delim == ' ') {  // space-aligned columns: cells are apart by two spaces or more
    const Span t = trimmed(text, line.begin, line.end);
    uint32_t cell = t.begin, i = t.begin;
    while (i + 1 < t.end) {
      if (text[i] == ' ' && text[i + 1] == ' ') {
        cells.push_back(trimmed(text, cell, i));
        while (i < t.end && text[i] == ' ') ++i;
        cell = i;
      } else {
        ++i;
      }
    }
    cells.push_back(trimmed(text, cell, t.end));
    if (cells.size() < 2) cells.clear();
    return;
  }
  uint32_t b = line.begin, e = line.end;
  if (delim == '|') {
    Span t = trimmed(text, b, e);
    b = t.begin;
    e = t.end;
    if (b < e && text[b] == '|') ++b;
    if (e > b && text[e - 1] == '|') --e;
  }
  const bool quoting = delim == ',' || delim == ';';
  uint32_t cell = b;
  bool quoted = false;
  for (uint32_t i = b; i < e; ++i) {
    const char c = text[i];
    if (quoting && c == '"') {
      if (!quoted && trimmed(text, cell, i).end == trimmed(text, cell, i).begin) quoted = true;
      else if (quoted) quoted = false;
    } else if (c == delim && !quoted) {
      cells.push_back(trimmed_unquoted(text, cell, i));
      cell = i + 1;
    }
  }
  cells.push_back(trimmed_unquoted(text, cell, e));
  if (cells.size() < 2) cells.clear();
}

bool is_markdown_rule(std::string_view text, const std::vector<Span>& cells) {
  for (const Span& c : cells) {
    if (c.end == c.begin) return false;
    for (uint32_t i = c.begin; i < c.end; ++i)
      if (text[i] != '-' && text[i] != ':' && text[i] != ' ') return false;
  }
  return true;
}

// Whether a row reads as a header: names, not data. No cell holds a run of five digits (an
// identifier), none is long, at least one has letters; for commas and semicolons, which prose uses
// too, every cell is a short phrase.
bool is_header(std::string_view text, const std::vector<Span>& cells, char delim) {
  bool letters = false;
  for (const Span& c : cells) {
    const std::string_view s = text.substr(c.begin, c.end - c.begin);
    if (s.size() > kMaxHeaderCell || has_digit_run(s, 5)) return false;
    if ((delim == ',' || delim == ';') &&
        (s.empty() || count_spaces(s) > 4 || s.back() == '.' || s.back() == '?' || s.back() == '!'))
      return false;
    if (delim == ' ' && count_spaces(s) > 4) return false;
    letters = letters || std::any_of(s.begin(), s.end(), is_letter);
  }
  return letters;
}

// Whether a data row fits the table: cells of a comma table are short (prose has long ones).
bool is_data_row(std::string_view text, const std::vector<Span>& cells, char delim) {
  for (const Span& c : cells) {
    if (c.end - c.begin > kMaxField) return false;
    if ((delim == ',' || delim == ';' || delim == ' ') && count_spaces(text.substr(c.begin, c.end - c.begin)) > 8)
      return false;
  }
  return true;
}

// The order of StructureMap::fields(): by value, then by everything else a field holds.
bool field_before(const StructureField& a, const StructureField& b) {
  auto key = [](const StructureField& f) {
    return std::tuple(f.value.begin, f.value.end, f.form, f.key.begin, f.key.end, f.parent.begin, f.parent.end,
                      f.bounded, f.column);
  };
  return key(a) < key(b);
}

}  // namespace

StructureMap::StructureMap(std::vector<StructureField> fields) : fields_(std::move(fields)) {
  std::sort(fields_.begin(), fields_.end(), field_before);
}

const StructureField* StructureMap::preferred(const StructureField* a, const StructureField* b) {
  if (!a || !b) return a ? a : b;
  const uint32_t la = a->value.end - a->value.begin, lb = b->value.end - b->value.begin;
  if (la != lb) return la < lb ? a : b;
  return field_before(*a, *b) ? b : a;
}

const StructureField* StructureMap::field_at(Span span) const {
  auto it = std::upper_bound(fields_.begin(), fields_.end(), span.begin,
                             [](uint32_t pos, const StructureField& f) { return pos < f.value.begin; });
  const StructureField* best = nullptr;
  // Fields are at most kMaxField long, so none starting further back can hold the span.
  while (it != fields_.begin()) {
    --it;
    if (span.begin - it->value.begin > kMaxField) break;
    if (it->value.end < span.end) continue;
    if (!best || it->value.end - it->value.begin < best->value.end - best->value.begin) best = &*it;
  }
  return best;
}

std::string StructureReader::split_key(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 4);
  for (size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    if (c == '_' || c == '-' || c == '.') {
      out += ' ';
      continue;
    }
    if (is_ascii_upper(c) && i > 0) {
      const char prev = key[i - 1];
      const bool next_lower = i + 1 < key.size() && is_ascii_lower(key[i + 1]);
      // hoChieu, so2Ho; and the end of an acronym: BHXHCode -> BHXH Code
      if (is_ascii_lower(prev) || is_digit(prev) || (is_ascii_upper(prev) && next_lower)) out += ' ';
    }
    out += c;
  }
  return out;
}

std::string StructureReader::label(std::string_view text, const StructureField& field) const {
  std::string words;
  if (field.parent.end > field.parent.begin)
    words = split_key(text.substr(field.parent.begin, field.parent.end - field.parent.begin)) + ' ';
  words += split_key(text.substr(field.key.begin, field.key.end - field.key.begin));
  return normalizer_.fold_text(words);
}

StructureReader::Label StructureReader::label_parts(std::string_view text, const StructureField& field) const {
  Label out;
  out.key = normalizer_.fold_text(split_key(text.substr(field.key.begin, field.key.end - field.key.begin)));
  if (field.parent.end > field.parent.begin)
    out.parent = normalizer_.fold_text(split_key(text.substr(field.parent.begin, field.parent.end - field.parent.begin)));
  return out;
}

namespace {

void list_shape(std::string_view v, std::string& shape);  // below, with the lists

// The first byte of a line's text after its indentation, a YAML list item's "- " counted as
// indentation; `end` when the line holds nothing else.
uint32_t after_indent(std::string_view text, uint32_t begin, uint32_t end) {
  auto list_mark = [&](uint32_t q) { return text[q] == '-' && q + 1 < end && text[q + 1] == ' '; };
  uint32_t p = begin;
  while (p < end && (text[p] == ' ' || list_mark(p))) ++p;
  return p;
}

// Where the colon of a `Key: value` line whose key starts at `p` lies, or 0 when the line is none:
// a key begins with a letter or '_', holds at most four spaces and none of the marks of prose (a
// comma) or of other forms (quotes, brackets, pipes, tabs), and its colon comes before a space or
// the line's end (read_key_lines; read_around asks the same of a candidate's line).
uint32_t key_colon(std::string_view text, uint32_t p, uint32_t end) {
  if (!(is_letter(text[p]) || text[p] == '_')) return 0;
  const std::string_view head = text.substr(p, std::min<size_t>(end - p, kMaxKey + 1));
  const size_t at = head.find(':');  // most lines of prose have none near their start
  if (at == std::string_view::npos) return 0;
  const uint32_t colon = p + static_cast<uint32_t>(at);
  if (!(colon + 1 == end || text[colon + 1] == ' ')) return 0;
  const std::string_view key = head.substr(0, at);
  if (key.find_first_of(",\"{}[]<>|\t=;(") != std::string_view::npos || count_spaces(key) > 4 || key.empty() ||
      key.back() == ' ')
    return 0;
  return colon;
}

// One line of the text as the local reads walk it: [begin, brk), `brk` the break that ends it or
// the end of the text. Its text, as split_lines ends it, stops before a '\r' at the break.
struct TextLine {
  uint32_t begin, brk;
  uint32_t end(std::string_view text) const { return brk > begin && text[brk - 1] == '\r' ? brk - 1 : brk; }
};

TextLine line_at(std::string_view text, uint32_t pos) {
  const size_t before = pos == 0 ? std::string_view::npos : text.rfind('\n', pos - 1);
  const size_t brk = text.find('\n', pos);
  return {before == std::string_view::npos ? 0 : static_cast<uint32_t>(before + 1),
          brk == std::string_view::npos ? static_cast<uint32_t>(text.size()) : static_cast<uint32_t>(brk)};
}
TextLine line_before(std::string_view text, TextLine line) { return line_at(text, line.begin - 1); }  // begin > 0
TextLine line_after(std::string_view text, TextLine line) { return line_at(text, line.brk + 1); }     // brk < size

// Whether split_lines counts any separator in the line: a tab, pipe, semicolon or comma anywhere
// before its break, or a run of two spaces inside its text trimmed of white space.
bool has_separator(std::string_view text, TextLine line) {
  const std::string_view bytes = text.substr(line.begin, line.brk - line.begin);
  if (bytes.find_first_of("\t|;,") != std::string_view::npos) return true;
  const Span t = trimmed(text, line.begin, line.end(text));
  return text.substr(t.begin, t.end - t.begin).find("  ") != std::string_view::npos;
}

// Whether the two lines share a separator (one of kDelims; two spaces for ' '), anywhere in their
// bytes: a data row's line and the line above it always do.
bool share_separator(std::string_view text, TextLine a, TextLine b) {
  const std::string_view x = text.substr(a.begin, a.brk - a.begin), y = text.substr(b.begin, b.brk - b.begin);
  for (char d : kDelims) {
    const std::string_view mark = d == ' ' ? std::string_view("  ") : std::string_view(&d, 1);
    if (x.find(mark) != std::string_view::npos && y.find(mark) != std::string_view::npos) return true;
  }
  return false;
}

// The shape of a line's trimmed text as a one-column list value (list_shape, below).
void line_shape(std::string_view text, TextLine line, std::string& shape) {
  const Span t = trimmed(text, line.begin, line.end(text));
  list_shape(text.substr(t.begin, t.end - t.begin), shape);
}

// JSON and XML are parsed only where their marks are: a value follows `":` (or `" :`), an element
// closes with `</`, an attribute opens with `="`.
struct Markup {
  bool json = false, xml = false;
  explicit Markup(std::string_view text)
      : json(text.find("\":") != std::string_view::npos || text.find("\" :") != std::string_view::npos),
        xml(text.find("</") != std::string_view::npos || text.find("=\"") != std::string_view::npos) {}
};

}  // namespace

StructureMap StructureReader::read(std::string_view text) const {
  std::vector<StructureField> fields;
  if (text.size() >= UINT32_MAX) return StructureMap{};
  read_line_forms(text, fields);
  read_markup(text, fields);
  return StructureMap(std::move(fields));
}

StructureMap StructureReader::read_markup(std::string_view text) const {
  std::vector<StructureField> fields;
  if (text.size() >= UINT32_MAX) return StructureMap{};
  read_markup(text, fields);
  return StructureMap(std::move(fields));
}

StructureMap StructureReader::read_line_forms(std::string_view text) const {
  std::vector<StructureField> fields;
  if (text.size() >= UINT32_MAX) return StructureMap{};
  read_line_forms(text, fields);
  return StructureMap(std::move(fields));
}

void StructureReader::read_markup(std::string_view text, std::vector<StructureField>& out) const {
  const Markup markup(text);
  if (markup.json) read_json(text, out);
  if (markup.xml) read_xml(text, out);
}

void StructureReader::read_line_forms(std::string_view text, std::vector<StructureField>& out) const {
  const std::vector<Line> lines = split_lines(text);
  read_tables(text, lines, out);
  read_key_lines(text, lines, out);
  read_lists(text, lines, out);
}

StructureReader::LocalRead StructureReader::read_around(std::string_view text, Span span, LineForm form) const {
  LocalRead out;
  if (text.size() >= UINT32_MAX) return out;
  const TextLine line = line_at(text, span.begin);
  // Every line looked at is searched for its ends: `seen` spans them all, and the read too.
  out.seen = {line.begin, line.brk};
  auto before = [&](TextLine l) {
    const TextLine b = line_before(text, l);
    out.seen.begin = std::min(out.seen.begin, b.begin);
    return b;
  };
  auto after = [&](TextLine l) {
    const TextLine a = line_after(text, l);
    out.seen.end = std::max(out.seen.end, a.brk);
    return a;
  };
  if (span.end > line.brk) return out;  // a line form's value lies inside one line
  const auto size = static_cast<uint32_t>(text.size());
  std::vector<StructureField> fields;
  TextLine first = line, last = line;  // the lines read
  switch (form) {
    case LineForm::table:
      if (line.begin == 0 || !share_separator(text, before(line), line)) return out;
      for (TextLine b; first.begin > 0 && has_separator(text, b = before(first));) first = b;
      for (TextLine a; last.brk < size && has_separator(text, a = after(last));) last = a;
      read_tables(text, split_lines(text, first.begin, last.brk), fields);
      out.exact = {first.begin, last.brk};
      break;
    case LineForm::key_line: {
      const uint32_t end = line.end(text);
      const uint32_t p = after_indent(text, line.begin, end);
      if (p >= end) return out;
      if (const uint32_t colon = key_colon(text, p, end); colon == 0 || span.begin <= colon) return out;
      auto unindented = [&](TextLine l) {
        const uint32_t e = l.end(text);
        return l.begin < e && after_indent(text, l.begin, e) == l.begin;
      };
      while (!unindented(first) && first.begin > 0) first = before(first);
      read_key_lines(text, split_lines(text, first.begin, line.brk), fields);
      out.exact = {first.begin, line.brk};
      break;
    }
    case LineForm::list: {
      std::string shape, other;
      line_shape(text, line, shape);
      if (shape.empty()) return out;
      auto same = [&](TextLine l) {
        line_shape(text, l, other);
        return other == shape;
      };
      for (TextLine b; first.begin > 0 && same(b = before(first));) first = b;
      for (TextLine a; last.brk < size && same(a = after(last));) last = a;
      out.exact = {first.begin, last.brk};  // the run; the line above is read, not covered
      if (first.begin > 0) first = before(first);
      read_lists(text, split_lines(text, first.begin, last.brk), fields);
      break;
    }
  }
  out.fields = StructureMap(std::move(fields));
  return out;
}

std::optional<StructureField> StructureLookup::field_at(Span span) {
  // The answer is copied out as it is chosen: the maps it comes from may be dropped below.
  std::optional<StructureField> best;
  auto consider = [&](const StructureField* field) {
    if (field && StructureMap::preferred(best ? &*best : nullptr, field) == field) best = *field;
  };
  if (!markup_) markup_ = reader_.read_markup(text_);
  consider(markup_->field_at(span));
  if (line_forms_) {
    consider(line_forms_->field_at(span));
    return best;
  }
  using Form = StructureReader::LineForm;
  for (const Form form : {Form::table, Form::key_line, Form::list}) {
    auto& reads = covered_[static_cast<size_t>(form)];
    auto read = reads.upper_bound(span.begin);  // the last read whose lines begin at or before the span
    if (read != reads.begin() && span.begin < std::prev(read)->second.end) {
      --read;
    } else {
      StructureReader::LocalRead local = reader_.read_around(text_, span, form);
      local_bytes_ += local.seen.end - local.seen.begin;
      if (local.exact.end == local.exact.begin) continue;  // nothing read: no field of the form here
      read = reads.insert_or_assign(local.exact.begin, Covered{local.exact.end, std::move(local.fields)}).first;
    }
    consider(read->second.fields.field_at(span));
  }
  if (local_bytes_ > text_.size()) {
    line_forms_ = reader_.read_line_forms(text_);
    for (auto& reads : covered_) reads.clear();
  }
  return best;
}

namespace {

constexpr uint32_t kMaxListValue = 32;  // identifiers are short; a longer line is prose
constexpr size_t kMinListRows = 3;       // two values of one shape under a line happen in prose

// The shape of a one-column list value: runs of ASCII letters ('A') and digits ('9') and each
// other character, so C0264112 and N4929414 share "A9", 0937113580890 and 12345678901 share "9".
// Empty when the line is no such value: spaces inside, non-ASCII, too long, or no digit.
// Written into `shape`, whose memory a caller keeps from line to line.
void list_shape(std::string_view v, std::string& shape) {
  shape.clear();
  if (v.empty() || v.size() > kMaxListValue) return;
  bool digit = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || (static_cast<unsigned char>(c) & 0x80)) {
      shape.clear();
      return;
    }
    const char k = is_digit(c) ? '9' : (is_ascii_lower(c) || is_ascii_upper(c)) ? 'A' : c;
    digit = digit || k == '9';
    if (shape.empty() || shape.back() != k) shape += k;
  }
  if (!digit) shape.clear();
}

// A line that names a column: a few words with letters, no digits, not a sentence.
bool is_list_header(std::string_view h) {
  if (h.empty() || h.size() > kMaxHeaderCell || count_spaces(h) > 5) return false;
  if (h.back() == '.' || h.back() == '?' || h.back() == '!' || h.back() == ',') return false;
  return std::none_of(h.begin(), h.end(), is_digit) && std::any_of(h.begin(), h.end(), is_letter);
}

}  // namespace

void StructureReader::read_lists(std::string_view text, const std::vector<Line>& lines,
                                 std::vector<StructureField>& out) const {
  // One walk over the lines. Whether a line names a column is asked only of a line that a value
  // follows: most lines are prose, and a value's shape test leaves them at their first space.
  Span head{};                // the header of the list being read, once it has a value
  std::optional<Span> maybe;  // the last line not in a list, which may head the next one
  std::string shape, line_shape;
  std::vector<Span> values;
  auto flush = [&] {
    if (values.size() >= kMinListRows)
      for (const Span& v : values) out.push_back({v, head, {}, StructureField::Form::list, false, 0});
    values.clear();
  };
  for (const Line& l : lines) {
    const Span t = trimmed(text, l.begin, l.end);
    const std::string_view line = text.substr(t.begin, t.end - t.begin);
    list_shape(line, line_shape);
    if (!values.empty()) {
      if (line_shape == shape && !line_shape.empty()) {
        values.push_back(t);
        continue;
      }
      flush();
    } else if (!line_shape.empty() && maybe &&
               is_list_header(text.substr(maybe->begin, maybe->end - maybe->begin))) {
      head = *maybe;
      shape = line_shape;
      values.push_back(t);
      maybe.reset();
      continue;
    }
    maybe = t;
  }
  flush();
}

void StructureReader::read_tables(std::string_view text, const std::vector<Line>& lines,
                                  std::vector<StructureField>& out) const {
  // Cheap pre-check: a table needs two consecutive lines holding the same separator.
  if (lines.size() < 2) return;
  bool candidate = false;
  for (size_t l = 1; l < lines.size() && !candidate; ++l)
    for (size_t d = 0; d < kDelims.size(); ++d) candidate = candidate || (lines[l].delims[d] && lines[l - 1].delims[d]);
  if (!candidate) return;

  std::vector<bool> claimed(lines.size(), false);
  std::vector<Span> header, cells;  // a line's cells, their memory kept from line to line
  for (size_t d = 0; d < kDelims.size(); ++d) {
    const char delim = kDelims[d];
    const auto form = delim == '\t'  ? StructureField::Form::tsv
                      : delim == '|' ? StructureField::Form::markdown
                      : delim == ' ' ? StructureField::Form::aligned
                                     : StructureField::Form::csv;
    size_t l = 0;
    while (l + 1 < lines.size()) {
      if (claimed[l] || !lines[l].delims[d] || !lines[l + 1].delims[d]) {
        ++l;
        continue;
      }
      cells_of(text, lines[l], delim, header);
      if (header.empty() || !is_header(text, header, delim)) {
        ++l;
        continue;
      }
      const size_t first_field = out.size();
      size_t r = l + 1;
      size_t rows = 0;
      for (; r < lines.size() && !claimed[r] && lines[r].delims[d]; ++r) {
        cells_of(text, lines[r], delim, cells);
        if (cells.size() != header.size()) break;
        if (delim == '|' && is_markdown_rule(text, cells)) continue;
        if (!is_data_row(text, cells, delim)) break;
        for (uint32_t c = 0; c < cells.size(); ++c) {
          if (cells[c].end == cells[c].begin) continue;
          out.push_back({cells[c], header[c], {}, form, true, c});
        }
        ++rows;
      }
      // Prose has commas too: a comma or semicolon table needs two data rows, unless its header
      // is plainly column names (one word each: ma_nv,ho_ten,so_bhxh).
      const bool enough = rows >= 2 || (rows == 1 && form != StructureField::Form::aligned &&
                                        (form != StructureField::Form::csv ||
                                                      std::all_of(header.begin(), header.end(), [&](const Span& h) {
                                                        return count_spaces(text.substr(h.begin, h.end - h.begin)) == 0;
                                                      })));
      if (!enough) {
        out.resize(first_field);
        ++l;
        continue;
      }
      for (size_t k = l; k < r; ++k) claimed[k] = true;
      l = r;
    }
  }
}

void StructureReader::read_json(std::string_view text, std::vector<StructureField>& out) const {
  // A tolerant lexer, not a parser: JSON pasted into a prompt sits among prose, is often cut
  // short, and may be JavaScript-ish. Keys are remembered per open object or array, so a value
  // is labelled with its key and the key of what holds it.
  struct Open {
    std::string_view key;
    bool array;
  };
  std::vector<Open> stack;
  std::optional<std::string_view> pending;  // a key whose value comes next
  auto parent_key = [&]() -> std::string_view {
    if (stack.empty()) return {};
    // The object's own key, or, for an object in an array, the array's.
    return stack.back().key;
  };
  auto emit = [&](uint32_t b, uint32_t e, std::string_view key, std::string_view parent) {
    const Span v = trimmed(text, b, e);
    if (v.end > v.begin && v.end - v.begin <= kMaxField)
      out.push_back({v, span_in(text, key), span_in(text, parent), StructureField::Form::json, true, 0});
  };
  const auto n = static_cast<uint32_t>(text.size());
  uint32_t i = 0;
  while (i < n) {
    // With no key waiting and no keyed array open, only a quote or a bracket changes anything:
    // prose between them is skipped at table speed (a chunk of a large file is mostly prose).
    if (!pending && (stack.empty() || !stack.back().array || stack.back().key.empty())) {
      i = next_json_syntax(text, i);
      if (i >= n) break;
    }
    const char c = text[i];
    if (c == '"') {
      uint32_t e = i + 1;
      while (e < n && text[e] != '"' && text[e] != '\n') e += text[e] == '\\' ? 2 : 1;
      if (e >= n || text[e] != '"') {  // no closing quote on this line: prose
        pending.reset();
        ++i;
        continue;
      }
      uint32_t after = e + 1;
      while (after < n && is_space(text[after])) ++after;
      if (after < n && text[after] == ':') {
        pending = text.substr(i + 1, e - i - 1);
        i = after + 1;
        continue;
      }
      if (pending) emit(i + 1, e, *pending, parent_key());
      else if (!stack.empty() && stack.back().array && !stack.back().key.empty())
        emit(i + 1, e, stack.back().key, stack.size() > 1 ? stack[stack.size() - 2].key : std::string_view{});
      pending.reset();
      i = e + 1;
      continue;
    }
    if (c == '{' || c == '[') {
      std::string_view key = pending ? *pending : (!stack.empty() && stack.back().array ? stack.back().key : std::string_view{});
      stack.push_back({key, c == '['});
      pending.reset();
    } else if (c == '}' || c == ']') {
      if (!stack.empty()) stack.pop_back();
      pending.reset();
    } else if ((is_digit(c) || c == '-' || c == '+') &&
               (pending || (!stack.empty() && stack.back().array && !stack.back().key.empty()))) {
      uint32_t e = i + 1;
      while (e < n && (is_digit(text[e]) || text[e] == '.' || text[e] == 'e' || text[e] == 'E' || text[e] == '-' ||
                       text[e] == '+'))
        ++e;
      if (pending) emit(i, e, *pending, parent_key());
      else emit(i, e, stack.back().key, stack.size() > 1 ? stack[stack.size() - 2].key : std::string_view{});
      pending.reset();
      i = e;
      continue;
    } else if (!is_space(c) && c != '\n') {
      pending.reset();  // true, false, null, a comma, or prose: the key's value is not a string
    }
    ++i;
  }
}

void StructureReader::read_xml(std::string_view text, std::vector<StructureField>& out) const {
  // HTML's tags say how text looks, not what it is: they neither label nor bound a value (a
  // <td> is read, if at all, by the table it came from).
  static constexpr std::array<std::string_view, 44> kHtml = {
      "a",     "b",     "i",     "u",     "p",       "br",     "hr",      "em",    "td",     "th",   "tr",
      "li",    "ul",    "ol",    "h1",    "h2",      "h3",     "h4",      "h5",    "h6",     "div",  "pre",
      "sub",   "sup",   "img",   "nav",   "span",    "code",   "body",    "head",  "html",   "font", "form",
      "main",  "small", "table", "tbody", "thead",   "title",  "label",   "input", "strong", "section", "blockquote"};
  auto is_html = [](std::string_view name) {
    std::string lower(name);
    for (char& ch : lower) ch = is_ascii_upper(ch) ? static_cast<char>(ch - 'A' + 'a') : ch;
    return std::find(kHtml.begin(), kHtml.end(), lower) != kHtml.end();
  };
  std::vector<std::string_view> stack;
  auto parent = [&]() { return stack.empty() ? std::string_view{} : stack.back(); };
  const auto n = static_cast<uint32_t>(text.size());
  uint32_t i = 0;
  while ((i = static_cast<uint32_t>(std::min<size_t>(text.find('<', i), n))) < n) {
    uint32_t j = i + 1;
    if (j < n && text[j] == '/') {  // a closing tag: pop to its element, if open
      uint32_t s = j + 1, e = s;
      while (e < n && is_name_char(text[e])) ++e;
      const std::string_view name = text.substr(s, e - s);
      auto it = std::find(stack.rbegin(), stack.rend(), name);
      if (it != stack.rend()) stack.erase(std::prev(it.base()), stack.end());
      i = e;
      continue;
    }
    if (j >= n || !(is_letter(text[j]) || text[j] == '_')) {  // a comment, a declaration, or "a < b"
      i = j;
      continue;
    }
    uint32_t e = j;
    while (e < n && is_name_char(text[e])) ++e;
    const std::string_view name = text.substr(j, e - j);
    const bool html = is_html(name);
    // Attributes: name="value" or name='value', up to the tag's end.
    uint32_t k = e;
    bool closed = false, self_closing = false;
    while (k < n && text[k] != '<') {
      if (text[k] == '>') {
        closed = true;
        self_closing = k > e && text[k - 1] == '/';
        break;
      }
      if (is_letter(text[k]) || text[k] == '_') {
        uint32_t ae = k;
        while (ae < n && is_name_char(text[ae])) ++ae;
        uint32_t q = ae;
        while (q < n && is_space(text[q])) ++q;
        if (q < n && text[q] == '=') {
          ++q;
          while (q < n && is_space(text[q])) ++q;
          if (q < n && (text[q] == '"' || text[q] == '\'')) {
            const size_t close = text.find(text[q], q + 1);
            if (close == std::string_view::npos) break;
            const Span v = trimmed(text, q + 1, static_cast<uint32_t>(close));
            if (!html && v.end > v.begin && v.end - v.begin <= kMaxField)
              out.push_back({v, Span{k, ae}, span_in(text, name), StructureField::Form::xml, true, 0});
            k = static_cast<uint32_t>(close) + 1;
            continue;
          }
        }
        k = ae;
        continue;
      }
      ++k;
    }
    if (!closed) {
      i = k;
      continue;
    }
    const uint32_t content = k + 1;
    if (!self_closing) {
      // A leaf element's text, when its closing tag follows it directly.
      const size_t lt = text.find('<', content);
      if (!html && lt != std::string_view::npos && lt + 2 + name.size() <= n && text[lt + 1] == '/' &&
          text.substr(lt + 2, name.size()) == name) {
        const Span v = trimmed(text, content, static_cast<uint32_t>(lt));
        if (v.end > v.begin && v.end - v.begin <= kMaxField)
          out.push_back({v, span_in(text, name), span_in(text, parent()), StructureField::Form::xml, true, 0});
      }
      if (!html) stack.push_back(name);
    }
    i = content;
  }
}

void StructureReader::read_key_lines(std::string_view text, const std::vector<Line>& lines,
                                     std::vector<StructureField>& out) const {
  // YAML and `Key: value` lines. Keys with nothing after the colon open a block whose indented
  // lines are labelled with it (`hoChieu:` then `  so: C1234567`).
  struct Open {
    size_t indent;
    std::string_view key;
  };
  std::vector<Open> stack;
  for (const Line& line : lines) {
    const uint32_t p = after_indent(text, line.begin, line.end);
    if (p >= line.end) continue;  // a blank line keeps the blocks open
    // Any other line closes the blocks it is not indented under.
    const size_t indent = p - line.begin;
    while (!stack.empty() && stack.back().indent >= indent) stack.pop_back();
    const uint32_t colon = key_colon(text, p, line.end);
    if (colon == 0) continue;
    const std::string_view key = text.substr(p, colon - p);
    const Span v = trimmed_unquoted(text, colon + 1, line.end);
    if (v.end == v.begin) {
      stack.push_back({indent, key});
      continue;
    }
    // A value that opens JSON or XML is theirs to read.
    if (text[v.begin] == '{' || text[v.begin] == '[' || text[v.begin] == '<' || v.end - v.begin > kMaxField) continue;
    // A machine-made key (snake_case, camelCase) or a nested one is a record's field, bounded like a
    // JSON value; a key in words ("Ông A: ...") may be a line of prose and only adds to the window.
    const bool machine = key.find('_') != std::string_view::npos ||
                         std::adjacent_find(key.begin(), key.end(), [](char a, char b) {
                           return is_ascii_lower(a) && is_ascii_upper(b);
                         }) != key.end();
    out.push_back({v, span_in(text, key), span_in(text, stack.empty() ? std::string_view{} : stack.back().key),
                   StructureField::Form::yaml, machine || !stack.empty(), 0});
  }
}

}  // namespace promptwall
