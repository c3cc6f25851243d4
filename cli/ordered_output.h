// OrderedOutput: what several threads scanning inputs write to standard output and error comes
// out in the inputs' order, whatever order they finish in (`promptwall scan -j N`: the output of
// `-j 4` is the output of `-j 1`, byte for byte).
//
// Each input has a slot. The earliest input not yet done writes straight through; a later one
// buffers (its writes to both streams kept in order) and is flushed when every earlier input is
// done. A slot whose buffer passes `buffer_limit` blocks its writer until it is first in line, so
// memory stays bounded (inputs × limit at worst, in practice jobs × limit) however much an input
// writes; the input first in line never blocks, so the run always moves on.
//
// A ProgressLine (progress_line.h) drawn on the terminal is erased before each write that goes to
// the terminal and redrawn by its own thread.
//
// Threads: every member may be called from any thread. Errors: none; a failed write to a closed
// pipe is the process's SIGPIPE, as for any command-line tool.
#pragma once

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace promptwall::cli {

class ProgressLine;

class OrderedOutput {
 public:
  enum class Stream : unsigned char { out, err };

  OrderedOutput(size_t inputs, size_t buffer_limit, ProgressLine* progress = nullptr);

  void write(size_t input, Stream stream, std::string_view bytes);
  // `separator` on standard output before this write when an earlier input (or this one) already
  // wrote one: the "," between the entries of a JSON list some inputs add nothing to.
  void write_separated(size_t input, std::string_view separator, std::string_view bytes);
  // Input `input` has written all it will.
  void done(size_t input);
  // Whether any write_separated() came out (after every input is done: whether the list is empty).
  bool any_separated() const;
  // Straight to the stream, outside any input (before the first or after the last).
  void write_now(Stream stream, std::string_view bytes);

 private:
  struct Piece {
    Stream stream;
    bool separated;  // write_separated(): `separator` precedes `bytes` unless it is the first
    std::string separator, bytes;
  };
  struct Slot {
    std::vector<Piece> pending;
    size_t bytes = 0;
    bool done = false;
  };
  void emit(const Piece& piece);  // with mutex_ held
  void append(size_t input, Piece piece);

  mutable std::mutex mutex_;
  std::condition_variable turn_;
  std::vector<Slot> slots_;
  size_t head_ = 0;  // the earliest input not done
  size_t buffer_limit_;
  ProgressLine* progress_;
  bool stdout_is_terminal_;
  bool separated_any_ = false;
};

}  // namespace promptwall::cli
