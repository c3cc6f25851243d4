// AuditIndex: a SQLite index beside the trail (default <trail>/index.sqlite) that makes queries
// fast at millions of events. The trail files stay the record of truth: the index is rebuilt from
// them when it is missing, was built by another schema, or no longer matches them (a file it
// indexed shrank or its last indexed record's hash differs), and it never holds anything the
// trail does not (triage states come from the trail's "triage" records, last one wins).
//
// Events are located in the trail, not copied: each row keeps its record's file and byte range, so
// the index stays a fraction of the trail's size and an event read back is the trail's own bytes
// (each read checks the line still carries the indexed seq; a mismatch asks for a sync).
//
// Threading: one AuditIndex per thread; several processes may share the file (WAL mode, a busy
// timeout): sync() indexes inside one write transaction, so a gateway and `promptwall audit query`
// never index the same records twice.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
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
};

struct EventPage {
  size_t limit = 50, offset = 0;
  bool newest_first = true;
};

struct IndexedEvent {
  uint64_t seq = 0;
  DecisionEvent event;
  std::string triage_state = "new";  // the latest triage record's, or "new"
  std::string triage_note;
  std::string max_severity;          // of its findings ("" when none)
};

struct TriageRecord {
  uint64_t seq = 0;
  TriageEvent triage;
};

struct SyncReport {
  bool rebuilt = false;
  std::string rebuild_reason;  // why, when rebuilt
  uint64_t records_added = 0;
  uint64_t last_seq = 0;
};

class AuditIndex {
 public:
  // Opens or creates the index file; throws std::runtime_error naming the file on failure.
  AuditIndex(std::filesystem::path trail_dir, std::filesystem::path index_file);
  ~AuditIndex();
  AuditIndex(const AuditIndex&) = delete;
  AuditIndex& operator=(const AuditIndex&) = delete;

  // Brings the index up to date with the trail (see the class comment).
  SyncReport sync();

  std::vector<IndexedEvent> query(const EventFilter& filter, const EventPage& page) const;
  uint64_t count(const EventFilter& filter) const;
  std::optional<IndexedEvent> event(std::string_view event_id) const;
  std::vector<TriageRecord> triage_history(std::string_view event_id) const;  // oldest first
  // The raw record line of an event (for export), by seq.
  std::optional<std::string> record_line(uint64_t seq) const;

  // Every matching event in order (oldest first unless `newest_first`), one at a time without
  // holding the result: what `audit export` streams. `visit` gets the event's seq and its record
  // line exactly as in the trail; returning false stops.
  void for_each_line(const EventFilter& filter, bool newest_first,
                     const std::function<bool(uint64_t seq, const std::string& line)>& visit) const;
  // The same with each event read back (for CSV).
  void for_each_event(const EventFilter& filter, bool newest_first,
                      const std::function<bool(const IndexedEvent& event)>& visit) const;

  // For the review page's charts; all over `filter` (usually a time range and violations_only).
  struct DayCount {
    std::string day;  // "YYYY-MM-DD" (UTC)
    std::string key;  // category or unit
    uint64_t count = 0;
  };
  std::vector<DayCount> per_day(const EventFilter& filter, std::string_view by /* "category"|"unit" */) const;
  std::vector<std::pair<std::string, uint64_t>> top(const EventFilter& filter, std::string_view by /* "rule"|"user" */,
                                                    size_t n) const;
  // Distinct non-empty values seen, sorted, for the filter drop-downs; std::invalid_argument for
  // another column name.
  std::vector<std::string> distinct(std::string_view column /* service|unit|user|rule|category */) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace promptwall::audit
