// EventStore: what the officers' review page (ReviewSite) and `promptwall audit query|export|usage`
// read about decision events, triage and traffic, whatever holds them. Two stores implement it:
//   - AuditIndex (audit_index.h): SQLite beside one gateway's trail, the default;
//   - central::CentralStore (central/central_store.h): the central PostgreSQL store every gateway
//     ships to, across the fleet.
// The trail stays the truth in both: a store holds what trails hold, nothing more, and a triage is
// first a record in the local trail (ReviewSite writes it through AuditWriter) before a store is
// told of it (record_triage).
//
// Filters: every EventFilter field is "any" when empty. `gateway` and `province` name where an
// event was decided; the SQLite store holds one gateway and ignores them (its events carry "" for
// both). Time buckets (per_bucket, usage) are given by the caller as instants, so day and week
// boundaries follow the organisation's time zone (local_time.h) without the store knowing it.
//
// Errors: std::invalid_argument for a filter or column the store does not know (a severity or
// triage state outside their lists, `by` values); std::runtime_error when the store cannot be read
// (naming the file or the server). Threading: one store per thread (or under the caller's mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/event.h"

namespace promptwall::audit {

struct EventFilter {
  std::optional<Clock::time_point> since, until;  // [since, until)
  std::string user, unit, service, rule, category, decision, severity, triage;  // empty = any
  // severity: the event's highest finding severity is at least this (low < medium < high <
  // critical); std::invalid_argument for another name. triage: the latest state ("new" also
  // matches an event never triaged). rule, category: some finding has it.
  bool violations_only = false;  // decision other than allow
  // Only requests that went on with a justification (the coaching step: justification.via set).
  bool justified_only = false;
  // Where the event was decided (fleet.gateway_id, fleet.province); ignored by the one-gateway
  // SQLite store.
  std::string gateway, province;
};

struct EventPage {
  size_t limit = 50, offset = 0;
  bool newest_first = true;
};

struct IndexedEvent {
  uint64_t seq = 0;                  // in its gateway's trail
  DecisionEvent event;
  std::string triage_state = "new";  // the latest triage record's, or "new"
  std::string triage_note;
  std::string max_severity;          // of its findings ("" when none)
  std::string gateway, province;     // "" in the one-gateway store
};

struct TriageRecord {
  uint64_t seq = 0;
  TriageEvent triage;
  std::string gateway;  // whose trail holds the record ("" in the one-gateway store)
};

// Consecutive time ranges [edges[i], edges[i+1]), each with its label (a local day
// "YYYY-MM-DD", a week "2026-W49"). edges.size() == labels.size() + 1 when not empty.
struct TimeBuckets {
  std::vector<Clock::time_point> edges;
  std::vector<std::string> labels;
  bool empty() const { return labels.empty(); }
};

// One row of the usage table: one bucket (week) × key (unit or service).
struct UsageRow {
  std::string period;  // the bucket's label
  std::string key;     // the unit or service ("" when unknown)
  uint64_t requests = 0;       // every request decided (the traffic counts)
  uint64_t with_findings = 0;  // those with at least one finding (the traffic counts)
  uint64_t violations = 0;     // decision events other than allow
  std::map<std::string, uint64_t> violations_by_category;  // an event counts once per category
  // Share of requests with findings; 0 when there were no requests.
  double rate() const { return requests == 0 ? 0.0 : static_cast<double>(with_findings) / static_cast<double>(requests); }
};

class EventStore {
 public:
  virtual ~EventStore() = default;

  // Brings the store up to date before a page (the SQLite index syncs with the trail; the central
  // store is kept current by the shippers and does nothing).
  virtual void refresh() = 0;

  virtual std::vector<IndexedEvent> query(const EventFilter& filter, const EventPage& page) const = 0;
  virtual uint64_t count(const EventFilter& filter) const = 0;
  virtual std::optional<IndexedEvent> event(std::string_view event_id) const = 0;
  virtual std::vector<TriageRecord> triage_history(std::string_view event_id) const = 0;  // oldest first

  // Whether the store is the index of the local trail itself (a refresh() shows a triage just
  // written); otherwise ReviewSite reads the triage record back from the trail for record_triage.
  virtual bool indexes_local_trail() const = 0;
  // A triage record became durable in the local trail (`seq`, `line` exactly as written): make it
  // visible now. Idempotent: the central store keys it on (its gateway, seq), as the shipper does,
  // so the shipper's later copy changes nothing.
  virtual void record_triage(uint64_t seq, const std::string& line, const TriageEvent& triage) = 0;

  // Every matching event in order (oldest first unless `newest_first`), one at a time without
  // holding the result: what `audit export` streams. `visit` gets the event's seq and its record
  // line exactly as in the trail; returning false stops.
  virtual void for_each_line(const EventFilter& filter, bool newest_first,
                             const std::function<bool(uint64_t seq, const std::string& line)>& visit) const = 0;
  // The same with each event read back (for CSV).
  virtual void for_each_event(const EventFilter& filter, bool newest_first,
                              const std::function<bool(const IndexedEvent& event)>& visit) const = 0;

  // For the charts; all over `filter` (usually violations_only) within the buckets' range.
  struct DayCount {
    std::string day;  // the bucket's label
    std::string key;  // category or unit
    uint64_t count = 0;
  };
  virtual std::vector<DayCount> per_bucket(const EventFilter& filter, std::string_view by /* "category"|"unit" */,
                                           const TimeBuckets& buckets) const = 0;
  virtual std::vector<std::pair<std::string, uint64_t>> top(const EventFilter& filter,
                                                            std::string_view by /* "rule"|"user" */, size_t n) const = 0;
  // Distinct non-empty values seen, sorted, for the filter drop-downs; std::invalid_argument for
  // another column name. gateway and province give nothing in the one-gateway store.
  virtual std::vector<std::string> distinct(
      std::string_view column /* service|unit|user|rule|category|gateway|province */) const = 0;

  // Usage and violations per bucket and `by` ("unit" or "service"), rows sorted by period then
  // key. Requests and with_findings come from the traffic counts (their hour's start decides the
  // bucket), which know only time, unit, service and gateway: the other filters narrow the
  // violation counts only. Keys with no requests and no violations in a bucket have no row.
  virtual std::vector<UsageRow> usage(const EventFilter& filter, std::string_view by,
                                      const TimeBuckets& buckets) const = 0;
};

}  // namespace promptwall::audit
