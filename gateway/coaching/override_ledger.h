// OverrideLedger: what the gateway remembers about justifications while it runs (issue 16):
//   - the ids of tokens used already, each until its token expires (a replay is refused);
//   - approvals made on the justification form, keyed by (requester, request) tags
//     (JustificationToken::subject_key), so the web app's own retry passes without a header;
//     each is taken once, and expires with its token;
//   - how many overrides each requester made on the current UTC day, against a daily cap.
//
// Everything is in memory and bounded (`max_entries` per table: when a table is full of entries
// that have not expired, a new one is refused, failing closed, rather than forgetting a used
// token). Gone after a restart, as the signer's key is: no token outlives the process.
//
// The clock is the caller's: every call takes `now` (tests step over a UTC midnight).
// Threads: safe from any thread (one mutex; every call is short).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/coaching/justification_token.h"

namespace promptwall::gateway::coaching {

// A justification made on the form, waiting for the request it was made for.
struct Approval {
  std::string reason;    // as recorded (bounded, masked: coaching_step.h)
  std::string by;        // the requester as the trail names them
  std::string token_id;  // JustificationToken::id_hex()
  JustificationKind kind = JustificationKind::warn;
  Clock::time_point expires;
};

class OverrideLedger {
 public:
  struct Limits {
    size_t max_entries = 100'000;  // per table
    uint32_t daily_cap = 0;        // overrides per requester per UTC day; 0: no cap
  };
  explicit OverrideLedger(Limits limits);

  enum class Use : uint8_t { fresh, replayed, full };
  // Marks the token id used until `expires`. replayed: it was used before; full: the table is full.
  Use use_token(std::string_view token_id, Clock::time_point expires, Clock::time_point now);

  // Whether `requester` may override once more today (UTC), and if so counts it.
  bool count_override(std::string_view requester, Clock::time_point now);
  // Overrides counted for `requester` on now's UTC day.
  uint32_t overrides_today(std::string_view requester, Clock::time_point now) const;

  // false when the table is full.
  bool approve(std::string subject_key, Approval approval, Clock::time_point now);
  // The approval for `subject_key`, removed; nullopt when there is none or it expired.
  std::optional<Approval> take_approval(std::string_view subject_key, Clock::time_point now);

  uint32_t daily_cap() const { return limits_.daily_cap; }

 private:
  static int64_t utc_day(Clock::time_point t);

  struct DayCount {
    int64_t day = 0;
    uint32_t count = 0;
  };

  Limits limits_;
  mutable std::mutex mutex_;
  std::map<std::string, Clock::time_point, std::less<>> used_;
  std::map<std::string, Approval, std::less<>> approvals_;
  std::map<std::string, DayCount, std::less<>> days_;
};

}  // namespace promptwall::gateway::coaching
