#include "gateway/server/traffic_recorder.h"

#include <memory>

#include <spdlog/spdlog.h>

namespace promptwall::gateway::server {

void TrafficRecorder::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void TrafficRecorder::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  write_now(/*wait=*/true);
}

void TrafficRecorder::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (wake_.wait_for(lock, interval_, [&] { return stopping_; })) break;
    lock.unlock();
    write_now(/*wait=*/false);
    lock.lock();
  }
}

void TrafficRecorder::write_now(bool wait) {
  auto event = counter_.drain();
  if (!event) return;
  std::string object = audit::to_json_object(*event);
  if (wait) {
    if (!writer_.append_and_wait(std::move(object))) {
      counter_.restore(*event);
      spdlog::error("the traffic counts could not be written to the audit trail");
    }
    return;
  }
  auto kept = std::make_shared<audit::TrafficEvent>(std::move(*event));
  // On the writer's thread: restore() only takes the counter's own lock. The counter outlives the
  // writer (ServerState declares it first).
  writer_.append(std::move(object), [&counter = counter_, kept](bool durable) {
    if (!durable) counter.restore(*kept);
  });
}

}  // namespace promptwall::gateway::server
