// SiemShipper: sends the audit trail's events to the organisation's SIEM as RFC 5424 syslog over
// TCP (or TLS), octet-counted, CEF in each message (audit/siem_format.h).
//
// The trail IS the queue: the shipper reads records with a TrailReader and remembers, in
// `siem.cursor` in the trail directory, the seq of the last record the SIEM has acknowledged. So a
// SIEM outage, a gateway restart or a crash loses nothing: shipping resumes after the cursor.
//
// Invariants:
//   - only durable records are sent (seq <= the writer's durable_seq()): a batch the writer fails to
//     make durable is cut from the trail, and the SIEM must never hold an event the trail lacks;
//   - records go out in seq order, each once per connection; the cursor advances only after the
//     SIEM's TCP stack has acknowledged every byte of a batch (SIOCOUTQ == 0), and it is written
//     atomically (temporary file, fsync, rename). A connection that fails mid-batch is closed and
//     the batch is sent again from the cursor on the next one; a SIEM stopped between batches is
//     noticed (its FIN) before the next batch is written, so nothing is sent twice then;
//   - a TCP acknowledgement means the SIEM's kernel has the bytes, not that the SIEM processed
//     them: a SIEM killed with unread bytes in its socket loses them (syslog over TCP has no
//     application-level acknowledgement; RELP would);
//   - the shipper is never on the request path: it runs on its own thread, blocking I/O, and a
//     stalled SIEM only makes it fall behind (the metrics say by how much).
//
// Threading: start() and stop() from one thread (the server's); stop() is prompt: it wakes the
// thread's waits and shuts the socket down under it, so a blocked connect or write returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>

#include "gateway/config/config.h"
#include "gateway/record/gateway_metrics.h"

namespace promptwall::gateway::server {

struct SiemShipperOptions {
  std::filesystem::path trail_dir;
  SiemConfig siem;                       // address must be set
  std::function<uint64_t()> durable_seq; // the writer's last durable seq (AuditWriter::durable_seq)
  GatewayMetrics* metrics = nullptr;     // optional
  std::chrono::milliseconds poll_interval{100};     // how often to look for new durable records
  std::chrono::milliseconds ack_timeout{30'000};    // for the SIEM to acknowledge a batch
  size_t max_batch_records = 1000;
  size_t max_batch_bytes = 1 << 20;
};

class SiemShipper {
 public:
  // Validates the options (throws std::invalid_argument: no address, a bad hostname; and
  // std::runtime_error: a TLS CA file that cannot be loaded). Does not connect.
  explicit SiemShipper(SiemShipperOptions options);
  ~SiemShipper();  // stop()
  SiemShipper(const SiemShipper&) = delete;
  SiemShipper& operator=(const SiemShipper&) = delete;

  void start();
  // Stops the thread; what was not acknowledged stays after the cursor for the next start.
  // Idempotent.
  void stop();

  uint64_t delivered_seq() const;  // the cursor: last seq the SIEM acknowledged

  // The cursor file, in the trail directory.
  static constexpr const char* kCursorFileName = "siem.cursor";

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace promptwall::gateway::server
