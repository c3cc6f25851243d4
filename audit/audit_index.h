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
#include "audit/event_store.h"

namespace promptwall::audit {

struct SyncReport {
  bool rebuilt = false;
  std::string rebuild_reason;  // why, when rebuilt
  uint64_t records_added = 0;
  uint64_t last_seq = 0;
};

class AuditIndex final : public EventStore {
 public:
  // Opens or creates the index file; throws std::runtime_error naming the file on failure.
  AuditIndex(std::filesystem::path trail_dir, std::filesystem::path index_file);
  ~AuditIndex();
  AuditIndex(const AuditIndex&) = delete;
  AuditIndex& operator=(const AuditIndex&) = delete;

  // Brings the index up to date with the trail (see the class comment).
  SyncReport sync();

  void refresh() override { sync(); }
  std::vector<IndexedEvent> query(const EventFilter& filter, const EventPage& page) const override;
  uint64_t count(const EventFilter& filter) const override;
  std::optional<IndexedEvent> event(std::string_view event_id) const override;
  std::vector<TriageRecord> triage_history(std::string_view event_id) const override;  // oldest first
  bool indexes_local_trail() const override { return true; }
  // The trail holds it already: a sync indexes it.
  void record_triage(uint64_t, const std::string&, const TriageEvent&) override { sync(); }
  // The raw record line of an event (for export), by seq.
  std::optional<std::string> record_line(uint64_t seq) const;

  void for_each_line(const EventFilter& filter, bool newest_first,
                     const std::function<bool(uint64_t seq, const std::string& line)>& visit) const override;
  void for_each_event(const EventFilter& filter, bool newest_first,
                      const std::function<bool(const IndexedEvent& event)>& visit) const override;

  // Per UTC day ("YYYY-MM-DD") of the events' own time, over `filter`.
  std::vector<DayCount> per_day(const EventFilter& filter, std::string_view by /* "category"|"unit" */) const;
  std::vector<DayCount> per_bucket(const EventFilter& filter, std::string_view by,
                                   const TimeBuckets& buckets) const override;
  std::vector<std::pair<std::string, uint64_t>> top(const EventFilter& filter, std::string_view by /* "rule"|"user" */,
                                                    size_t n) const override;
  std::vector<std::string> distinct(std::string_view column) const override;
  // Traffic from the trail's "traffic" records (docs/audit-format.md); one gateway, so the
  // gateway and province filters are ignored.
  std::vector<UsageRow> usage(const EventFilter& filter, std::string_view by, const TimeBuckets& buckets) const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace promptwall::audit
