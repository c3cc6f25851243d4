#include "gateway/server/central_shipper.h"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "audit/trail_format.h"
#include "audit/trail_reader.h"
#include "central/central_connection.h"
#include "central/central_writer.h"
#include "gateway/server/cursor_file.h"

namespace promptwall::gateway::server {

struct CentralShipper::Impl {
  explicit Impl(CentralShipperOptions o)
      : options(std::move(o)),
        target(central::describe_target(options.central.url)),
        cursor_file(options.trail_dir / kCursorFileName) {
    const std::string password =
        options.central.password_file.empty() ? "" : central::read_password_file(options.central.password_file);
    conninfo = central::make_conninfo(options.central.url, password);
  }

  void run();
  void fill_batch();
  bool connect();
  bool ship_batch();  // true when committed
  void report();
  void set_down(const std::string& reason);
  void wait(std::chrono::milliseconds how_long) {
    std::unique_lock lock(mutex);
    wake.wait_for(lock, how_long, [&] { return stopping.load(); });
  }

  CentralShipperOptions options;
  std::string target;    // user@host:port/db, for logs
  std::string conninfo;  // holds the password: never logged
  CursorFile cursor_file;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::mutex mutex;  // guards socket_fd against stop(); the condition's mutex too
  std::condition_variable wake;
  int socket_fd = -1;
  std::unique_ptr<central::CentralWriter> writer;

  std::atomic<uint64_t> shipped{0};  // the cursor
  uint64_t next_seq = 1;
  std::optional<audit::TrailReader> reader;
  std::vector<central::ShippedRecord> batch;
  size_t batch_bytes = 0;
  bool cursor_checked = false;
  bool registered = false;  // pw_gateways has this gateway's row since the last connect
  std::string last_reader_error;

  mutable std::mutex status_mutex;
  std::string down_reason;  // "" while reachable (guarded by status_mutex)
  std::atomic<bool> connected{false};
  uint64_t outage_first_seq = 0;
  std::string last_conflict;
};

void CentralShipper::Impl::run() {
  try {
    shipped = cursor_file.load();
  } catch (const std::exception& e) {
    spdlog::error("central store: shipping stopped: {}", e.what());
    set_down(e.what());
    return;
  }
  next_seq = shipped + 1;
  spdlog::info("central store: shipping the audit trail to {} as gateway {} from record {}", target,
               options.gateway_id, next_seq);
  while (!stopping) {
    fill_batch();
    report();
    if (!writer && !connect()) {
      wait(options.central.retry_interval);
      continue;
    }
    if (batch.empty() && registered) {
      wait(options.poll_interval);
      continue;
    }
    if (!ship_batch() && !stopping) wait(options.central.retry_interval);
  }
  std::lock_guard lock(mutex);
  socket_fd = -1;
  writer.reset();
}

bool CentralShipper::Impl::connect() {
  try {
    auto w = std::make_unique<central::CentralWriter>(conninfo);
    std::lock_guard lock(mutex);
    if (stopping) return false;
    socket_fd = w->socket();
    writer = std::move(w);
  } catch (const std::exception& e) {
    if (options.metrics) options.metrics->central_failure();
    set_down(e.what());
    return false;
  }
  registered = false;
  return true;
}

// One transaction; on success the cursor moves past it and the batch empties. An empty batch
// registers the gateway (its province, its public key) on first contact.
bool CentralShipper::Impl::ship_batch() {
  central::CentralBatch b{options.gateway_id, options.province, {}, {}};
  {
    std::ifstream pub(options.trail_dir / std::string(audit::kPublicKeyFileName), std::ios::binary);
    std::ostringstream text;
    text << pub.rdbuf();
    b.public_key_pem = text.str();
  }
  b.records = batch;  // copied: a failed batch is sent again whole
  try {
    const central::CentralWriteResult result = writer->write(b);
    registered = true;
    for (const auto& problem : result.problems)
      spdlog::warn("central store: {} (the line is stored; run `promptwall audit verify`)", problem);
    if (!batch.empty()) {
      try {
        cursor_file.store(result.committed_seq);
      } catch (const std::exception& e) {
        // Harmless for correctness (the store's key makes a resend a no-op); it costs a resend.
        spdlog::error("central store: {}", e.what());
      }
      shipped = result.committed_seq;
    }
    batch.clear();
    batch_bytes = 0;
    last_conflict.clear();
    connected = true;
    std::string was;
    {
      std::lock_guard lock(status_mutex);
      was.swap(down_reason);
    }
    if (!was.empty()) spdlog::info("central store {} reachable again; shipping from record {}", target, outage_first_seq);
    report();
    return true;
  } catch (const central::CentralConflict& e) {
    if (options.metrics) options.metrics->central_failure();
    if (last_conflict != e.what()) spdlog::error("central store: {}", e.what());
    last_conflict = e.what();
    set_down(e.what());
  } catch (const std::exception& e) {
    if (options.metrics) options.metrics->central_failure();
    set_down(e.what());
    if (writer && writer->broken()) {
      std::lock_guard lock(mutex);
      socket_fd = -1;
      writer.reset();
    }
  }
  report();
  return false;
}

void CentralShipper::Impl::set_down(const std::string& reason) {
  connected = false;
  std::string first_line = reason.substr(0, reason.find('\n'));
  std::lock_guard lock(status_mutex);
  if (down_reason.empty()) {
    outage_first_seq = shipped + 1;
    spdlog::warn("central store {} unreachable: {}; audit records stay in the trail and are shipped when it is back "
                 "(retry every {} ms)",
                 target, first_line, options.central.retry_interval.count());
  }
  down_reason = first_line.empty() ? "unknown error" : first_line;
}

// Reads durable records after the batch, up to the batch limits (as the SIEM shipper does).
void CentralShipper::Impl::fill_batch() {
  const uint64_t durable = options.durable_seq();
  if (!cursor_checked && durable > 0) {
    // A cursor past the end of the trail belongs to another trail (this one was replaced): ship
    // this one from its start. The store will refuse its records if they differ from the old
    // trail's under the same gateway id (CentralConflict): give the new trail a new fleet.gateway_id.
    cursor_checked = true;
    if (shipped > durable) {
      spdlog::warn("central store: {} says record {} was shipped but the trail ends at {}; shipping this trail from "
                   "its start",
                   cursor_file.path().string(), shipped.load(), durable);
      shipped = 0;
      next_seq = 1;
      reader.reset();
      batch.clear();
      batch_bytes = 0;
    }
  }
  try {
    while (next_seq <= durable && batch.size() < options.central.batch_records &&
           batch_bytes < options.max_batch_bytes) {
      if (!reader) reader.emplace(options.trail_dir, next_seq);
      auto record = reader->next();
      if (!record) break;
      if (record->seq < next_seq) continue;  // before the cursor: already shipped
      if (record->seq > durable) {
        // Written but not yet durable: it may still be cut off. Read this line again later.
        reader.emplace(options.trail_dir, record->file, record->offset);
        break;
      }
      if (record->seq != next_seq)
        spdlog::error("audit trail: record {} follows record {} (run `promptwall audit verify`)", record->seq,
                      next_seq - 1);
      batch_bytes += record->line.size();
      next_seq = record->seq + 1;
      batch.push_back({record->seq, std::move(record->line)});
      last_reader_error.clear();
    }
  } catch (const std::exception& e) {
    if (last_reader_error != e.what()) spdlog::error("central store: cannot read the audit trail: {}", e.what());
    last_reader_error = e.what();
    reader.reset();
  }
}

void CentralShipper::Impl::report() {
  if (!options.metrics) return;
  const uint64_t durable = options.durable_seq();
  const uint64_t done = shipped.load();
  options.metrics->central_state(done, durable > done ? durable - done : 0, connected.load());
}

// ---------------------------------------------------------------------------------------------

CentralShipper::CentralShipper(CentralShipperOptions options) {
  if (!options.central.enabled()) throw std::invalid_argument("CentralShipper needs audit.central.url");
  if (!options.durable_seq) throw std::invalid_argument("CentralShipper needs durable_seq");
  if (options.gateway_id.empty()) throw std::invalid_argument("CentralShipper needs fleet.gateway_id");
  impl_ = std::make_unique<Impl>(std::move(options));
}

CentralShipper::~CentralShipper() { stop(); }

void CentralShipper::start() {
  if (impl_->thread.joinable()) return;
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

void CentralShipper::stop() {
  if (!impl_->thread.joinable()) return;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
    // Cuts a blocked query short: libpq sees the connection fail and the thread sees `stopping`.
    if (impl_->socket_fd >= 0) ::shutdown(impl_->socket_fd, SHUT_RDWR);
  }
  impl_->wake.notify_all();
  impl_->thread.join();
}

uint64_t CentralShipper::shipped_seq() const { return impl_->shipped.load(); }

uint64_t CentralShipper::backlog() const {
  const uint64_t durable = impl_->options.durable_seq();
  const uint64_t done = impl_->shipped.load();
  return durable > done ? durable - done : 0;
}

std::string CentralShipper::status_line() const {
  std::string line = "central store: " + std::to_string(backlog()) + " records behind";
  std::lock_guard lock(impl_->status_mutex);
  if (!impl_->down_reason.empty()) line += ", down: " + impl_->down_reason;
  return line;
}

}  // namespace promptwall::gateway::server
