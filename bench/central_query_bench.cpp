// The central store's read side at scale (issue 17): what the review page and `audit query
// --central` ask of central::CentralStore over the events bench/run-central-query-bench.sh
// generated into PostgreSQL. Each query: one warm-up, then the median of --runs runs, in ms.
//
//   page    unit + category + the last 30 days, newest first, the first 50 (the list page)
//   count   the same filter's count (the list page's pagination)
//   default violations, newest first, the first 50 and their count (the list page unfiltered)
//   chart1  the first usage chart (per unit and ISO week over the 60 days), which also brings the
//           store's rollup of violations up to date: on a fresh store, all of it
//   chart   the usage chart again (the rollup current: what every later page view costs)
//   chartu  the chart for one user (a filter the rollup does not keep: read from the events)
//   lists1  the list page's drop-downs (distinct users, units, ..., rules, categories), once: then
//           kept for five minutes
//   detail  one event with its triage history
//
// Usage: central_query_bench CONNINFO [--runs N] [--unit U] [--category C] [--now RFC3339]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "audit/local_time.h"
#include "central/central_store.h"

using namespace promptwall;
using Steady = std::chrono::steady_clock;

namespace {

double median_ms(int runs, const std::function<size_t()>& body, size_t& rows) {
  rows = body();  // warm-up: caches, plans
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = Steady::now();
    rows = body();
    ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: central_query_bench CONNINFO [--runs N] [--unit U] [--category C] [--now RFC3339]\n");
    return 2;
  }
  int runs = 5;
  std::string unit = "unit-0042", category = "cat-3";
  audit::Clock::time_point now = audit::Clock::now();
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string opt = argv[i], value = argv[i + 1];
    if (opt == "--runs") runs = std::max(1, std::stoi(value));
    else if (opt == "--unit") unit = value;
    else if (opt == "--category") category = value;
    else if (opt == "--now") now = audit::parse_time(value).value_or(now);
  }
  central::CentralStore store(argv[1]);
  const audit::LocalTime vn;

  audit::EventFilter page_filter;
  page_filter.violations_only = true;
  page_filter.unit = unit;
  page_filter.category = category;
  page_filter.since = now - std::chrono::hours(24 * 30);
  audit::EventFilter violations;
  violations.violations_only = true;
  const auto last = vn.day_of(now);
  const auto weeks = vn.weeks(std::chrono::year_month_day{std::chrono::sys_days{last} - std::chrono::days{59}}, last);

  size_t rows = 0;
  auto report = [&](const char* name, double ms) { std::printf("%-8s %10.1f ms  %zu rows\n", name, ms, rows); };
  report("page", median_ms(runs, [&] { return store.query(page_filter, audit::EventPage{50, 0, true}).size(); }, rows));
  report("count", median_ms(runs, [&] { return static_cast<size_t>(store.count(page_filter)); }, rows));
  report("default", median_ms(runs, [&] {
           return store.query(violations, audit::EventPage{50, 0, true}).size() + 0 * store.count(violations);
         }, rows));
  {
    // The first chart also brings the store's rollup up to date (all of it on a fresh store).
    const auto t0 = Steady::now();
    rows = store.usage(audit::EventFilter{}, "unit", weeks).size();
    report("chart1", std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
  }
  report("chart", median_ms(runs, [&] { return store.usage(audit::EventFilter{}, "unit", weeks).size(); }, rows));
  audit::EventFilter by_user;
  by_user.user = "user-0042";  // a filter the rollup does not keep: the events themselves
  report("chartu", median_ms(runs, [&] { return store.usage(by_user, "unit", weeks).size(); }, rows));
  {
    // The list page's drop-downs, once (then kept for CentralStore::kDistinctTtl).
    const auto t0 = Steady::now();
    rows = 0;
    for (const char* column : {"user", "unit", "service", "rule", "category", "gateway", "province"})
      rows += store.distinct(column).size();
    report("lists1", std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
  }
  const auto one = store.query(page_filter, audit::EventPage{1, 0, true});
  const std::string id = one.empty() ? "" : one.front().event.event_id;
  report("detail", median_ms(runs, [&] {
           auto e = store.event(id);
           return (e ? 1 : 0) + store.triage_history(id).size();
         }, rows));
  return 0;
}
