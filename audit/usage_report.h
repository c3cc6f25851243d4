// The organisers' question, "did the training work?", from an EventStore's usage rows (requests,
// share with findings, violations per unit or service and ISO week): per key, the weekly rates,
// the rate over the first and the last weeks of the range, and a verdict. Also the same rows as
// CSV, for the review page's /review/usage.csv and `promptwall audit usage --format csv`.
//
// Pure functions over values; no store, no clock. The verdict compares the first and the last
// quarter of the weeks (at least one week each, two weeks at least in all): the rate fell by a
// tenth or more = better, rose by a tenth or more = worse, otherwise unchanged; no requests in
// either part, or a single week, = unknown (no rate can be compared).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/event_store.h"
#include "audit/local_time.h"

namespace promptwall::audit {

struct UsageTrend {
  enum class Verdict { better, worse, unchanged, unknown };
  std::string key;  // unit or service, "" when unknown
  uint64_t requests = 0, with_findings = 0, violations = 0;  // over the whole range
  std::vector<std::optional<double>> weekly_rate;  // per week of the range; nullopt: no requests
  std::optional<double> first_rate, last_rate;     // over the first / last weeks compared
  Verdict verdict = Verdict::unknown;
};
std::string_view to_string(UsageTrend::Verdict v);

struct UsageSummary {
  std::vector<std::string> weeks;  // the range's week labels
  size_t compared_weeks = 0;       // how many weeks at each end the verdict compares
  UsageTrend all;                  // every key together
  std::vector<UsageTrend> keys;    // most requests first, then by key
};

// `rows` as EventStore::usage returns them over `buckets` (weeks).
UsageSummary summarize_usage(const std::vector<UsageRow>& rows, const TimeBuckets& buckets);

// RFC 4180, CRLF, every field quoted; a field a spreadsheet would run as a formula (= + - @, or a
// tab or carriage return first) gets a leading apostrophe. Columns: week, week_start (dd/mm/yyyy,
// local), `by` (unit or service), requests, with_findings, rate (share with findings, 4 decimals),
// violations, then one violations_<category> column per category met, sorted.
std::string usage_csv(const std::vector<UsageRow>& rows, const TimeBuckets& buckets, std::string_view by,
                      const LocalTime& local_time);
std::string csv_field(std::string_view value);

}  // namespace promptwall::audit
