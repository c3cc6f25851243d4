#include "cli/ordered_output.h"

#include <unistd.h>

#include "cli/progress_line.h"

namespace promptwall::cli {

OrderedOutput::OrderedOutput(size_t inputs, size_t buffer_limit, ProgressLine* progress)
    : slots_(inputs), buffer_limit_(buffer_limit), progress_(progress), stdout_is_terminal_(::isatty(STDOUT_FILENO) == 1) {}

void OrderedOutput::emit(const Piece& piece) {
  FILE* to = piece.stream == Stream::out ? stdout : stderr;
  // Only what reaches the terminal shares it with the status line (stderr always: the line is
  // there); standard output sent to a file or pipe is written without erasing the line.
  const bool shares_terminal = progress_ && (piece.stream == Stream::err || stdout_is_terminal_);
  auto put = [&] {
    if (piece.separated && separated_any_) std::fwrite(piece.separator.data(), 1, piece.separator.size(), to);
    std::fwrite(piece.bytes.data(), 1, piece.bytes.size(), to);
    if (shares_terminal) std::fflush(to);  // before the status line is drawn again
  };
  if (shares_terminal) progress_->above(put);
  else put();
  if (piece.separated) separated_any_ = true;
}

void OrderedOutput::append(size_t input, Piece piece) {
  std::unique_lock lock(mutex_);
  Slot& slot = slots_.at(input);
  // Over the limit and not first in line: wait for the turn (the head never waits).
  turn_.wait(lock, [&] { return input == head_ || slot.bytes < buffer_limit_; });
  if (input == head_) {
    emit(piece);
    return;
  }
  slot.bytes += piece.separator.size() + piece.bytes.size();
  slot.pending.push_back(std::move(piece));
}

void OrderedOutput::write(size_t input, Stream stream, std::string_view bytes) {
  if (!bytes.empty()) append(input, Piece{stream, false, {}, std::string(bytes)});
}

void OrderedOutput::write_separated(size_t input, std::string_view separator, std::string_view bytes) {
  append(input, Piece{Stream::out, true, std::string(separator), std::string(bytes)});
}

void OrderedOutput::done(size_t input) {
  std::lock_guard lock(mutex_);
  slots_.at(input).done = true;
  // Every input now first in line writes what it buffered; those already done hand on the turn.
  while (head_ < slots_.size()) {
    Slot& slot = slots_[head_];
    for (const Piece& piece : slot.pending) emit(piece);
    slot.pending.clear();
    slot.pending.shrink_to_fit();
    slot.bytes = 0;
    if (!slot.done) break;
    ++head_;
  }
  turn_.notify_all();
}

bool OrderedOutput::any_separated() const {
  std::lock_guard lock(mutex_);
  return separated_any_;
}

void OrderedOutput::write_now(Stream stream, std::string_view bytes) {
  std::lock_guard lock(mutex_);
  emit(Piece{stream, false, {}, std::string(bytes)});
}

}  // namespace promptwall::cli
