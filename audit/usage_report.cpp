#include "audit/usage_report.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace promptwall::audit {

std::string_view to_string(UsageTrend::Verdict v) {
  switch (v) {
    case UsageTrend::Verdict::better: return "better";
    case UsageTrend::Verdict::worse: return "worse";
    case UsageTrend::Verdict::unchanged: return "unchanged";
    case UsageTrend::Verdict::unknown: return "unknown";
  }
  return "unknown";
}

namespace {

struct Sums {
  uint64_t requests = 0, with_findings = 0;
  void add(uint64_t r, uint64_t w) {
    requests += r;
    with_findings += w;
  }
  std::optional<double> rate() const {
    if (requests == 0) return std::nullopt;
    return static_cast<double>(with_findings) / static_cast<double>(requests);
  }
};

// Fills a trend's rates and verdict from its per-week sums.
void judge(UsageTrend& trend, const std::vector<Sums>& weeks, size_t compared) {
  trend.weekly_rate.clear();
  for (const auto& w : weeks) trend.weekly_rate.push_back(w.rate());
  if (compared == 0) return;
  Sums first, last;
  for (size_t i = 0; i < compared; ++i) {
    first.add(weeks[i].requests, weeks[i].with_findings);
    const auto& w = weeks[weeks.size() - 1 - i];
    last.add(w.requests, w.with_findings);
  }
  trend.first_rate = first.rate();
  trend.last_rate = last.rate();
  if (!trend.first_rate || !trend.last_rate) return;
  const double a = *trend.first_rate, b = *trend.last_rate;
  if (b <= a * 0.9 && b < a) trend.verdict = UsageTrend::Verdict::better;
  else if (b >= a * 1.1 && b > a) trend.verdict = UsageTrend::Verdict::worse;
  else trend.verdict = UsageTrend::Verdict::unchanged;
}

}  // namespace

UsageSummary summarize_usage(const std::vector<UsageRow>& rows, const TimeBuckets& buckets) {
  UsageSummary out;
  out.weeks = buckets.labels;
  const size_t n = out.weeks.size();
  out.compared_weeks = n < 2 ? 0 : std::max<size_t>(1, n / 4);
  std::map<std::string, size_t> week_index;
  for (size_t i = 0; i < n; ++i) week_index[out.weeks[i]] = i;

  std::map<std::string, std::pair<UsageTrend, std::vector<Sums>>> per_key;
  std::vector<Sums> all_weeks(n);
  for (const auto& r : rows) {
    const auto w = week_index.find(r.period);
    if (w == week_index.end()) continue;
    auto& [trend, weeks] = per_key[r.key];
    if (weeks.empty()) {
      weeks.resize(n);
      trend.key = r.key;
    }
    weeks[w->second].add(r.requests, r.with_findings);
    all_weeks[w->second].add(r.requests, r.with_findings);
    trend.requests += r.requests;
    trend.with_findings += r.with_findings;
    trend.violations += r.violations;
    out.all.requests += r.requests;
    out.all.with_findings += r.with_findings;
    out.all.violations += r.violations;
  }
  judge(out.all, all_weeks, out.compared_weeks);
  for (auto& [key, entry] : per_key) {
    judge(entry.first, entry.second, out.compared_weeks);
    out.keys.push_back(std::move(entry.first));
  }
  std::stable_sort(out.keys.begin(), out.keys.end(),
                   [](const UsageTrend& a, const UsageTrend& b) { return a.requests > b.requests; });
  return out;
}

std::string csv_field(std::string_view value) {
  std::string out(1, '"');
  if (!value.empty() && std::string_view("=+-@\t\r").find(value.front()) != std::string_view::npos) out += '\'';
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string usage_csv(const std::vector<UsageRow>& rows, const TimeBuckets& buckets, std::string_view by,
                      const LocalTime& local_time) {
  std::set<std::string> categories;
  for (const auto& r : rows)
    for (const auto& [c, n] : r.violations_by_category) categories.insert(c);
  std::map<std::string, std::string> week_start;
  for (size_t i = 0; i < buckets.labels.size() && i < buckets.edges.size(); ++i)
    week_start[buckets.labels[i]] = local_time.date(buckets.edges[i]);

  std::string out;
  auto row = [&](const std::vector<std::string>& fields) {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i) out += ',';
      out += csv_field(fields[i]);
    }
    out += "\r\n";
  };
  std::vector<std::string> head = {"week", "week_start", std::string(by), "requests", "with_findings", "rate", "violations"};
  for (const auto& c : categories) head.push_back("violations_" + c);
  row(head);
  for (const auto& r : rows) {
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.4f", r.rate());
    std::vector<std::string> fields = {r.period,
                                       week_start.count(r.period) ? week_start[r.period] : std::string(),
                                       r.key,
                                       std::to_string(r.requests),
                                       std::to_string(r.with_findings),
                                       rate,
                                       std::to_string(r.violations)};
    for (const auto& c : categories) {
      const auto it = r.violations_by_category.find(c);
      fields.push_back(std::to_string(it == r.violations_by_category.end() ? 0 : it->second));
    }
    row(fields);
  }
  return out;
}

}  // namespace promptwall::audit
