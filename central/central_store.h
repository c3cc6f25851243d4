// CentralStore: the central PostgreSQL store (central/schema.sql) read as an audit::EventStore,
// so the officers' review page and `promptwall audit query|export|usage --central` see every
// gateway of the fleet: events from pw_events (their full record line from pw_records, exactly as
// the gateway's trail holds it), triage states shared by every officer (the latest pw_triage row
// by time for an event, whichever gateway recorded it), traffic counts from pw_traffic.
//
// Every query is parameterised (PQexecParams; no value is ever spliced into SQL text). The filters
// and pages use the indexes of schema.sql, the readers' ones in the section marked for this file.
// Writes: record_triage, the triage record a review page just made durable in its own gateway's
// trail, inserted as the shipper would insert it (pw_records + pw_triage, ON CONFLICT DO NOTHING
// on (gateway_id, seq)), so it shows at once and the shipper's copy changes nothing; and
// pw_usage_daily(_categories) (violations per local day of `zone`, gateway, unit, service or
// category), brought up to each gateway's last event before usage() and count() of violations
// answer from it (filters it does not keep, such as user or rule, read pw_events). pw_gateways is left to the shipper (its
// shipped_seq must only say what the shipper sent).
//
// Distinct values for the drop-downs (units, rules, categories over millions of events) are kept
// for kDistinctTtl before being read again: a new unit shows within minutes, not at once.
//
// Threading: one object per thread (one libpq connection); the review page uses it under its
// mutex. Errors: std::runtime_error with the server's message (never the password); after a lost
// connection the next call connects again. std::invalid_argument for unknown filter values.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "audit/event_store.h"
#include "audit/local_time.h"

namespace promptwall::central {

class CentralStore final : public audit::EventStore {
 public:
  static constexpr std::chrono::minutes kDistinctTtl{5};

  // `conninfo` as make_conninfo (central_connection.h) builds it; connects at once and makes sure
  // the schema is there (CentralSchema::ensure). `gateway_id` and `province` are this gateway's
  // (fleet.*), for record_triage; a reader that never triages may leave them empty.
  // `zone` is the organisation's: the daily rollup counts in its local days (usage() and count()
  // answer from it for buckets and ranges of whole local days of that zone).
  explicit CentralStore(std::string conninfo, std::string gateway_id = "", std::string province = "",
                        audit::LocalTime zone = audit::LocalTime());
  ~CentralStore() override;
  CentralStore(const CentralStore&) = delete;
  CentralStore& operator=(const CentralStore&) = delete;

  void refresh() override;  // connects again when the connection was lost
  bool indexes_local_trail() const override { return false; }
  std::vector<audit::IndexedEvent> query(const audit::EventFilter& filter, const audit::EventPage& page) const override;
  uint64_t count(const audit::EventFilter& filter) const override;
  std::optional<audit::IndexedEvent> event(std::string_view event_id) const override;
  std::vector<audit::TriageRecord> triage_history(std::string_view event_id) const override;
  void record_triage(uint64_t seq, const std::string& line, const audit::TriageEvent& triage) override;
  void for_each_line(const audit::EventFilter& filter, bool newest_first,
                     const std::function<bool(uint64_t seq, const std::string& line)>& visit) const override;
  void for_each_event(const audit::EventFilter& filter, bool newest_first,
                      const std::function<bool(const audit::IndexedEvent& event)>& visit) const override;
  std::vector<DayCount> per_bucket(const audit::EventFilter& filter, std::string_view by,
                                   const audit::TimeBuckets& buckets) const override;
  std::vector<std::pair<std::string, uint64_t>> top(const audit::EventFilter& filter, std::string_view by,
                                                    size_t n) const override;
  std::vector<std::string> distinct(std::string_view column) const override;
  std::vector<audit::UsageRow> usage(const audit::EventFilter& filter, std::string_view by,
                                     const audit::TimeBuckets& buckets) const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace promptwall::central
