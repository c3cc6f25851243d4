#include "gateway/record/traffic_counter.h"

namespace promptwall::gateway {

namespace {
int64_t hour_of(audit::Clock::time_point t) {
  return std::chrono::floor<std::chrono::hours>(t).time_since_epoch().count();
}
}  // namespace

void TrafficCounter::add(audit::Clock::time_point when, std::string_view unit, std::string_view service,
                         bool had_findings) {
  Key key{hour_of(when), std::string(unit), std::string(service)};
  std::lock_guard lock(mutex_);
  auto& [requests, with_findings] = counts_[std::move(key)];
  ++requests;
  if (had_findings) ++with_findings;
}

std::optional<audit::TrafficEvent> TrafficCounter::drain(audit::Clock::time_point now) {
  std::map<Key, std::pair<uint64_t, uint64_t>> counts;
  audit::TrafficEvent e;
  {
    std::lock_guard lock(mutex_);
    counts.swap(counts_);
    e.from = since_;
    since_ = now;
  }
  if (counts.empty()) return std::nullopt;
  e.time = e.to = now;
  for (auto& [key, c] : counts)
    e.counts.push_back({audit::Clock::time_point(std::chrono::hours(std::get<0>(key))), std::get<1>(key),
                        std::get<2>(key), c.first, c.second});
  return e;
}

void TrafficCounter::restore(const audit::TrafficEvent& event) {
  std::lock_guard lock(mutex_);
  for (const auto& c : event.counts) {
    auto& [requests, with_findings] = counts_[Key{hour_of(c.hour), c.unit, c.service}];
    requests += c.requests;
    with_findings += c.with_findings;
  }
  if (event.from < since_) since_ = event.from;
}

}  // namespace promptwall::gateway
