#include "central/central_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <pqxx/connection>
#include <stdexcept>
#include <utility>

#include "central/central_schema.h"
#include "central/pg_result.h"
#include "central/record_rows.h"

namespace promptwall::central {
namespace {

using audit::Clock;
using audit::EventFilter;

constexpr std::array<std::string_view, 4> kSeverities = {"low", "medium", "high", "critical"};

int severity_rank_of(std::string_view name) {
  for (size_t i = 0; i < kSeverities.size(); ++i)
    if (kSeverities[i] == name) return static_cast<int>(i) + 1;
  return 0;
}
std::string severity_name(long rank) {
  return rank >= 1 && rank <= 4 ? std::string(kSeverities[static_cast<size_t>(rank - 1)]) : std::string();
}

// An instant as PostgreSQL reads it back exactly: microseconds since the epoch.
std::string micros_of(Clock::time_point t) {
  return std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}
constexpr std::string_view kFromMicros = "('epoch'::timestamptz + $::bigint * interval '1 microsecond')";

// ---- libpq, thinly ----


// SQL with "$" placeholders numbered as they are added, and their values (all text; the SQL casts).
struct Query {
  std::string sql;
  std::vector<std::string> params;

  // Appends `fragment`, each '$' in it taking the next of `values`.
  Query& add(std::string_view fragment, std::initializer_list<std::string> values = {}) {
    return add(fragment, values.begin(), values.end());
  }
  Query& add(std::string_view fragment, const std::vector<std::string>& values) {
    return add(fragment, values.begin(), values.end());
  }
  template <typename It>
  Query& add(std::string_view fragment, It value, It end) {
    for (char c : fragment) {
      if (c == '$' && value != end) {
        params.push_back(*value++);
        sql += '$';
        sql += std::to_string(params.size());
      } else {
        sql += c;
      }
    }
    return *this;
  }
};

struct Where {
  std::vector<std::pair<std::string, std::vector<std::string>>> conditions;
  void add(std::string condition, std::vector<std::string> values = {}) {
    conditions.emplace_back(std::move(condition), std::move(values));
  }
  void append_to(Query& q, bool first_is_where = true) const {
    bool first = first_is_where;
    for (const auto& [condition, values] : conditions) {
      q.sql += first ? " WHERE " : " AND ";
      first = false;
      q.add(condition, values);
    }
  }

};

std::string with_micros(std::string_view column, std::string_view op) {
  std::string out(column);
  out += " ";
  out += op;
  out += " ";
  out += kFromMicros;
  return out;
}

// The latest triage record of the event `e` (whichever gateway recorded it).
constexpr std::string_view kLatestTriage =
    "(SELECT t.state FROM pw_triage t WHERE t.target = e.event_id ORDER BY t.time DESC, t.gateway_id DESC, t.seq DESC LIMIT 1)";

Where where_of(const EventFilter& f) {
  Where w;
  if (f.since) w.add(with_micros("e.time", ">="), {micros_of(*f.since)});
  if (f.until) w.add(with_micros("e.time", "<"), {micros_of(*f.until)});
  if (!f.user.empty()) w.add("e.user_name = $", {f.user});
  if (!f.unit.empty()) w.add("e.unit = $", {f.unit});
  if (!f.service.empty()) w.add("e.service = $", {f.service});
  if (!f.decision.empty()) w.add("e.decision = $", {f.decision});
  if (!f.gateway.empty()) w.add("e.gateway_id = $", {f.gateway});
  if (!f.province.empty()) w.add("e.province = $", {f.province});
  if (f.violations_only) w.add("e.violation");
  if (f.justified_only) w.add("e.justified");
  if (!f.severity.empty()) {
    const int rank = severity_rank_of(f.severity);
    if (rank == 0) throw std::invalid_argument("severity '" + f.severity + "' is not one of low, medium, high, critical");
    w.add("e.max_severity >= $::smallint", {std::to_string(rank)});
  }
  if (!f.rule.empty()) w.add("e.rules @> ARRAY[$::text]", {f.rule});
  if (!f.category.empty()) w.add("e.categories @> ARRAY[$::text]", {f.category});
  if (f.triage == "new") {
    w.add("coalesce(" + std::string(kLatestTriage) + ", 'new') = 'new'");
  } else if (!f.triage.empty()) {
    if (!audit::is_triage_state(f.triage))
      throw std::invalid_argument("triage state '" + f.triage + "' is not one of new, confirmed, false_positive, closed");
    w.add(std::string(kLatestTriage) + " = $", {f.triage});
  }
  return w;
}

// '{"2026-...","..."}' for a timestamptz[] parameter: the buckets' edges, exact to the microsecond.
std::string edges_array(const audit::TimeBuckets& b) {
  std::string out = "{";
  for (size_t i = 0; i < b.edges.size(); ++i) {
    if (i) out += ',';
    out += '"';
    out += audit::format_time(b.edges[i]);
    out += '"';
  }
  return out + "}";
}

void check_buckets(const audit::TimeBuckets& b) {
  if (!b.empty() && b.edges.size() != b.labels.size() + 1)
    throw std::invalid_argument("time buckets: one more edge than labels is needed");
  if (!std::is_sorted(b.edges.begin(), b.edges.end())) throw std::invalid_argument("time buckets: edges out of order");
}

// Narrows to the buckets' range; width_bucket(time, edges) is then 1..n.
void restrict_to(Where& w, std::string_view column, const audit::TimeBuckets& b) {
  w.add(with_micros(column, ">="), {micros_of(b.edges.front())});
  w.add(with_micros(column, "<"), {micros_of(b.edges.back())});
}

std::string label_at(const audit::TimeBuckets& b, long long width_bucket) {
  const long long i = width_bucket - 1;
  return i >= 0 && static_cast<size_t>(i) < b.labels.size() ? b.labels[static_cast<size_t>(i)] : std::string();
}

// What a page's row needs: where, which, its severity, its line, its triage state and note.
constexpr std::string_view kSelectEvent =
    "SELECT e.gateway_id, e.seq, e.province, e.max_severity, r.line, tr.state, tr.note, "
    "(extract(epoch from e.time) * 1000000)::bigint AS micros "
    "FROM pw_events e JOIN pw_records r ON r.gateway_id = e.gateway_id AND r.seq = e.seq "
    "LEFT JOIN LATERAL (SELECT t.state, t.note FROM pw_triage t WHERE t.target = e.event_id "
    "ORDER BY t.time DESC, t.gateway_id DESC, t.seq DESC LIMIT 1) tr ON true";

audit::IndexedEvent event_of(const PgResult& r, int row) {
  audit::IndexedEvent out;
  out.gateway = r.text(row, 0);
  out.seq = static_cast<uint64_t>(r.integer(row, 1));
  out.province = r.text(row, 2);
  out.max_severity = severity_name(static_cast<long>(r.integer(row, 3)));
  out.event = audit::decision_from_json(nlohmann::json::parse(r.text(row, 4)));
  if (!r.null(row, 5)) out.triage_state = r.text(row, 5);
  if (!r.null(row, 6)) out.triage_note = r.text(row, 6);
  return out;
}

}  // namespace

struct CentralStore::Impl {
  explicit Impl(audit::LocalTime z) : zone(std::move(z)) {}
  audit::LocalTime zone;  // whose local days the rollup counts in
  std::string conninfo, gateway_id, province;
  PGconn* conn = nullptr;
  struct Cached {
    std::chrono::steady_clock::time_point at;
    std::vector<std::string> values;
  };
  mutable std::map<std::string, Cached, std::less<>> distinct_cache;

  ~Impl() { disconnect(); }

  void disconnect() {
    if (conn) PQfinish(conn);
    conn = nullptr;
  }

  void connect() {
    if (conn && PQstatus(conn) == CONNECTION_OK) return;
    disconnect();
    conn = PQconnectdb(conninfo.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
      const std::string why = error_text();
      disconnect();
      throw std::runtime_error("central store: cannot connect: " + why);
    }
  }

  std::string error_text() const {
    std::string message = conn ? PQerrorMessage(conn) : "no connection";
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    return message;
  }

  // Runs one statement; a failure throws with the server's words (after a lost connection the
  // next call connects again).
  PgResult run(const Query& q) {
    connect();
    std::vector<const char*> values;
    values.reserve(q.params.size());
    for (const auto& p : q.params) values.push_back(p.c_str());
    PgResult r(PQexecParams(conn, q.sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
    if (!r.ok()) {
      const std::string why = error_text();
      if (PQstatus(conn) != CONNECTION_OK) disconnect();
      throw std::runtime_error("central store: " + why);
    }
    return r;
  }
  PgResult run(std::string_view sql, std::initializer_list<std::string> values = {}) {
    Query q;
    q.add(sql, values);
    return run(q);
  }

  std::vector<audit::IndexedEvent> events(const Query& q) {
    const PgResult r = run(q);
    std::vector<audit::IndexedEvent> out;
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(event_of(r, i));
    return out;
  }

  // Brings the daily rollup of `zone` up to every gateway's last event, in one statement (one
  // snapshot: what it counts and the marks it moves agree) under a transaction-scoped advisory
  // lock, so two readers refreshing at once never count an event twice.
  void refresh_rollup() {
    // Most calls find nothing new: say so without the lock (one probe of the primary key per
    // gateway).
    Query probe;
    probe.sql =
        "SELECT count(*) FROM pw_gateways g LEFT JOIN pw_usage_daily_mark m ON m.zone = $1 AND m.gateway_id = g.gateway_id "
        "WHERE (SELECT max(e.seq) FROM pw_events e WHERE e.gateway_id = g.gateway_id) > coalesce(m.seq, 0)";
    probe.params = {zone.zone()};
    if (run(probe).integer(0, 0) == 0) return;
    run("BEGIN");
    try {
      run("SELECT pg_advisory_xact_lock(8103660108752447858)");  // not CentralSchema's key
      // $1 (the zone) is used several times: numbered by hand, not through Query::add.
      static constexpr const char* kRefresh = R"sql(
WITH marks AS (
  SELECT g.gateway_id, coalesce(m.seq, 0) AS done,
         (SELECT max(e.seq) FROM pw_events e WHERE e.gateway_id = g.gateway_id) AS upto
  FROM pw_gateways g LEFT JOIN pw_usage_daily_mark m ON m.zone = $1::text AND m.gateway_id = g.gateway_id),
fresh AS MATERIALIZED (
  SELECT e.gateway_id, (e.time AT TIME ZONE $1::text)::date AS day, e.unit, e.service, e.categories
  FROM marks k CROSS JOIN LATERAL (  -- per gateway, a range of its primary key
    SELECT * FROM pw_events e WHERE e.gateway_id = k.gateway_id AND e.seq > k.done AND e.seq <= k.upto AND e.violation) e),
totals AS (
  INSERT INTO pw_usage_daily AS r (zone, day, gateway_id, unit, service, violations)
  SELECT $1::text, day, gateway_id, unit, service, count(*) FROM fresh GROUP BY 2, 3, 4, 5
  ON CONFLICT (zone, day, gateway_id, unit, service) DO UPDATE SET violations = r.violations + excluded.violations),
per_category AS (
  INSERT INTO pw_usage_daily_categories AS r (zone, day, gateway_id, unit, category, violations)
  SELECT $1::text, day, gateway_id, unit, c, count(*) FROM fresh, unnest(categories) c WHERE c <> '' GROUP BY 2, 3, 4, 5
  ON CONFLICT (zone, day, gateway_id, unit, category) DO UPDATE SET violations = r.violations + excluded.violations)
INSERT INTO pw_usage_daily_mark AS m (zone, gateway_id, seq)
SELECT $1::text, gateway_id, upto FROM marks WHERE upto IS NOT NULL AND upto > done
ON CONFLICT (zone, gateway_id) DO UPDATE SET seq = excluded.seq)sql";
      Query q;
      q.sql = kRefresh;
      q.params = {zone.zone()};
      run(q);
      run("COMMIT");
    } catch (...) {
      if (conn && PQstatus(conn) == CONNECTION_OK) PQclear(PQexec(conn, "ROLLBACK"));
      throw;
    }
  }

  // The local day an instant starts, "YYYY-MM-DD", when it is a local midnight of the zone.
  std::optional<std::string> local_midnight(Clock::time_point t) const {
    const auto day = zone.day_of(t);
    if (zone.start_of(day) != t) return std::nullopt;
    return audit::LocalTime::iso_day(day);
  }

  // Every matching event in order, in keyset pages of `batch` (no long transaction, no OFFSET):
  // the key (time in microseconds, gateway, seq) of the last row starts the next page.
  void walk(const EventFilter& filter, bool newest_first, const std::function<bool(const PgResult&, int)>& visit) {
    constexpr int kBatch = 1000;
    std::optional<std::array<std::string, 3>> after;
    const std::string dir = newest_first ? "DESC" : "ASC";
    for (;;) {
      Where w = where_of(filter);
      if (after)
        w.add(std::string("(e.time, e.gateway_id, e.seq) ") + (newest_first ? "<" : ">") + " (" + std::string(kFromMicros) +
                  ", $, $::bigint)",
              {(*after)[0], (*after)[1], (*after)[2]});
      Query q;
      q.add(kSelectEvent);
      w.append_to(q);
      q.add(" ORDER BY e.time " + dir + ", e.gateway_id " + dir + ", e.seq " + dir + " LIMIT $", {std::to_string(kBatch)});
      const PgResult r = run(q);
      for (int i = 0; i < r.rows(); ++i)
        if (!visit(r, i)) return;
      if (r.rows() < kBatch) return;
      const int last = r.rows() - 1;
      after = std::array<std::string, 3>{r.text(last, 7), r.text(last, 0), r.text(last, 1)};
    }
  }
};

CentralStore::CentralStore(std::string conninfo, std::string gateway_id, std::string province, audit::LocalTime zone)
    : impl_(std::make_unique<Impl>(std::move(zone))) {
  impl_->conninfo = std::move(conninfo);
  impl_->gateway_id = std::move(gateway_id);
  impl_->province = std::move(province);
  try {
    // The schema (and the readers' indexes) before the first read; idempotent, under A's lock.
    pqxx::connection schema_connection(impl_->conninfo);
    CentralSchema::ensure(schema_connection);
  } catch (const pqxx::failure& e) {
    std::string why = e.what();
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw std::runtime_error("central store: " + why);
  }
  impl_->connect();
}

CentralStore::~CentralStore() = default;

void CentralStore::refresh() { impl_->connect(); }

std::vector<audit::IndexedEvent> CentralStore::query(const EventFilter& filter, const audit::EventPage& page) const {
  Query q;
  q.add(kSelectEvent);
  where_of(filter).append_to(q);
  const std::string dir = page.newest_first ? "DESC" : "ASC";
  q.add(" ORDER BY e.time " + dir + ", e.gateway_id " + dir + ", e.seq " + dir + " LIMIT $::bigint OFFSET $::bigint",
        {std::to_string(std::min<size_t>(page.limit, INT64_MAX)), std::to_string(std::min<size_t>(page.offset, INT64_MAX))});
  return impl_->events(q);
}

namespace {

// Whether the daily rollup can answer for these violations: it keeps local days, gateway (so
// province, through pw_gateways), unit, service (totals) and category (per category), nothing else.
bool rollup_answers(const EventFilter& f) {
  return f.user.empty() && f.rule.empty() && f.decision.empty() && f.severity.empty() && f.triage.empty() &&
         !f.justified_only && (f.category.empty() || f.service.empty());
}

// The rollup's conditions for `f` (alias r) but time; the category one only on the categories table.
Where rollup_where(const EventFilter& f, bool categories) {
  Where w;
  if (!f.unit.empty()) w.add("r.unit = $", {f.unit});
  if (!f.service.empty() && !categories) w.add("r.service = $", {f.service});
  if (!f.gateway.empty()) w.add("r.gateway_id = $", {f.gateway});
  if (!f.province.empty()) w.add("r.gateway_id IN (SELECT gateway_id FROM pw_gateways WHERE province = $)", {f.province});
  if (!f.category.empty() && categories) w.add("r.category = $", {f.category});
  return w;
}

}  // namespace

uint64_t CentralStore::count(const EventFilter& filter) const {
  if (filter.violations_only && rollup_answers(filter)) {
    // The list page's total over millions of violations: from the daily rollup, when the time
    // range is whole local days (the page's from/to are).
    const auto since = filter.since ? impl_->local_midnight(*filter.since) : std::optional<std::string>("0001-01-01");
    const auto until = filter.until ? impl_->local_midnight(*filter.until) : std::optional<std::string>("9999-12-31");
    if (since && until) {
      impl_->refresh_rollup();
      const bool categories = !filter.category.empty();
      Where w = rollup_where(filter, categories);
      w.add("r.zone = $", {impl_->zone.zone()});
      w.add("r.day >= $::date", {*since});
      w.add("r.day < $::date", {*until});
      Query q;
      q.add(std::string("SELECT coalesce(sum(r.violations), 0)::bigint FROM ") +
            (categories ? "pw_usage_daily_categories r" : "pw_usage_daily r"));
      w.append_to(q);
      return static_cast<uint64_t>(impl_->run(q).integer(0, 0));
    }
  }
  Query q;
  q.add("SELECT count(*) FROM pw_events e");
  where_of(filter).append_to(q);
  return static_cast<uint64_t>(impl_->run(q).integer(0, 0));
}

std::optional<audit::IndexedEvent> CentralStore::event(std::string_view event_id) const {
  Query q;
  q.add(kSelectEvent).add(" WHERE e.event_id = $", {std::string(event_id)});
  auto found = impl_->events(q);
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

std::vector<audit::TriageRecord> CentralStore::triage_history(std::string_view event_id) const {
  const PgResult r = impl_->run(
      "SELECT gateway_id, seq, event_id, target, (extract(epoch from time) * 1000)::bigint, state, note, officer, client "
      "FROM pw_triage WHERE target = $ ORDER BY time, gateway_id, seq",
      {std::string(event_id)});
  std::vector<audit::TriageRecord> out;
  for (int i = 0; i < r.rows(); ++i) {
    audit::TriageRecord t;
    t.gateway = r.text(i, 0);
    t.seq = static_cast<uint64_t>(r.integer(i, 1));
    t.triage.event_id = r.text(i, 2);
    t.triage.target = r.text(i, 3);
    t.triage.time = Clock::time_point(std::chrono::milliseconds(r.integer(i, 4)));
    t.triage.state = r.text(i, 5);
    t.triage.note = r.text(i, 6);
    t.triage.officer = r.text(i, 7);
    t.triage.client = r.text(i, 8);
    out.push_back(std::move(t));
  }
  return out;
}

void CentralStore::record_triage(uint64_t seq, const std::string& line, const audit::TriageEvent& triage) {
  if (impl_->gateway_id.empty())
    throw std::runtime_error("central store: a triage needs this gateway's id (fleet.gateway_id)");
  // The very rows the shipper makes of this line (record_rows.h), so its later copy is identical.
  const RecordRows rows = rows_of(seq, line);
  if (!rows.triage || rows.triage->target != triage.target)
    throw std::runtime_error("central store: record " + std::to_string(seq) + " is not the triage of " + triage.target +
                             (rows.problem.empty() ? "" : ": " + rows.problem));
  const auto& t = *rows.triage;
  const std::string gw = impl_->gateway_id, s = std::to_string(seq);
  impl_->run("BEGIN");
  try {
    Query rec;
    rec.add("INSERT INTO pw_records (gateway_id, seq, type, time, line) VALUES ($, $::bigint, $, $::timestamptz, $) "
            "ON CONFLICT DO NOTHING",
            {gw, s, rows.record.type, rows.record.time.value_or(t.time), rows.record.line});
    impl_->run(rec);
    impl_->run("INSERT INTO pw_triage (gateway_id, seq, event_id, target, time, state, note, officer, client) "
               "VALUES ($, $::bigint, $, $, $::timestamptz, $, $, $, $) ON CONFLICT DO NOTHING",
               {gw, s, t.event_id, t.target, t.time, t.state, t.note, t.officer, t.client});
    impl_->run("COMMIT");
  } catch (...) {
    if (impl_->conn && PQstatus(impl_->conn) == CONNECTION_OK) PQclear(PQexec(impl_->conn, "ROLLBACK"));
    throw;
  }
}

void CentralStore::for_each_line(const EventFilter& filter, bool newest_first,
                                 const std::function<bool(uint64_t, const std::string&)>& visit) const {
  impl_->walk(filter, newest_first, [&](const PgResult& r, int i) {
    return visit(static_cast<uint64_t>(r.integer(i, 1)), r.text(i, 4));
  });
}

void CentralStore::for_each_event(const EventFilter& filter, bool newest_first,
                                  const std::function<bool(const audit::IndexedEvent&)>& visit) const {
  impl_->walk(filter, newest_first, [&](const PgResult& r, int i) { return visit(event_of(r, i)); });
}

std::vector<CentralStore::DayCount> CentralStore::per_bucket(const EventFilter& filter, std::string_view by,
                                                             const audit::TimeBuckets& buckets) const {
  check_buckets(buckets);
  if (buckets.empty()) return {};
  Where w = where_of(filter);
  restrict_to(w, "e.time", buckets);
  Query q;
  if (by == "category") {
    // categories are distinct per event: an event counts once per category.
    q.add("SELECT width_bucket(e.time, $::timestamptz[]) AS b, c AS key, count(*) FROM pw_events e, unnest(e.categories) c",
          {edges_array(buckets)});
    if (!filter.category.empty()) w.add("c = $", {filter.category});
  } else if (by == "unit") {
    q.add("SELECT width_bucket(e.time, $::timestamptz[]) AS b, e.unit AS key, count(*) FROM pw_events e", {edges_array(buckets)});
  } else {
    throw std::invalid_argument("per_bucket: by '" + std::string(by) + "' is not category or unit");
  }
  w.append_to(q);
  q.add(" GROUP BY b, key ORDER BY b, key");
  const PgResult r = impl_->run(q);
  std::vector<DayCount> out;
  for (int i = 0; i < r.rows(); ++i)
    out.push_back({label_at(buckets, r.integer(i, 0)), r.text(i, 1), static_cast<uint64_t>(r.integer(i, 2))});
  return out;
}

std::vector<std::pair<std::string, uint64_t>> CentralStore::top(const EventFilter& filter, std::string_view by,
                                                                size_t n) const {
  Where w = where_of(filter);
  Query q;
  if (by == "rule") {
    q.add("SELECT k, count(*) AS c FROM pw_events e, unnest(e.rules) k");
    if (!filter.rule.empty()) w.add("k = $", {filter.rule});
  } else if (by == "user") {
    q.add("SELECT e.user_name AS k, count(*) AS c FROM pw_events e");
    w.add("e.user_name <> ''");  // requests with no known user are nobody's
  } else {
    throw std::invalid_argument("top: by '" + std::string(by) + "' is not rule or user");
  }
  w.append_to(q);
  q.add(" GROUP BY k ORDER BY c DESC, k LIMIT $::bigint", {std::to_string(std::min<size_t>(n, INT64_MAX))});
  const PgResult r = impl_->run(q);
  std::vector<std::pair<std::string, uint64_t>> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, 0), static_cast<uint64_t>(r.integer(i, 1)));
  return out;
}

std::vector<std::string> CentralStore::distinct(std::string_view column) const {
  std::string sql;
  // Columns with an index leading on them: a skip scan, one index probe per distinct value.
  auto skip_scan = [](const std::string& c) {
    return "WITH RECURSIVE d(v) AS (SELECT min(" + c + ") FROM pw_events WHERE " + c + " > '' UNION ALL SELECT (SELECT min(" +
           c + ") FROM pw_events WHERE " + c + " > d.v) FROM d WHERE d.v IS NOT NULL) SELECT v FROM d WHERE v IS NOT NULL";
  };
  if (column == "unit") sql = skip_scan("unit");
  else if (column == "service") sql = skip_scan("service");
  else if (column == "user") sql = skip_scan("user_name");
  else if (column == "province") sql = skip_scan("province");
  else if (column == "gateway") sql = "SELECT gateway_id FROM pw_gateways ORDER BY 1";  // every shipping gateway
  else if (column == "rule") sql = "SELECT DISTINCT k FROM pw_events, unnest(rules) k WHERE k > '' ORDER BY 1";
  else if (column == "category") sql = "SELECT DISTINCT k FROM pw_events, unnest(categories) k WHERE k > '' ORDER BY 1";
  else
    throw std::invalid_argument("distinct: '" + std::string(column) +
                                "' is not service, unit, user, rule, category, gateway or province");
  const auto now = std::chrono::steady_clock::now();
  if (auto it = impl_->distinct_cache.find(column); it != impl_->distinct_cache.end() && now - it->second.at < kDistinctTtl)
    return it->second.values;
  const PgResult r = impl_->run(sql);
  std::vector<std::string> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
  impl_->distinct_cache[std::string(column)] = Impl::Cached{now, out};
  return out;
}

std::vector<audit::UsageRow> CentralStore::usage(const EventFilter& filter, std::string_view by,
                                                 const audit::TimeBuckets& buckets) const {
  if (by != "unit" && by != "service") throw std::invalid_argument("usage: by '" + std::string(by) + "' is not unit or service");
  check_buckets(buckets);
  if (buckets.empty()) return {};
  const std::string key(by), edges = edges_array(buckets);
  std::map<std::pair<long long, std::string>, audit::UsageRow> rows;
  auto row = [&](long long b, std::string k) -> audit::UsageRow& {
    auto& r = rows[{b, k}];
    r.period = label_at(buckets, b);
    r.key = std::move(k);
    return r;
  };
  {
    // The traffic counts: a province is where the gateway is (pw_gateways).
    Where w;
    restrict_to(w, "t.hour", buckets);
    if (filter.since) w.add(with_micros("t.hour", ">="), {micros_of(*filter.since)});
    if (filter.until) w.add(with_micros("t.hour", "<"), {micros_of(*filter.until)});
    if (!filter.unit.empty()) w.add("t.unit = $", {filter.unit});
    if (!filter.service.empty()) w.add("t.service = $", {filter.service});
    if (!filter.gateway.empty()) w.add("t.gateway_id = $", {filter.gateway});
    if (!filter.province.empty())
      w.add("t.gateway_id IN (SELECT gateway_id FROM pw_gateways WHERE province = $)", {filter.province});
    Query q;
    q.add("SELECT width_bucket(t.hour, $::timestamptz[]) AS b, t." + key +
              " AS k, sum(t.requests)::bigint, sum(t.with_findings)::bigint FROM pw_traffic t",
          {edges});
    w.append_to(q);
    q.add(" GROUP BY b, k");
    const PgResult r = impl_->run(q);
    for (int i = 0; i < r.rows(); ++i) {
      auto& u = row(r.integer(i, 0), r.text(i, 1));
      u.requests += static_cast<uint64_t>(r.integer(i, 2));
      u.with_findings += static_cast<uint64_t>(r.integer(i, 3));
    }
  }
  // The rollup answers filters on what it keeps (time on its 15-minute bins, unit, service,
  // gateway, province, category); any other filter reads the events themselves.
  // The daily rollup answers when every edge is a local midnight of its zone and the filters are
  // ones it keeps (by service with a category breakdown is not: its categories have no service).
  std::vector<std::string> days;
  for (const auto& edge : buckets.edges)
    if (auto d = impl_->local_midnight(edge)) days.push_back(*d);
  const bool whole_days = days.size() == buckets.edges.size() && (!filter.since || impl_->local_midnight(*filter.since)) &&
                          (!filter.until || impl_->local_midnight(*filter.until));
  if (whole_days && rollup_answers(filter) && key == "unit") {
    impl_->refresh_rollup();
    std::string day_edges = "{";
    for (size_t i = 0; i < days.size(); ++i) day_edges += (i ? "," : "") + days[i];
    day_edges += "}";
    for (const bool categories : {false, true}) {
      if (!categories && !filter.category.empty()) continue;  // the totals are the category's rows then
      Where w = rollup_where(filter, categories);
      w.add("r.zone = $", {impl_->zone.zone()});
      w.add("r.day >= $::date", {days.front()});
      w.add("r.day < $::date", {days.back()});
      if (filter.since) w.add("r.day >= $::date", {*impl_->local_midnight(*filter.since)});
      if (filter.until) w.add("r.day < $::date", {*impl_->local_midnight(*filter.until)});
      Query q;
      q.add(std::string("SELECT width_bucket(r.day, $::date[]) AS b, r.unit, ") + (categories ? "r.category" : "''") +
                ", sum(r.violations)::bigint FROM " + (categories ? "pw_usage_daily_categories r" : "pw_usage_daily r"),
            {day_edges});
      w.append_to(q);
      q.add(" GROUP BY 1, 2, 3");
      const PgResult r = impl_->run(q);
      for (int i = 0; i < r.rows(); ++i) {
        auto& u = row(r.integer(i, 0), r.text(i, 1));
        const auto n = static_cast<uint64_t>(r.integer(i, 3));
        if (!categories) {
          u.violations += n;
          continue;
        }
        u.violations_by_category[r.text(i, 2)] += n;
        if (!filter.category.empty()) u.violations += n;  // the events having that category
      }
    }
  } else {
    // Violations per bucket and key, and per category, in one pass over the events: one row per
    // (event, category) (or one with no category), the event counted on its first one.
    EventFilter violations = filter;
    violations.violations_only = true;
    Where w = where_of(violations);
    restrict_to(w, "e.time", buckets);
    Query q;
    q.add("SELECT width_bucket(e.time, $::timestamptz[]) AS b, e." + key +
              " AS k, u.c, count(*) FILTER (WHERE coalesce(u.n, 1) = 1), count(u.c) "
              "FROM pw_events e LEFT JOIN LATERAL unnest(e.categories) WITH ORDINALITY AS u(c, n) ON true",
          {edges});
    w.append_to(q);
    q.add(" GROUP BY b, k, u.c");
    const PgResult r = impl_->run(q);
    for (int i = 0; i < r.rows(); ++i) {
      auto& u = row(r.integer(i, 0), r.text(i, 1));
      u.violations += static_cast<uint64_t>(r.integer(i, 3));
      const auto per_category = static_cast<uint64_t>(r.integer(i, 4));
      if (r.null(i, 2) || per_category == 0) continue;
      const std::string category = r.text(i, 2);
      if (filter.category.empty() || category == filter.category) u.violations_by_category[category] += per_category;
    }
  }
  std::vector<audit::UsageRow> out;
  out.reserve(rows.size());
  for (auto& [k, r] : rows) out.push_back(std::move(r));
  return out;
}

}  // namespace promptwall::central
