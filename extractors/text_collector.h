// TextCollector: what a format reader writes text into. It builds the TextParts of one top file,
// keeps every part valid UTF-8, and counts the text against max_text_bytes across all parts (inner
// files included), so no reader needs its own accounting.
//
// Use: begin_part(place, source) ─► text(...) / end_paragraph() / end_cell() / anchor(...) ... ─►
// the next begin_part() or take(). An empty part (no text) is dropped. Readers never emit the same
// text twice (Word's mc:Fallback, a cell's cached value beside a shared string): the collector does
// not de-duplicate.
//
// Invariants: after full() is true every further text() is ignored and take() reports too_big;
// `inner` set by enter_inner() is added to every place begun until leave_inner(); every text and
// every inner path is valid UTF-8 (invalid bytes become U+FFFD), as the wire format requires.
// Not thread-safe; one per extraction.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "extractors/extracted_document.h"

namespace promptwall::extractors {

class TextCollector {
 public:
  explicit TextCollector(uint64_t max_text_bytes);

  // Starts a new part at `place` (its `inner` is replaced by the current inner path).
  void begin_part(SpanPlace place, std::string source);
  // Text inside the current paragraph; invalid UTF-8 becomes U+FFFD. Starts a body part when none
  // was begun.
  void text(std::string_view utf8);
  // Ends the paragraph (or a table row): '\n', unless the part is empty or already ends with one.
  void end_paragraph();
  // Ends a table cell: '\t' (end_paragraph() ends the row).
  void end_cell();
  // The place of the text from here on (a page, a cell, the first table cell); `inner` as above.
  void anchor(SpanPlace place);

  // Files nested in this one (an archive entry, an attachment): places begun until leave_inner()
  // carry "<outer inner>/<name>". Returns the depth after entering (1 for a file in the top file).
  size_t enter_inner(std::string_view name);
  void leave_inner();
  size_t depth() const { return inner_.size(); }

  bool full() const { return full_; }
  uint64_t bytes() const { return bytes_; }
  std::vector<TextPart> take();

 private:
  TextPart& current();
  std::string inner_path() const;

  uint64_t max_bytes_;
  uint64_t bytes_ = 0;
  bool full_ = false;
  std::vector<std::string> inner_;
  std::vector<TextPart> parts_;
};

}  // namespace promptwall::extractors
