// StructureMap and StructureReader: which header or key each cell or value of a segment stands
// under, so that a rule's context words can be read there (issue 19).
//
// Staff paste tables (tab-separated, CSV, markdown pipes) and records (JSON, XML, YAML, `Key: value`
// lines). The word that says what a value is then sits in a header row lines above it, or in a key
// written without diacritics in camelCase (`hoChieuSo`), far outside any context window. The
// reader finds those shapes and maps each cell or value, as a byte range of the original text, to
// its header or key: split into words (camelCase, snake_case, kebab-case) and folded like the
// context words (`hoChieuSo` -> "ho chieu so", `Số hộ chiếu` -> "so ho chieu").
//
// Two kinds of field, because the forms differ in how much they say:
//  - bounded: a table cell, a JSON or XML value. Its header or key is its whole context besides its
//    own text: a value is never read with its neighbouring cells (a tax code beside an account
//    column is not an account). Tables need a header row that looks like one (letters, no long
//    digit runs, short cells) and at least two rows with the same count of separators.
//    A YAML value is bounded too when its key is machine-made (snake_case, camelCase) or nested.
//  - open: a `Key: value` line's value with a key in words. The form is too loose to trust as a
//    cell (any sentence with a colon), so its key only adds to the usual window.
//
// Space-aligned columns (cells apart by two spaces or more) are read like comma tables: a header
// of short names and at least two rows, since prose is sometimes spaced that way too.
//
// A one-column list (a sheet column pasted alone: no separator at all) is read when a header line
// of a few words, without digits, is followed by three lines or more that each hold one value of
// one shape (the same runs of letters and digits: C0264112, N4929414), a digit in each. Its
// values are open fields, not bounded: the header only adds to the usual window, since nothing
// beside a value could be mistaken for its label.
//
// Cost: one pass over the bytes, 16 at a time, splits the text into lines and counts each line's
// separators and column gaps; the line list is then walked for key lines and one-column lists
// (a list's header test only above a value); tables, JSON and XML are parsed only where their
// marks are (equal separator counts on consecutive lines, `":`, `</` or `="`). The scanner reads
// a segment's structure lazily, on the first candidate whose rule has context words and which
// may_hold_field says a field could hold: a number in a sentence of prose reads none.
//
// Pure and synchronous. A StructureMap is an immutable value; a StructureReader holds only a
// reference to a Normalizer (which must outlive it) and is safe to share between threads.
// Errors: none; text that is not well formed yields fewer fields, never an exception.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "classifiers/offset_map.h"

namespace promptwall {

class Normalizer;

struct StructureField {
  enum class Form : uint8_t { tsv, csv, markdown, aligned, json, xml, yaml, list };
  Span value;   // the cell or value, in bytes of the original text, trimmed of spaces and quotes
  Span key;     // its header cell or key, in the same text
  Span parent;  // the key that holds it, when nested (JSON, XML, YAML); else empty
  Form form = Form::tsv;
  bool bounded = true;  // see above: the field and its label are the whole context
  uint32_t column = 0;  // tables: the cell's column (0-based); else 0
};

class StructureMap {
 public:
  StructureMap() = default;
  explicit StructureMap(std::vector<StructureField> fields);

  // The smallest field whose value holds all of `span`, or null.
  const StructureField* field_at(Span span) const;

  const std::vector<StructureField>& fields() const { return fields_; }  // ordered by value.begin
  bool empty() const { return fields_.empty(); }

 private:
  std::vector<StructureField> fields_;
};

class StructureReader {
 public:
  explicit StructureReader(const Normalizer& normalizer) : normalizer_(normalizer) {}

  StructureMap read(std::string_view text) const;

  // The marks read() parses JSON and XML by (`":` or `" :`; `</` or `="`): looked for once per
  // text, by a caller that asks may_hold_field before it reads.
  struct Markup {
    bool json = false;
    bool xml = false;
    bool any() const { return json || xml; }
  };
  static Markup find_markup(std::string_view text);
  // read(text) for a text whose marks are known.
  StructureMap read(std::string_view text, const Markup& markup) const;

  // Whether some field of read(text) could hold `span` (begin < end <= text.size()). False only
  // when none can: the text has no JSON or XML marks (`find_markup(text).any()`), and the span lies inside one line that is no `Key: value` line
  // with the span after its colon, no one-column list value, and shares no table separator (tab,
  // pipe, semicolon, comma, two spaces) with the line before it. A cheap test, so a scan reads
  // the structure only where it can matter: most candidates sit in prose, where it cannot. True
  // is no promise that a field holds it.
  static bool may_hold_field(std::string_view text, Span span, bool has_markup);

  // What a field stands under, as context words are compared: its parent key and key (or header),
  // split, then folded ("nhan vien ho chieu so"). Made on demand, for the few fields a candidate
  // lies in: folding every header and key of a long record would cost more than reading it.
  std::string label(std::string_view text, const StructureField& field) const;

  // The same words kept apart, because the value's own key outranks what holds it: a scanner
  // reads the parent only when the own key holds none of a rule's context words (see
  // Scanner::context_confidence), so `<server><firmware>2.4.1.10</firmware>` is judged by
  // "firmware" and the parent's "server" cannot lift it back over the cut.
  struct Label {
    std::string key;     // the own key or header, split and folded
    std::string parent;  // the key that holds it, split and folded; empty when not nested
  };
  Label label_parts(std::string_view text, const StructureField& field) const;

  // A key or header as words: camelCase, snake_case, kebab-case and dotted keys split
  // (`hoChieuSo` -> "ho Chieu So", `so_the_bhyt` -> "so the bhyt", `BHXHCode` -> "BHXH Code").
  static std::string split_key(std::string_view key);

  // One line of a text, without its break; `read` splits the text once, for every form.
  struct Line;

 private:
  void read_tables(std::string_view text, const std::vector<Line>& lines, std::vector<StructureField>& out) const;
  void read_json(std::string_view text, std::vector<StructureField>& out) const;
  void read_xml(std::string_view text, std::vector<StructureField>& out) const;
  void read_key_lines(std::string_view text, const std::vector<Line>& lines, std::vector<StructureField>& out) const;
  void read_lists(std::string_view text, const std::vector<Line>& lines, std::vector<StructureField>& out) const;

  const Normalizer& normalizer_;
};

}  // namespace promptwall
