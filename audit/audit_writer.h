// AuditWriter: appends events to the trail, durably, in order, with group commit.
//
// Threading: append() may be called from any thread. One writer thread owns the files: it takes
// every event queued since its last commit, chains them (seq, prev), writes them with one write()
// and makes them durable with one fdatasync(), then runs their completions. Requests waiting for
// their events thus share fsyncs; the busier the gateway, the more events per fsync.
//
// Invariants:
//   - a completion runs with `true` only after its record is on stable storage;
//   - records are never rewritten: files are opened O_APPEND, and the only truncation is of bytes
//     that were never reported durable (a torn tail after a crash, or a batch whose write or fsync
//     failed), each of which is itself recorded (a "repair" record);
//   - when the trail cannot be written (no space, permissions, I/O error, a missing directory) the
//     writer is unavailable: append() completes with `false` at once, health() says why, and the
//     writer thread retries every `retry_interval`; once writing works again it records an
//     "outage" record (when, why, how many events were refused) and is available again.
//
// Records the writer adds on its own (docs/audit-format.md): "checkpoint" (signed: seq, prev and
// time) every `checkpoint_interval`, at rotation and at close, after which the signed head file
// (trail.head) is replaced atomically; "repair"; "outage".
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "audit/signing_key.h"

namespace promptwall::audit {

struct AuditWriterOptions {
  std::filesystem::path dir;                     // created (0750) when missing
  uint64_t rotate_bytes = 64ull << 20;           // a new file once the current one is this big
  bool rotate_daily = true;                      // and at the first record of each UTC day
  std::chrono::milliseconds checkpoint_interval{60'000};
  std::chrono::milliseconds retry_interval{1'000};
  size_t max_queue = 100'000;                    // events waiting; beyond it append() fails at once
  std::shared_ptr<const SigningKey> signing_key; // required
};

class AuditWriter {
 public:
  // Completion of an append: true = durable. Runs on the writer thread, or on the caller's
  // thread when append() fails at once. Must not block or call back into the writer.
  using Completion = std::function<void(bool durable)>;

  // Opens the trail: lists its files, checks that the last record of the last file is whole and
  // chains (a torn tail is cut off and a "repair" record says so), writes trail.pub, and starts
  // the writer thread. Never throws for I/O: a trail that cannot be opened makes the writer start
  // unavailable (and retry). Throws std::invalid_argument for bad options.
  explicit AuditWriter(AuditWriterOptions options);
  ~AuditWriter();  // close()
  AuditWriter(const AuditWriter&) = delete;
  AuditWriter& operator=(const AuditWriter&) = delete;

  // Queues one event: `object_json` as to_json_object() makes it ("{" then "type" first).
  void append(std::string object_json, Completion done);
  // For tools and tests: append and wait. Returns whether the record is durable.
  bool append_and_wait(std::string object_json);

  struct Health {
    bool available = false;
    std::string error;             // why not, for /readyz and the log; empty when available
    uint64_t last_seq = 0;         // the last durable record
    uint64_t refused_since = 0;    // events refused during the current outage
  };
  Health health() const;
  uint64_t durable_seq() const;    // == health().last_seq, cheaper

  struct Stats {
    uint64_t records = 0, commits = 0;  // since start; records/commits = the group-commit factor
  };
  Stats stats() const;

  // Commits what is queued, writes a final checkpoint and the head, stops the thread. Idempotent.
  void close();

  const std::filesystem::path& dir() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace promptwall::audit
