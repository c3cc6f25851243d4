#include "classifiers/stream_scanner.h"

#include <algorithm>
#include <stdexcept>

namespace promptwall {
namespace {

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// See the header: what a finding and its context can span in original bytes, on each side, from
// the set's widest pattern W (view bytes) and widest context window C (code points).
struct Margins {
  size_t left;
  size_t right;
};
Margins margins_for(const RuleSet& rules) {
  size_t width = 0, window = 0;
  for (const auto& rule : rules.rules()) {
    for (const auto& pattern : rule.patterns) width = std::max<size_t>(width, pattern.max_width);
    if (rule.rule.context) window = std::max<size_t>(window, static_cast<size_t>(std::max(rule.rule.context->window, 0)));
  }
  return {4 * (width + window) + 16, 4 * (2 * width + window) + 16};
}

}  // namespace

size_t StreamScanner::minimum_chunk_bytes(const RuleSet& rules) {
  const Margins m = margins_for(rules);
  return 4 * (m.left + m.right);
}

StreamScanner::StreamScanner(Scanner& scanner, size_t chunk_bytes) : scanner_(scanner), chunk_bytes_(chunk_bytes) {
  const Margins m = margins_for(scanner.ruleset());
  left_margin_ = std::max(m.left, chunk_bytes / 128);
  right_margin_ = std::max(m.right, chunk_bytes / 128);
  // A chunk must hold a left margin (twice, when it backs up to a line start), the cut's search
  // range and a right margin, with room to make progress.
  if (chunk_bytes < 4 * (left_margin_ + right_margin_))
    throw std::invalid_argument("chunk of " + std::to_string(chunk_bytes) + " bytes is below the " +
                                std::to_string(4 * (left_margin_ + right_margin_)) + " this rule set's margins need");
  buffer_.reserve(chunk_bytes);
}

void StreamScanner::push(std::string_view bytes, const PieceSink& sink) {
  while (!bytes.empty()) {
    const size_t take = std::min(bytes.size(), chunk_bytes_ - std::min(chunk_bytes_, buffer_.size()));
    buffer_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (buffer_.size() >= chunk_bytes_) scan_chunk(0, false, sink);
  }
}

void StreamScanner::finish(const PieceSink& sink) {
  scan_chunk(buffer_.size(), true, sink);
  buffer_.clear();
  base_ = 0;
  owned_from_ = 0;
  invalid_utf8_seen_ = false;
}

size_t StreamScanner::cut_point(size_t lo, size_t hi) const {
  const std::string_view text(buffer_);
  // The last `mark` that ends in [lo, hi]: the cut goes right after it.
  auto after_last = [&](std::string_view mark) -> std::optional<size_t> {
    const size_t from = lo >= mark.size() ? lo - mark.size() : 0;
    const size_t at = text.substr(from, hi - from).rfind(mark);
    if (at == std::string_view::npos || from + at + mark.size() < lo) return std::nullopt;
    return from + at + mark.size();
  };
  const auto blank = after_last("\n\n"), blank_crlf = after_last("\n\r\n");
  if (blank || blank_crlf) return std::max(blank.value_or(0), blank_crlf.value_or(0));
  if (auto line = after_last("\n")) return *line;
  std::optional<size_t> sentence;
  for (std::string_view end : {". ", "! ", "? "})
    if (auto at = after_last(end)) sentence = std::max(sentence.value_or(0), *at);
  if (sentence) return *sentence;
  size_t cut = hi;
  while (cut > lo && is_continuation(text[cut])) --cut;
  return cut;
}

size_t StreamScanner::next_start(size_t owned_end) const {
  if (owned_end <= left_margin_) return 0;
  const size_t at = owned_end - left_margin_;
  const size_t floor = at > left_margin_ ? at - left_margin_ : 0;
  const size_t line = std::string_view(buffer_).substr(floor, at - floor).rfind('\n');
  if (line != std::string_view::npos) return floor + line + 1;
  size_t start = at;
  while (start > 0 && is_continuation(buffer_[start])) --start;
  return start;
}

void StreamScanner::scan_chunk(size_t end, bool last, const PieceSink& sink) {
  size_t cut = buffer_.size();
  if (!last) {
    const size_t hi = chunk_bytes_ - right_margin_;
    const size_t lo = std::max(owned_from_ + 1, hi - std::min(hi, chunk_bytes_ / 8));
    cut = cut_point(lo, hi);
    end = cut + right_margin_;
    while (end > cut && end < buffer_.size() && is_continuation(buffer_[end])) --end;
  }

  StreamPiece piece;
  size_t owned_end = last ? end : cut;
  if (owned_from_ < end) {
    ScanResult result = scanner_.scan(std::string_view(buffer_.data(), end));
    // Ownership by first byte; the piece then grows over every finding that straddles its end.
    for (auto& f : result.findings) {
      if (f.span.begin < owned_from_) continue;
      if (f.span.begin >= owned_end) break;  // ordered by begin
      owned_end = std::max<size_t>(owned_end, f.span.end);
      f.span.begin -= static_cast<uint32_t>(owned_from_);
      f.span.end -= static_cast<uint32_t>(owned_from_);
      piece.findings.push_back(std::move(f));
    }
    // The chunk reports its first bad byte; one in the left margin was the previous piece's, one
    // past this piece is the next chunk's first too.
    if (result.invalid_utf8_at && !invalid_utf8_seen_ && *result.invalid_utf8_at >= owned_from_ &&
        *result.invalid_utf8_at < owned_end) {
      piece.invalid_utf8_at = static_cast<uint32_t>(*result.invalid_utf8_at - owned_from_);
      invalid_utf8_seen_ = true;
    }
  }
  piece.offset = base_ + owned_from_;
  piece.scanned_begin = base_;
  piece.scanned_end = base_ + end;
  piece.text = std::string_view(buffer_).substr(owned_from_, owned_end - owned_from_);
  sink(piece);
  if (last) return;

  const size_t start = next_start(owned_end);
  buffer_.erase(0, start);
  base_ += start;
  owned_from_ = owned_end - start;
}

}  // namespace promptwall
