// Pieces the OOXML and ODF readers share for laying text out (not a public API of extractors/):
// writing under a place with as few anchors as possible, tables as TSV, spreadsheet column names.
// Each object belongs to one read of one part; not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "extractors/text_collector.h"

namespace promptwall::extractors::office {

// Emits text under a place, anchoring only when the place changes.
class PlacedWriter {
 public:
  explicit PlacedWriter(TextCollector& c) : c_(c) {}
  void write(std::string_view text, const SpanPlace& place) {
    if (text.empty()) return;
    if (!last_ || !(*last_ == place)) {
      c_.anchor(place);
      last_ = place;
    }
    c_.text(text);
  }
  void reset() { last_.reset(); }
  TextCollector& collector() { return c_; }
  bool full() const { return c_.full(); }

 private:
  TextCollector& c_;
  std::optional<SpanPlace> last_;
};

// Table layout shared by Word, DrawingML and ODF text tables: cells of the outermost table are '\t'-separated
// and rows end the line; a cell's paragraphs and nested tables' cells are joined by ' '.
class TableLayout {
 public:
  explicit TableLayout(TextCollector& c) : c_(c) {}
  size_t depth() const { return depth_; }
  bool in_cell() const { return depth_ > 0; }
  bool first_cell() const { return depth_ >= 1 && first_table_ && row_ == 1 && cell_ == 1; }

  void table_start() {
    if (depth_ == 0) {
      c_.end_paragraph();
      first_table_ = !seen_table_;
      seen_table_ = true;
      row_ = 0;
    } else {
      space_pending_ = cell_has_text_;
    }
    ++depth_;
  }
  void table_end() {
    if (depth_ == 0) return;
    --depth_;
    if (depth_ == 0) {
      c_.end_paragraph();
      first_table_ = false;
    }
  }
  void row_start() {
    if (depth_ == 1) {
      ++row_;
      cell_ = 0;
    }
  }
  void row_end() {
    if (depth_ == 1) {
      c_.end_paragraph();
    } else if (depth_ > 1) {
      space_pending_ = cell_has_text_;
    }
  }
  void cell_start() {
    if (depth_ == 1) {
      if (cell_ > 0) c_.end_cell();
      ++cell_;
      cell_has_text_ = false;
      space_pending_ = false;
    } else if (depth_ > 1) {
      space_pending_ = cell_has_text_;
    }
  }
  // A paragraph inside a cell ended: the next text of the cell is set apart by a space.
  void paragraph_end() { space_pending_ = cell_has_text_; }
  // Before text inside a cell: the separator owed, if any.
  void before_text(PlacedWriter& w, const SpanPlace& place) {
    if (space_pending_) {
      w.write(" ", place);
      space_pending_ = false;
    }
    cell_has_text_ = true;
  }

 private:
  TextCollector& c_;
  size_t depth_ = 0;
  size_t row_ = 0;
  size_t cell_ = 0;
  bool seen_table_ = false;
  bool first_table_ = false;
  bool cell_has_text_ = false;
  bool space_pending_ = false;
};

inline std::string column_name(uint32_t column) {  // 1 → "A", 27 → "AA"
  std::string s;
  while (column > 0) {
    const uint32_t rem = (column - 1) % 26;
    s.insert(s.begin(), static_cast<char>('A' + rem));
    column = (column - 1) / 26;
  }
  return s;
}

}  // namespace promptwall::extractors::office
