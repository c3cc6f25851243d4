// TrafficRecorder: writes the TrafficCounter's counts into the audit trail as a `traffic` record
// every `audit.traffic_interval`, and once more at stop(), from its own thread. A record the
// trail cannot take puts its counts back into the counter, so the next one carries them (a trail
// outage loses no count; the counts are lost only with the process).
//
// Threading: start() and stop() from the server's thread; stop() is prompt (wakes the wait) and
// must run before the AuditWriter closes. No errors are thrown; failures are logged.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "audit/audit_writer.h"
#include "gateway/record/traffic_counter.h"

namespace promptwall::gateway::server {

class TrafficRecorder {
 public:
  TrafficRecorder(TrafficCounter& counter, audit::AuditWriter& writer, std::chrono::milliseconds interval)
      : counter_(counter), writer_(writer), interval_(interval) {}
  ~TrafficRecorder() { stop(); }
  TrafficRecorder(const TrafficRecorder&) = delete;
  TrafficRecorder& operator=(const TrafficRecorder&) = delete;

  void start();
  void stop();  // writes the last counts and waits for them to be durable; idempotent

  // Drains the counter into one record now, waiting for it when `wait`; for stop() and tests.
  void write_now(bool wait);

 private:
  void run();

  TrafficCounter& counter_;
  audit::AuditWriter& writer_;
  std::chrono::milliseconds interval_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace promptwall::gateway::server
