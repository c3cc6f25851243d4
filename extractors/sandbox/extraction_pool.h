// ExtractionPool: where the gateway has a file read. Each document goes to its own worker process
// (`promptwall extract-worker`, extraction_worker.h), which confines itself, reads the file, answers
// once (document_wire.h) and exits; a worker a hostile file may have subverted never sees the next
// user's file, and nothing a reader does can crash or stall the gateway.
//
//   submit() ─► FIFO queue (bounded: full → extractor_failed "extraction queue full")
//            ─► one of `concurrency` pool threads takes a spare worker (started ahead with
//               posix_spawn: the binary's start, ~40 ms of loading on a small VM, is paid before
//               the document arrives; a spare found dead is reaped and skipped)
//            ─► request written over a socketpair (send with MSG_NOSIGNAL: a dead worker is an
//               error, never a SIGPIPE in the gateway) ─► answer read, bounded by
//               max_answer_frame_bytes(max_text_bytes), within time_per_file of the request
//               being written (wall clock) ─► the worker's process group killed, the worker reaped
//            ─► done(ExtractedDocument) ─► replacements started until `spares` wait again
//               (after the answer: exec and loading would compete with the document's worker)
//
// Outcomes beyond the worker's own answer: no full answer within time_per_file → SIGKILL,
// `timeout`; the worker killed by a signal → extractor_failed "worker killed by SIGSEGV" (SIGXCPU:
// "CPU time limit"); a non-zero exit status, an answer that does not decode (document_wire.h is
// strict: the answer is untrusted) or that is too big → extractor_failed. The name, size and sha256
// are set here from the request's bytes, never taken from the worker; `seconds` is this pool's
// wall clock from the request being written to the answer.
//
// Workers: started with only stdin/stdout (one socket) and stderr (/dev/null); every other file
// descriptor of the gateway is closed in the child (posix_spawn closefrom), signals at their
// defaults, a minimal environment (PATH, LANG, sanitizer options), each in its own process group.
// Every child is reaped (waitpid on its own pid: never -1), on every path and in the destructor.
//
// Threads: submit(), extract() and stats() may be called from any thread. `done` runs exactly once
// per submit(): on a pool thread, except that a full queue or a stopping pool answers at once, on
// the caller's thread, before submit() returns. `done` must not call back into the pool's
// destructor. The destructor stops the pool: queued documents are answered extractor_failed
// "extraction pool stopped", documents in flight have their workers killed and are answered the
// same, spares are killed; all reaped before it returns.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <thread>
#include <vector>

#include "extractors/extracted_document.h"
#include "extractors/extraction_limits.h"

namespace promptwall::extractors::sandbox {

class ExtractionPool {
 public:
  struct Options {
    std::string worker_executable;  // the promptwall binary (or, in tests, a misbehaving stand-in)
    std::vector<std::string> worker_arguments{"extract-worker"};
    unsigned concurrency = 2;  // documents extracting at once (0 is taken as 1)
    unsigned spares = 2;       // workers started ahead of need
    size_t max_queued = 256;   // documents waiting beyond `concurrency`
    ExtractionLimits limits;
  };
  struct Stats {
    uint64_t started = 0;    // documents handed to a worker
    uint64_t completed = 0;  // answered by the worker (a worker's unscannable answer counts here)
    uint64_t crashed = 0;    // the worker died, failed or answered what did not decode
    uint64_t timed_out = 0;  // killed at time_per_file
  };

  explicit ExtractionPool(Options options);
  ~ExtractionPool();
  ExtractionPool(const ExtractionPool&) = delete;
  ExtractionPool& operator=(const ExtractionPool&) = delete;

  void submit(std::string bytes, std::string name, std::function<void(ExtractedDocument)> done);
  // Blocks the calling thread until the document is read (a convenience for `scan` and tests).
  ExtractedDocument extract(std::string_view bytes, std::string_view name);

  Stats stats() const;

 private:
  struct Job {
    std::string bytes;
    std::string name;
    std::function<void(ExtractedDocument)> done;
  };
  struct Worker {
    pid_t pid = -1;
    int socket = -1;  // the pool's end; the worker's stdin and stdout are the other
    int pidfd = -1;   // readable once the worker exits (poll waits on it beside the socket)
  };
  enum class Ending { answered, crashed, timed_out, stopped };

  void run();  // a pool thread
  ExtractedDocument run_job(const Job& job, Ending& ending);
  Worker take_worker(std::string& error);  // a live spare, else a new worker
  void top_up_spares();                     // starts workers until `spares` wait
  Worker spawn(std::string& error) const;
  void end_worker(Worker& w) const;  // kills its process group, reaps it, closes the socket

  const Options options_;
  std::vector<std::string> environment_;
  int stop_event_ = -1;  // an eventfd, readable once the destructor runs: wakes waiting threads

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  std::deque<Worker> spares_;
  bool stopping_ = false;
  Stats stats_;

  std::vector<std::thread> threads_;
};

}  // namespace promptwall::extractors::sandbox
