// TrafficCounter: counts every request the gateway decided, clean ones and refusals included, per
// (UTC hour, unit, service), and how many of them had at least one finding, so the central store
// can give rates (docs/audit-format.md, the `traffic` record). It holds no content, no user and
// no event per request: only the counts since the last drain.
//
// Threads: add() from every worker, drain() and restore() from the one thread that writes the
// records; a mutex guards the counts (one map lookup per request). No errors.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "audit/event.h"

namespace promptwall::gateway {

class TrafficCounter {
 public:
  explicit TrafficCounter(audit::Clock::time_point start = audit::Clock::now()) : since_(start) {}

  void add(audit::Clock::time_point when, std::string_view unit, std::string_view service, bool had_findings);

  // The counts since the last drain as a `traffic` event (from = the last drain, to = now, counts
  // sorted by hour, unit, service), and starts afresh; nullopt when nothing was counted.
  std::optional<audit::TrafficEvent> drain(audit::Clock::time_point now = audit::Clock::now());

  // Puts a drained event's counts back (its record could not be written): nothing is lost, the
  // next drain carries them.
  void restore(const audit::TrafficEvent& event);

 private:
  using Key = std::tuple<int64_t, std::string, std::string>;  // hours since the epoch, unit, service
  std::mutex mutex_;
  std::map<Key, std::pair<uint64_t, uint64_t>> counts_;  // requests, with findings
  audit::Clock::time_point since_;
};

}  // namespace promptwall::gateway
