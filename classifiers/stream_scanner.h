// StreamScanner: scans a byte stream of any length with one Scanner, in memory proportional to the
// chunk size rather than to the stream (issue 14: `promptwall scan` on a 1 GB log).
//
// The stream is cut into chunks of about `chunk_bytes` (default 256 KiB: measured on the bench
// text, 256 KiB chunks scan at twice the CPU speed of 4 MiB ones, which build every view, offset
// map and structure of a segment far beyond the caches and make the legacy view's gate open on
// nearly every chunk; 70 MB resident in all against 217 MB; the ~7 KB of overlap the built-in rules
// need is ~3% rescanned; 128 KiB is no faster). Each chunk is scanned as
// one segment; the next chunk starts `left_margin` bytes before the point where the previous one
// stopped owning findings, so the bytes around every edge are read twice:
//
//   chunk i   [s_i ............................ b_i ....... e_i)
//   chunk i+1                          [s_i+1 .. b_i ................... )
//                                       left      right margin (e_i - b_i)
//
// Chunk i owns the findings that begin in [b_i-1, b_i): each finding is reported by exactly one
// chunk, so none is duplicated and none is lost (dedupe is by ownership of the first byte, which
// subsumes "same rule and span"). A finding cut by edge e_i is not owned by chunk i (it begins past
// b_i) and is found whole by chunk i+1, which holds it with its left margin. b_i is then moved past
// every owned finding that straddles it, so a piece never cuts a finding and redacting piece by
// piece (one Redactor across pieces) gives the bytes a whole-stream redaction gives.
//
// Where the cut b_i falls: in the last eighth of the chunk (before the right margin), at a blank
// line if there is one (tables, records and paragraphs end there, so a table's cells stay with its
// header row), else a line break (so `^` and `$` of line-anchored stamps see a real line), else a
// sentence end (". ", "! ", "? "), else a UTF-8 character boundary (a "line" of megabytes).
// Chunks start at a line start when one is within `left_margin` more bytes, else at a character
// boundary; they never start or end inside a UTF-8 sequence.
//
// The margins, from the RuleSet: W = the longest pattern's max_width (view bytes), C = the widest
// context window (code points) of any rule with context words. One view byte stands for at most 4
// original bytes (a code point folded to one letter) and a code point is at most 4 bytes, so
//   left_margin  = 4·(W + C) + 16   the context read before a finding, and the RE2 window that
//                                   starts max_width before the Hyperscan hit that confirms it;
//   right_margin = 4·(2W + C) + 16  the finding itself, the context after it, and one more W for
//                                   b_i moved past a straddling finding;
// each at least chunk_bytes/128, which gives margin to spare when chunks are large.
// Findings, their spans, confidence and view are then exactly those of one Scanner::scan over the
// whole stream, provided what decides a finding lies within those margins. What does not, and is
// therefore decided per chunk (a whole-stream scan of a 1 GB file is no meaningful reference for
// these; tests/unit/stream_scanner_test.cpp checks the equality on text that stays within them):
//  - the StructureMap: a table header or JSON/XML key more than the left margin above a value in
//    another chunk does not lend its words (cuts prefer blank lines to keep tables whole);
//  - the Normalizer's segment-wide choice of how to read legacy text (a segment without Unicode
//    Vietnamese is decoded whole, one with it line by line);
//  - a run of characters that fold to nothing (zero-width, combining marks) inside one finding
//    longer than the margins allow, and chains of overlapping Hyperscan windows or findings longer
//    than the margins;
//  - which rule names an item two rules of one category find over the same bytes with the same
//    action and confidence (`Số CCCD: 066087004913` is vn.pii.cccd or vn.pii.cccd.labelled): the
//    Scanner's merge keeps the first of an unstable sort, which varies with the rest of the segment,
//    in a whole-text scan as between chunks. The span, category, action and confidence are the
//    same either way.
//
// Pure and synchronous: no I/O (the caller reads the stream and pushes its bytes). Belongs to one
// thread, like its Scanner, which must outlive it. Errors: the Scanner's (std::runtime_error);
// std::invalid_argument when chunk_bytes is too small for the margins.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "classifiers/finding.h"
#include "classifiers/scanner.h"

namespace promptwall {

// A stretch of the stream whose findings are final. Pieces tile the stream in order.
struct StreamPiece {
  uint64_t offset = 0;    // of text[0] in the stream
  std::string_view text;  // the stream's bytes [offset, offset + size); valid during the callback only
  // Spans relative to `offset`, each inside `text`, in Scanner::scan's order (span, then rule id).
  std::vector<Finding> findings;
  // The stream's first byte that is not UTF-8 (relative to `offset`), when it lies in this piece.
  std::optional<uint32_t> invalid_utf8_at;
  // The chunk scanned to decide this piece, [scanned_begin, scanned_end) in the stream: it holds the
  // piece and its margins (tests check that planted items straddle these edges).
  uint64_t scanned_begin = 0, scanned_end = 0;
};

class StreamScanner {
 public:
  static constexpr size_t kDefaultChunkBytes = size_t{256} << 10;

  using PieceSink = std::function<void(const StreamPiece&)>;

  explicit StreamScanner(Scanner& scanner, size_t chunk_bytes = kDefaultChunkBytes);

  // Appends bytes to the stream; hands every piece that became final to `sink`.
  void push(std::string_view bytes, const PieceSink& sink);
  // The stream has ended: the rest is scanned and handed over. The scanner is then ready for a new
  // stream (offsets start again at 0).
  void finish(const PieceSink& sink);

  // The smallest chunk_bytes the constructor accepts for `rules`.
  static size_t minimum_chunk_bytes(const RuleSet& rules);

  size_t chunk_bytes() const { return chunk_bytes_; }
  size_t left_margin() const { return left_margin_; }
  size_t right_margin() const { return right_margin_; }

 private:
  // Scans buffer_[0, end) (`last`: end is the stream's end) and hands over the piece it owns.
  void scan_chunk(size_t end, bool last, const PieceSink& sink);
  size_t cut_point(size_t lo, size_t hi) const;
  size_t next_start(size_t owned_end) const;

  Scanner& scanner_;
  size_t chunk_bytes_;
  size_t left_margin_ = 0, right_margin_ = 0;
  std::string buffer_;     // the stream's bytes from base_ on
  uint64_t base_ = 0;      // stream offset of buffer_[0]
  size_t owned_from_ = 0;  // in buffer_: where the next piece begins
  bool invalid_utf8_seen_ = false;
};

}  // namespace promptwall
