// LocalTime: the organisation's time zone (audit.review.time_zone, an IANA name such as
// "Asia/Ho_Chi_Minh") for what officers read: dates and times written day/month/year on the review
// page and in CSV exports, and the local day and ISO week boundaries the charts count in. The trail
// and the stores stay in UTC; only what people read is local.
//
// The zone's rules come from ICU's time zone data, so a zone with daylight saving time gets its
// days right (a local day is 23 or 25 hours long there); Vietnam has none.
//
// Invariants: a LocalTime always holds a zone ICU knows (the constructor refuses others).
// Errors: std::invalid_argument naming the zone when ICU does not know it.
// Threading: immutable after construction; every method is const and safe from several threads.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "audit/event.h"
#include "audit/event_store.h"

namespace promptwall::audit {

class LocalTime {
 public:
  static constexpr std::string_view kDefaultZone = "Asia/Ho_Chi_Minh";

  explicit LocalTime(std::string_view zone = kDefaultZone);
  ~LocalTime();
  LocalTime(const LocalTime& other);
  LocalTime& operator=(const LocalTime&) = delete;

  // Whether ICU knows `zone` (what the configuration checks).
  static bool known_zone(std::string_view zone);

  const std::string& zone() const { return zone_; }
  // The zone's offset from UTC at `t`, e.g. "UTC+07:00".
  std::string utc_offset(Clock::time_point t) const;

  // The local calendar day `t` falls on.
  std::chrono::year_month_day day_of(Clock::time_point t) const;
  // "dd/mm/yyyy HH:MM" and "dd/mm/yyyy" in local time.
  std::string date_time(Clock::time_point t) const;
  std::string date(Clock::time_point t) const;
  // The same day as the ISO text the forms use, "YYYY-MM-DD".
  static std::string iso_day(std::chrono::year_month_day day);

  // The first instant of a local day (midnight there, or the first hour that exists).
  Clock::time_point start_of(std::chrono::year_month_day day) const;

  // Local days [first, last] as buckets labelled "YYYY-MM-DD".
  TimeBuckets days(std::chrono::year_month_day first, std::chrono::year_month_day last) const;
  // ISO weeks (Monday first) covering [first, last], labelled "YYYY-Www" (the ISO week-year).
  TimeBuckets weeks(std::chrono::year_month_day first, std::chrono::year_month_day last) const;
  // "2026-W49" for the week holding that day.
  static std::string iso_week(std::chrono::year_month_day day);

 private:
  int64_t offset_ms(int64_t utc_ms) const;  // zone offset at a UTC instant

  struct Zone;
  std::string zone_;
  std::unique_ptr<const Zone> impl_;
};

}  // namespace promptwall::audit
