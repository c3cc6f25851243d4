// CentralShipper: ships every record of the gateway's audit trail to the fleet's central store in
// PostgreSQL (central/README.md), exactly once, from its own thread.
//
// The trail IS the queue, as for the SIEM (siem_shipper.h): records are read with a TrailReader and
// `central.cursor`, in the trail directory, holds the last seq the store has COMMITTED. The store's
// key is (gateway_id, seq) with ON CONFLICT DO NOTHING (central/central_writer.h), so a crash
// between COMMIT and the cursor write, or a batch sent again after a lost reply, neither loses nor
// duplicates anything: the cursor only saves work.
//
// Invariants:
//   - only durable records are shipped (seq <= the writer's durable_seq()): the store never holds
//     a record the trail may still lose;
//   - batches go in seq order, at most `batch_records` a transaction; the cursor advances only
//     after COMMIT, and is written atomically (temporary file, fsync, rename, fsync of the dir);
//   - it is never on the request path: a PostgreSQL outage only makes the backlog grow (metrics,
//     status_line()) and the shipper reconnect every retry_interval; requests go on;
//   - log lines name the store by describe_target() (user@host:port/db), never the password;
//   - a CentralConflict (another gateway ships under this gateway_id) stops nothing else: it is
//     logged as an error with the seq, and retried like an outage, so an operator can fix the id.
//
// Threading: start() and stop() from one thread (the server's); stop() is prompt: it wakes the
// thread's waits and shuts the connection's socket down under a blocked libpq call (a connection
// being opened finishes first: at most connect_timeout, 5 s unless the URL says). backlog(),
// shipped_seq() and status_line() may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "gateway/config/config.h"
#include "gateway/record/gateway_metrics.h"

namespace promptwall::gateway::server {

struct CentralShipperOptions {
  std::filesystem::path trail_dir;
  CentralConfig central;                  // url must be set
  std::string gateway_id, province;       // fleet.*
  std::function<uint64_t()> durable_seq;  // the writer's last durable seq (AuditWriter::durable_seq)
  GatewayMetrics* metrics = nullptr;      // optional
  std::chrono::milliseconds poll_interval{100};  // how often to look for new durable records
  size_t max_batch_bytes = 8 << 20;
};

class CentralShipper {
 public:
  // Validates the options and reads the password file (throws std::invalid_argument: no url, an
  // unreadable url, no gateway id; std::runtime_error: a password file that is missing, open to
  // others or empty). Does not connect.
  explicit CentralShipper(CentralShipperOptions options);
  ~CentralShipper();  // stop()
  CentralShipper(const CentralShipper&) = delete;
  CentralShipper& operator=(const CentralShipper&) = delete;

  void start();
  // Stops the thread; what was not committed stays after the cursor for the next start. Idempotent.
  void stop();

  uint64_t shipped_seq() const;  // the cursor: last seq committed to the store
  uint64_t backlog() const;      // durable records not yet committed
  // For /readyz: "central store: N records behind" and ", down: why" while it cannot be reached.
  std::string status_line() const;

  static constexpr const char* kCursorFileName = "central.cursor";

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace promptwall::gateway::server
