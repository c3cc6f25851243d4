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
// marks are (equal separator counts on consecutive lines, `":`, `</` or `="`).
//
// A scan does not read all of that. A StructureLookup answers field_at for the candidates of one
// segment: JSON and XML are read once for the segment (a search when it has no marks), and the
// line forms (tables, key lines, lists: every value inside one line) only around a candidate's
// line, and only when that line could be a table row, a key line or a list value. A number in a
// sentence of prose reads nothing; one in a table reads the table. Each local read gives exactly
// the whole read's fields, because each form's state restarts at a line of a known kind (see
// read_around): a candidate is judged as the whole read would judge it, and a 256 KiB
// chunk of a streamed file pays for the tables its candidates lie in, not for every line.
//
// Pure and synchronous. A StructureMap is an immutable value; a StructureReader holds only a
// reference to a Normalizer (which must outlive it) and is safe to share between threads.
// Errors: none; text that is not well formed yields fewer fields, never an exception.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
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

  // Ordered by value (begin, then end), then by the rest of the field: a total order, so the map
  // of a part of a text orders its fields as the whole text's map does, and field_at() chooses
  // between equal values the same way in both.
  const std::vector<StructureField>& fields() const { return fields_; }
  bool empty() const { return fields_.empty(); }

  // Of two fields that both hold a span, the one field_at() returns from a map holding both (the
  // shorter value; of equal lengths, the later in the order above). Either may be null.
  static const StructureField* preferred(const StructureField* a, const StructureField* b);

 private:
  std::vector<StructureField> fields_;
};

class StructureReader {
 public:
  explicit StructureReader(const Normalizer& normalizer) : normalizer_(normalizer) {}

  StructureMap read(std::string_view text) const;

  // read() is two families of forms, which can be read apart:
  //  - markup: JSON and XML, whose values lie anywhere their parse reaches, across lines. Parsed
  //    only where their marks are, so a text without them costs a search.
  //  - line forms: tables, `Key: value` lines and one-column lists, whose every value lies inside
  //    one line (the line's text, without its break).
  StructureMap read_markup(std::string_view text) const;
  StructureMap read_line_forms(std::string_view text) const;

  // One line form's fields around the line holding span.begin, read from only the lines that
  // form's state there depends on:
  //  - table, when the line shares a separator with the line before (as a data row does with its
  //    header or the row above): the run of lines that hold any separator around it. A table
  //    holds no line without its separator, so each separator's read restarts at a line with none;
  //  - key_line, when the span lies after the colon of one: the lines from the last unindented
  //    one, which closes every block that could hold it;
  //  - list, when the line is one value of a one-value shape: the run of lines of that shape and
  //    the line above it (the header, or the line that says there is none).
  enum class LineForm : uint8_t { table, key_line, list };
  struct LocalRead {
    // The form's fields on the lines of `exact`: exactly those read_line_forms(text) has there.
    // Empty, with nothing read, when the span runs past its line or the line cannot hold a field
    // of the form (for most lines of prose, every form).
    StructureMap fields;
    Span exact;
    Span seen;  // the text looked at (the span's line at least), for a caller's budget
  };
  LocalRead read_around(std::string_view text, Span span, LineForm form) const;

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
  void read_markup(std::string_view text, std::vector<StructureField>& out) const;
  void read_line_forms(std::string_view text, std::vector<StructureField>& out) const;
  void read_tables(std::string_view text, const std::vector<Line>& lines, std::vector<StructureField>& out) const;
  void read_json(std::string_view text, std::vector<StructureField>& out) const;
  void read_xml(std::string_view text, std::vector<StructureField>& out) const;
  void read_key_lines(std::string_view text, const std::vector<Line>& lines, std::vector<StructureField>& out) const;
  void read_lists(std::string_view text, const std::vector<Line>& lines, std::vector<StructureField>& out) const;

  const Normalizer& normalizer_;
};

// StructureLookup: the field each candidate of one segment lies in, as
// StructureReader::read(text).field_at(span) gives it, at the cost of what the candidates need
// (see "Cost" above). JSON and XML are read on the first call; each line form around a span's
// line (read_around), once: a later span on a line that read covers takes its fields from it, so
// the four views' candidates, and the rules that share a number, read a table once. Once the
// local reads have looked at more bytes than the text holds (candidates all over one long YAML
// record), the whole text's line forms, read once, answer the rest, so a segment costs at most
// about twice a whole read.
// Holds a view of the text, which must outlive it. Belongs to one scan (one thread).
class StructureLookup {
 public:
  StructureLookup(const Normalizer& normalizer, std::string_view text) : reader_(normalizer), text_(text) {}

  // read(text).field_at(span), as a value; span.begin < span.end <= text.size().
  std::optional<StructureField> field_at(Span span);
  StructureReader::Label label(const StructureField& field) const { return reader_.label_parts(text_, field); }

 private:
  struct Covered {
    uint32_t end;  // the LocalRead's `exact` is [its key in the map, end)
    StructureMap fields;
  };

  StructureReader reader_;
  std::string_view text_;
  std::optional<StructureMap> markup_;  // read on the first call
  // The local reads so far, per LineForm, by where their lines begin. One form's reads cover
  // lines apart, or from one begin (key lines read from one unindented line), where the later
  // covers more and takes the place of the earlier.
  std::array<std::map<uint32_t, Covered>, 3> covered_;
  std::optional<StructureMap> line_forms_;  // the whole text's, once local reads cost as much
  size_t local_bytes_ = 0;                  // what the local reads have looked at so far
};

}  // namespace promptwall
