#include "cli/progress_line.h"

#include <cstdio>

namespace promptwall::cli {

ProgressLine::ProgressLine(const Counters& counters, uint64_t total_files, FILE* terminal)
    : counters_(counters), total_files_(total_files), terminal_(terminal), thread_([this] { run(); }) {}

ProgressLine::~ProgressLine() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  std::lock_guard lock(mutex_);
  erase();
}

std::string ProgressLine::format(uint64_t bytes, uint64_t files, uint64_t total_files, uint64_t findings,
                                 double seconds) {
  const double mb = static_cast<double>(bytes) / 1e6;
  char line[160];
  std::snprintf(line, sizeof line, "scan: %.1f MB, %llu/%llu files, %.1f MB/s, %llu findings", mb,
                static_cast<unsigned long long>(files), static_cast<unsigned long long>(total_files),
                seconds > 0 ? mb / seconds : 0.0, static_cast<unsigned long long>(findings));
  return line;
}

void ProgressLine::run() {
  std::unique_lock lock(mutex_);
  draw();  // at once: a scan shorter than a tick still shows what it is doing
  while (!wake_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stopping_; })) draw();
}

void ProgressLine::draw() {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const std::string line = format(counters_.bytes.load(), counters_.files.load(), total_files_,
                                  counters_.findings.load(), seconds);
  // Carriage return, the line, then erase to the end of the line: a shorter line leaves no tail.
  std::fprintf(terminal_, "\r%s\033[K", line.c_str());
  std::fflush(terminal_);
  drawn_ = true;
}

void ProgressLine::erase() {
  if (!drawn_) return;
  std::fputs("\r\033[K", terminal_);
  std::fflush(terminal_);
  drawn_ = false;
}

void ProgressLine::above(const std::function<void()>& write) {
  std::lock_guard lock(mutex_);
  erase();
  write();
}

}  // namespace promptwall::cli
