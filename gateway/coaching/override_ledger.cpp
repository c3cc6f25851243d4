#include "gateway/coaching/override_ledger.h"

#include <iterator>

namespace promptwall::gateway::coaching {

namespace {

template <class Map, class Expiry>
void drop_expired(Map& map, Clock::time_point now, Expiry expiry) {
  for (auto it = map.begin(); it != map.end();) it = expiry(it->second) <= now ? map.erase(it) : std::next(it);
}

}  // namespace

OverrideLedger::OverrideLedger(Limits limits) : limits_(limits) {}

int64_t OverrideLedger::utc_day(Clock::time_point t) {
  const int64_t seconds = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  // Floor division: a day starts at 00:00:00 UTC (system_clock is Unix time, without leap seconds).
  return seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
}

OverrideLedger::Use OverrideLedger::use_token(std::string_view token_id, Clock::time_point expires,
                                              Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (auto it = used_.find(token_id); it != used_.end()) {
    if (it->second > now) return Use::replayed;
    used_.erase(it);
  }
  if (used_.size() >= limits_.max_entries) drop_expired(used_, now, [](Clock::time_point e) { return e; });
  if (used_.size() >= limits_.max_entries) return Use::full;
  used_.emplace(std::string(token_id), expires);
  return Use::fresh;
}

bool OverrideLedger::count_override(std::string_view requester, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  const int64_t today = utc_day(now);
  auto it = days_.find(requester);
  if (it == days_.end()) {
    if (days_.size() >= limits_.max_entries)
      for (auto d = days_.begin(); d != days_.end();) d = d->second.day != today ? days_.erase(d) : std::next(d);
    if (days_.size() >= limits_.max_entries) return false;
    it = days_.emplace(std::string(requester), DayCount{today, 0}).first;
  }
  if (it->second.day != today) it->second = DayCount{today, 0};
  if (limits_.daily_cap != 0 && it->second.count >= limits_.daily_cap) return false;
  ++it->second.count;
  return true;
}

uint32_t OverrideLedger::overrides_today(std::string_view requester, Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  const auto it = days_.find(requester);
  return it == days_.end() || it->second.day != utc_day(now) ? 0 : it->second.count;
}

bool OverrideLedger::approve(std::string subject_key, Approval approval, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (approvals_.size() >= limits_.max_entries && !approvals_.contains(subject_key))
    drop_expired(approvals_, now, [](const Approval& a) { return a.expires; });
  if (approvals_.size() >= limits_.max_entries && !approvals_.contains(subject_key)) return false;
  approvals_.insert_or_assign(std::move(subject_key), std::move(approval));
  return true;
}

std::optional<Approval> OverrideLedger::take_approval(std::string_view subject_key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  const auto it = approvals_.find(subject_key);
  if (it == approvals_.end()) return std::nullopt;
  Approval found = std::move(it->second);
  approvals_.erase(it);
  if (found.expires <= now) return std::nullopt;
  return found;
}

}  // namespace promptwall::gateway::coaching
