// audit::LocalTime (the organisation's time zone through ICU) and the usage report built on it:
// day and week boundaries in local time, day/month/year text, the "did the training work?"
// verdicts and the usage CSV.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "audit/local_time.h"
#include "audit/usage_report.h"

using namespace promptwall::audit;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

Clock::time_point utc(int y, unsigned m, unsigned d, int h = 0, int min = 0) {
  return Clock::time_point(sys_days(year{y} / m / d)) + hours(h) + minutes(min);
}
year_month_day ymd(int y, unsigned m, unsigned d) { return year{y} / m / d; }

}  // namespace

TEST_CASE("Vietnam's local time: 17:30 UTC is already the next day", "[audit][local_time]") {
  const LocalTime vn;
  CHECK(vn.zone() == "Asia/Ho_Chi_Minh");
  CHECK(vn.utc_offset(utc(2026, 12, 7)) == "UTC+07:00");
  CHECK(vn.day_of(utc(2026, 12, 7, 16, 59)) == ymd(2026, 12, 7));
  CHECK(vn.day_of(utc(2026, 12, 7, 17, 30)) == ymd(2026, 12, 8));
  CHECK(vn.date_time(utc(2026, 12, 7, 17, 30)) == "08/12/2026 00:30");
  CHECK(vn.date(utc(2026, 1, 4, 2, 5)) == "04/01/2026");
  CHECK(vn.date_time(utc(2026, 1, 4, 2, 5)) == "04/01/2026 09:05");
  CHECK(vn.start_of(ymd(2026, 12, 8)) == utc(2026, 12, 7, 17));
  CHECK(LocalTime::iso_day(ymd(2026, 3, 9)) == "2026-03-09");
}

TEST_CASE("local day and ISO week buckets", "[audit][local_time]") {
  const LocalTime vn;
  const auto days = vn.days(ymd(2026, 11, 29), ymd(2026, 12, 1));
  CHECK(days.labels == std::vector<std::string>{"2026-11-29", "2026-11-30", "2026-12-01"});
  REQUIRE(days.edges.size() == 4);
  CHECK(days.edges.front() == utc(2026, 11, 28, 17));
  CHECK(days.edges.back() == utc(2026, 12, 1, 17));
  CHECK(vn.days(ymd(2026, 12, 2), ymd(2026, 12, 1)).empty());

  // Weeks start on Monday (local midnight); 2026-11-29 is a Sunday, 2027-01-01 a Friday in week 53.
  const auto weeks = vn.weeks(ymd(2026, 11, 29), ymd(2026, 12, 7));
  CHECK(weeks.labels == std::vector<std::string>{"2026-W48", "2026-W49", "2026-W50"});
  CHECK(weeks.edges.front() == utc(2026, 11, 22, 17));  // Monday 23 November, 00:00 in Vietnam
  CHECK(weeks.edges.back() == utc(2026, 12, 13, 17));
  CHECK(LocalTime::iso_week(ymd(2027, 1, 1)) == "2026-W53");
  CHECK(LocalTime::iso_week(ymd(2025, 12, 29)) == "2026-W01");
}

TEST_CASE("a zone with daylight saving time has 23- and 25-hour days", "[audit][local_time]") {
  const LocalTime berlin("Europe/Berlin");
  const auto march = berlin.days(ymd(2026, 3, 29), ymd(2026, 3, 29));
  CHECK(march.edges[1] - march.edges[0] == 23h);
  const auto october = berlin.days(ymd(2026, 10, 25), ymd(2026, 10, 25));
  CHECK(october.edges[1] - october.edges[0] == 25h);
  CHECK(berlin.utc_offset(utc(2026, 7, 1)) == "UTC+02:00");
  CHECK(berlin.date_time(utc(2026, 7, 1, 22, 15)) == "02/07/2026 00:15");
}

TEST_CASE("an unknown zone is refused, naming it", "[audit][local_time]") {
  CHECK(LocalTime::known_zone("Asia/Ho_Chi_Minh"));
  CHECK(LocalTime::known_zone("UTC"));
  CHECK_FALSE(LocalTime::known_zone("Asia/Sai_Gon_Nowhere"));
  CHECK_FALSE(LocalTime::known_zone(""));
  try {
    LocalTime bad("Mars/Olympus");
    FAIL("accepted an unknown zone");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("Mars/Olympus") != std::string::npos);
  }
}

TEST_CASE("usage: did the training work, per unit", "[audit][usage]") {
  const LocalTime vn;
  const auto weeks = vn.weeks(ymd(2026, 11, 2), ymd(2026, 11, 29));  // W45..W48
  REQUIRE(weeks.labels.size() == 4);
  auto row = [](std::string week, std::string unit, uint64_t requests, uint64_t with_findings, uint64_t violations = 0) {
    UsageRow r;
    r.period = std::move(week);
    r.key = std::move(unit);
    r.requests = requests;
    r.with_findings = with_findings;
    r.violations = violations;
    return r;
  };
  const std::vector<UsageRow> rows = {
      row("2026-W45", "better", 100, 20, 20), row("2026-W48", "better", 100, 5, 5),   // 20% → 5%
      row("2026-W45", "worse", 50, 5), row("2026-W48", "worse", 50, 10),              // 10% → 20%
      row("2026-W45", "same", 100, 10), row("2026-W48", "same", 100, 10),             // 10% → 10%
      row("2026-W46", "late", 10, 1),                                                 // nothing at the ends
      row("2026-W44", "outside", 1000, 1000),                                         // not a week of the range
  };
  const auto summary = summarize_usage(rows, weeks);
  CHECK(summary.compared_weeks == 1);
  REQUIRE(summary.keys.size() == 4);
  CHECK(summary.keys[0].key == "better");  // most requests first
  auto find = [&](const std::string& key) {
    for (const auto& k : summary.keys)
      if (k.key == key) return k;
    FAIL("no " << key);
    return UsageTrend{};
  };
  CHECK(find("better").verdict == UsageTrend::Verdict::better);
  CHECK(find("better").first_rate == Approx(0.20));
  CHECK(find("better").last_rate == Approx(0.05));
  CHECK(find("better").violations == 25);
  CHECK(find("worse").verdict == UsageTrend::Verdict::worse);
  CHECK(find("same").verdict == UsageTrend::Verdict::unchanged);
  CHECK(find("late").verdict == UsageTrend::Verdict::unknown);
  CHECK_FALSE(find("late").weekly_rate[0]);
  CHECK(*find("late").weekly_rate[1] == Approx(0.1));
  CHECK(summary.all.requests == 510);
  CHECK(summary.all.verdict == UsageTrend::Verdict::better);  // 35/250 → 25/250... 14% → 10%

  UsageRow with_categories = row("2026-W45", "=cmd|calc", 10, 2, 2);
  with_categories.violations_by_category = {{"pii", 2}, {"secret", 1}};
  const std::string csv = usage_csv({with_categories, row("2026-W46", "Sở Tư pháp", 4, 0)}, weeks, "unit", vn);
  CHECK(csv ==
        "\"week\",\"week_start\",\"unit\",\"requests\",\"with_findings\",\"rate\",\"violations\",\"violations_pii\",\"violations_secret\"\r\n"
        "\"2026-W45\",\"02/11/2026\",\"'=cmd|calc\",\"10\",\"2\",\"0.2000\",\"2\",\"2\",\"1\"\r\n"
        "\"2026-W46\",\"09/11/2026\",\"Sở Tư pháp\",\"4\",\"0\",\"0.0000\",\"0\",\"0\",\"0\"\r\n");
}
