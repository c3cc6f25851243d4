// ProgressLine: the one status line `promptwall scan` keeps on a terminal's standard error while
// it works: bytes read, files done (of how many), MB/s since the start, findings so far, redrawn
// about four times a second by its own thread and erased when it stops.
//
// Shown only when asked (scan shows it when standard error is a terminal, or with --progress);
// whoever writes to the terminal meanwhile does it through above(), which erases the line first,
// so output and status never share a line. Counters are atomics the scanning threads bump.
// Threads: the counters and above() from any thread; construction and destruction on one.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace promptwall::cli {

class ProgressLine {
 public:
  struct Counters {
    std::atomic<uint64_t> bytes{0}, files{0}, findings{0};
  };

  // Starts drawing on `terminal` (standard error).
  ProgressLine(const Counters& counters, uint64_t total_files, FILE* terminal);
  ~ProgressLine();  // stops and erases the line
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // Runs `write` with the line erased (it is drawn again on the next tick).
  void above(const std::function<void()>& write);

  // The line's text for these figures (no terminal control codes): what the tests can pin down.
  static std::string format(uint64_t bytes, uint64_t files, uint64_t total_files, uint64_t findings, double seconds);

 private:
  void run();
  void draw();   // with mutex_ held
  void erase();  // with mutex_ held

  const Counters& counters_;
  uint64_t total_files_;
  FILE* terminal_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool drawn_ = false;
  std::thread thread_;
};

}  // namespace promptwall::cli
