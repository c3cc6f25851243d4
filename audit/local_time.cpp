#include "audit/local_time.h"

#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <cstdio>
#include <stdexcept>

namespace promptwall::audit {
namespace {

using std::chrono::sys_days;
using std::chrono::year_month_day;

constexpr int64_t kDayMs = 86'400'000;

int64_t to_ms(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

std::unique_ptr<icu::TimeZone> open_zone(std::string_view name) {
  std::unique_ptr<icu::TimeZone> tz(icu::TimeZone::createTimeZone(
      icu::UnicodeString::fromUTF8(icu::StringPiece(name.data(), static_cast<int32_t>(name.size())))));
  // ICU answers an unknown name with a copy of "Etc/Unknown" (UTC) rather than an error.
  if (!tz || *tz == icu::TimeZone::getUnknown() || name.empty()) return nullptr;
  return tz;
}

}  // namespace

struct LocalTime::Zone {
  std::unique_ptr<icu::TimeZone> tz;
};

bool LocalTime::known_zone(std::string_view zone) { return open_zone(zone) != nullptr; }

LocalTime::LocalTime(std::string_view zone) : zone_(zone) {
  auto tz = open_zone(zone);
  if (!tz) throw std::invalid_argument("unknown time zone '" + std::string(zone) + "' (an IANA name such as Asia/Ho_Chi_Minh)");
  impl_ = std::make_unique<const Zone>(Zone{std::move(tz)});
}

LocalTime::LocalTime(const LocalTime& other)
    : zone_(other.zone_), impl_(std::make_unique<const Zone>(Zone{std::unique_ptr<icu::TimeZone>(other.impl_->tz->clone())})) {}

LocalTime::~LocalTime() = default;

int64_t LocalTime::offset_ms(int64_t utc_ms) const {
  int32_t raw = 0, dst = 0;
  UErrorCode status = U_ZERO_ERROR;
  impl_->tz->getOffset(static_cast<UDate>(utc_ms), false, raw, dst, status);
  if (U_FAILURE(status)) throw std::runtime_error("time zone " + zone_ + ": " + u_errorName(status));
  return int64_t{raw} + dst;
}

std::string LocalTime::utc_offset(Clock::time_point t) const {
  const int64_t minutes = offset_ms(to_ms(t)) / 60'000;
  const int64_t a = minutes < 0 ? -minutes : minutes;
  char buf[40];
  std::snprintf(buf, sizeof buf, "UTC%c%02d:%02d", minutes < 0 ? '-' : '+', static_cast<int>(a / 60), static_cast<int>(a % 60));
  return buf;
}

year_month_day LocalTime::day_of(Clock::time_point t) const {
  const int64_t local = to_ms(t) + offset_ms(to_ms(t));
  return year_month_day{sys_days{std::chrono::days{floor_div(local, kDayMs)}}};
}

std::string LocalTime::date(Clock::time_point t) const {
  const auto d = day_of(t);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%02u/%02u/%04d", static_cast<unsigned>(d.day()), static_cast<unsigned>(d.month()),
                static_cast<int>(d.year()));
  return buf;
}

std::string LocalTime::date_time(Clock::time_point t) const {
  const int64_t local = to_ms(t) + offset_ms(to_ms(t));
  const int64_t in_day = local - floor_div(local, kDayMs) * kDayMs;
  char buf[40];
  std::snprintf(buf, sizeof buf, " %02d:%02d", static_cast<int>(in_day / 3'600'000), static_cast<int>(in_day / 60'000 % 60));
  return date(t) + buf;
}

std::string LocalTime::iso_day(year_month_day d) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                static_cast<unsigned>(d.day()));
  return buf;
}

Clock::time_point LocalTime::start_of(year_month_day day) const {
  const int64_t local = static_cast<int64_t>(sys_days{day}.time_since_epoch().count()) * kDayMs;
  // ICU reads `local` as wall-clock time here (local = true): the offset in force then.
  int32_t raw = 0, dst = 0;
  UErrorCode status = U_ZERO_ERROR;
  impl_->tz->getOffset(static_cast<UDate>(local), true, raw, dst, status);
  if (U_FAILURE(status)) throw std::runtime_error("time zone " + zone_ + ": " + u_errorName(status));
  return Clock::time_point(std::chrono::milliseconds(local - raw - dst));
}

TimeBuckets LocalTime::days(year_month_day first, year_month_day last) const {
  TimeBuckets b;
  if (sys_days{last} < sys_days{first}) return b;
  for (sys_days d = sys_days{first}; d <= sys_days{last}; d += std::chrono::days{1}) {
    b.edges.push_back(start_of(year_month_day{d}));
    b.labels.push_back(iso_day(year_month_day{d}));
  }
  b.edges.push_back(start_of(year_month_day{sys_days{last} + std::chrono::days{1}}));
  return b;
}

std::string LocalTime::iso_week(year_month_day day) {
  using namespace std::chrono;
  const sys_days d{day};
  // The ISO week belongs to the year of its Thursday.
  const weekday wd{d};
  const sys_days thursday = d - (wd - Monday) + std::chrono::days{3};
  const year_month_day t{thursday};
  const sys_days jan1{t.year() / January / 1};
  const auto week = (thursday - jan1).count() / 7 + 1;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-W%02d", static_cast<int>(t.year()), static_cast<int>(week));
  return buf;
}

TimeBuckets LocalTime::weeks(year_month_day first, year_month_day last) const {
  using namespace std::chrono;
  TimeBuckets b;
  if (sys_days{last} < sys_days{first}) return b;
  const sys_days monday = sys_days{first} - (weekday{sys_days{first}} - Monday);
  for (sys_days d = monday; d <= sys_days{last}; d += std::chrono::days{7}) {
    b.edges.push_back(start_of(year_month_day{d}));
    b.labels.push_back(iso_week(year_month_day{d}));
  }
  b.edges.push_back(start_of(year_month_day{monday + std::chrono::days{7} * b.labels.size()}));
  return b;
}

}  // namespace promptwall::audit
