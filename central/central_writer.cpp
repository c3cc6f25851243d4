#include "central/central_writer.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <pqxx/connection>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "central/central_schema.h"
#include "central/pg_result.h"
#include "central/record_rows.h"

namespace promptwall::central {
namespace {

using Value = std::optional<std::string>;  // nullopt is SQL NULL
using Row = std::vector<Value>;

struct Table {
  const char* name;     // the store's table
  const char* staging;  // its temporary staging table
  const char* columns;
  std::vector<Row> rows;
};

std::string number(int64_t v) { return std::to_string(v); }
std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
std::string boolean(bool v) { return v ? "true" : "false"; }

// A PostgreSQL array literal of text: {"a","b"}, each element quoted with \ and " escaped.
std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// One field of COPY's text format: \N for NULL; backslash, tab, newline and CR escaped.
void append_copy_field(std::string& out, const Value& v) {
  if (!v) {
    out += "\\N";
    return;
  }
  for (char c : *v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
}

// An SQL literal (standard_conforming_strings, on since PostgreSQL 9.1: only ' is special). Its
// type is the target column's (INSERT ... VALUES resolves untyped literals against it).
void append_literal(std::string& out, const Value& v) {
  if (!v) {
    out += "NULL";
    return;
  }
  out += '\'';
  for (char c : *v) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
}


}  // namespace

struct CentralWriter::Impl {
  PGconn* conn = nullptr;
  Method method;
  bool broken = false;

  ~Impl() {
    if (conn) PQfinish(conn);
  }

  [[noreturn]] void fail(const std::string& what) {
    std::string message = conn ? PQerrorMessage(conn) : "";
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    if (!conn || PQstatus(conn) != CONNECTION_OK) broken = true;
    throw CentralError(what + (message.empty() ? "" : ": " + message));
  }

  PgResult exec(const std::string& sql, const char* what) {
    PgResult r(PQexec(conn, sql.c_str()));
    if (r.status() != PGRES_COMMAND_OK && r.status() != PGRES_TUPLES_OK) fail(what);
    return r;
  }

  PgResult exec_params(const char* sql, const std::vector<std::string>& params, const char* what) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    PgResult r(PQexecParams(conn, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
    if (r.status() != PGRES_COMMAND_OK && r.status() != PGRES_TUPLES_OK) fail(what);
    return r;
  }

  // COPY of the table's rows into `target` (its staging table, or the table itself).
  void copy(const Table& t, const char* target) {
    const std::string sql = std::string("COPY ") + target + " (" + t.columns + ") FROM STDIN";
    {
      PgResult r(PQexec(conn, sql.c_str()));
      if (r.status() != PGRES_COPY_IN) fail(std::string("COPY into ") + target);
    }
    std::string data;
    for (const Row& row : t.rows) {
      for (size_t i = 0; i < row.size(); ++i) {
        if (i) data += '\t';
        append_copy_field(data, row[i]);
      }
      data += '\n';
      if (data.size() >= (1u << 20)) {
        if (PQputCopyData(conn, data.data(), static_cast<int>(data.size())) != 1) fail("COPY data");
        data.clear();
      }
    }
    if (!data.empty() && PQputCopyData(conn, data.data(), static_cast<int>(data.size())) != 1) fail("COPY data");
    if (PQputCopyEnd(conn, nullptr) != 1) fail("COPY end");
    bool ok = true;
    while (PGresult* r = PQgetResult(conn)) {
      if (PQresultStatus(r) != PGRES_COMMAND_OK) ok = false;
      PQclear(r);
    }
    if (!ok) fail(std::string("COPY into ") + target);
  }

  // Into the store's table, skipping keys already there; returns the rows inserted when
  // `returning` names a column.
  int insert(const Table& t, const char* returning, const char* what) {
    if (t.rows.empty()) return 0;
    std::string sql = std::string("INSERT INTO ") + t.name + " (" + t.columns + ") ";
    if (method != Method::multi_row_insert) {
      copy(t, t.staging);
      sql += std::string("SELECT ") + t.columns + " FROM " + t.staging;
    } else {
      sql += "VALUES ";
      for (size_t r = 0; r < t.rows.size(); ++r) {
        sql += r ? ",(" : "(";
        for (size_t i = 0; i < t.rows[r].size(); ++i) {
          if (i) sql += ',';
          append_literal(sql, t.rows[r][i]);
        }
        sql += ')';
      }
    }
    sql += " ON CONFLICT DO NOTHING";
    if (returning) sql += std::string(" RETURNING ") + returning;
    PgResult r = exec(sql, what);
    return r.rows();
  }
};

CentralWriter::CentralWriter(const std::string& conninfo, Method method) : impl_(std::make_unique<Impl>()) {
  impl_->method = method;
  try {
    pqxx::connection schema_connection(conninfo);
    CentralSchema::ensure(schema_connection);
  } catch (const CentralError&) {
    throw;
  } catch (const std::exception& e) {
    std::string why = e.what();
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw CentralError("cannot prepare the central store: " + why);
  }
  impl_->conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(impl_->conn) != CONNECTION_OK) impl_->fail("cannot connect to the central store");
  // The staging tables live as long as the session and empty themselves at every COMMIT.
  impl_->exec("SET client_min_messages = warning", "session settings");
  impl_->exec("CREATE TEMP TABLE pw_stage_records (LIKE pw_records) ON COMMIT DELETE ROWS;"
              "CREATE TEMP TABLE pw_stage_events (LIKE pw_events) ON COMMIT DELETE ROWS;"
              "CREATE TEMP TABLE pw_stage_triage (LIKE pw_triage) ON COMMIT DELETE ROWS;"
              "CREATE TEMP TABLE pw_stage_traffic (LIKE pw_traffic) ON COMMIT DELETE ROWS",
              "staging tables");
}

CentralWriter::~CentralWriter() = default;

int CentralWriter::socket() const { return impl_->conn ? PQsocket(impl_->conn) : -1; }
bool CentralWriter::broken() const { return impl_->broken || !impl_->conn || PQstatus(impl_->conn) != CONNECTION_OK; }

CentralWriteResult CentralWriter::write(const CentralBatch& batch) {
  Impl& d = *impl_;
  if (broken()) throw CentralError("the connection to the central store is closed");
  CentralWriteResult result;
  const std::string gateway = storable_text(batch.gateway_id);
  const std::string province = storable_text(batch.province);

  Table records{"pw_records", "pw_stage_records", "gateway_id, seq, type, time, line", {}};
  Table events{"pw_events", "pw_stage_events",
               "gateway_id, seq, event_id, time, province, request_id, client, user_name, unit, groups, service, "
               "method, path, decision, mode, reason, forwarded, max_severity, violation, justified, rules, "
               "categories, ruleset, rules_bundle, bytes_in, bytes_forwarded, latency_ms, scan_ms",
               {}};
  Table triage{"pw_triage", "pw_stage_triage", "gateway_id, seq, event_id, target, time, state, note, officer, client",
               {}};
  Table traffic{"pw_traffic", "pw_stage_traffic", "gateway_id, seq, hour, unit, service, requests, with_findings", {}};
  std::unordered_map<uint64_t, const std::string*> lines;  // for the conflict check
  records.rows.reserve(batch.records.size());
  std::vector<RecordRows> all;
  all.reserve(batch.records.size());
  for (const auto& shipped : batch.records) {
    RecordRows rows = rows_of(shipped.seq, shipped.line);
    const std::string seq = std::to_string(shipped.seq);
    records.rows.push_back({gateway, seq, rows.record.type, rows.record.time, rows.record.line});
    if (const auto& e = rows.event) {
      events.rows.push_back({gateway, seq, e->event_id, e->time, province, e->request_id, e->client, e->user_name,
                             e->unit, text_array(e->groups), e->service, e->method, e->path, e->decision, e->mode,
                             e->reason, boolean(e->forwarded), number(int64_t{e->max_severity}),
                             boolean(e->violation), boolean(e->justified), text_array(e->rules),
                             text_array(e->categories), e->ruleset, e->rules_bundle, number(e->bytes_in),
                             number(e->bytes_forwarded), number(e->latency_ms), number(e->scan_ms)});
    }
    if (const auto& t = rows.triage)
      triage.rows.push_back({gateway, seq, t->event_id, t->target, t->time, t->state, t->note, t->officer, t->client});
    for (const auto& c : rows.traffic)
      traffic.rows.push_back(
          {gateway, seq, c.hour, c.unit, c.service, number(c.requests), number(c.with_findings)});
    if (!rows.problem.empty()) result.problems.push_back("record " + seq + ": " + rows.problem);
    result.committed_seq = std::max(result.committed_seq, shipped.seq);
    all.push_back(std::move(rows));
  }

  d.exec("BEGIN", "BEGIN");
  try {
    // INSERT ... ON CONFLICT DO NOTHING (from the staging tables, or multi-row).
    const int inserted = d.insert(records, "seq", "insert into pw_records");
    result.inserted = static_cast<uint64_t>(inserted);
    if (static_cast<size_t>(inserted) < batch.records.size()) {
      // Some keys were there already: fine when they hold the same lines (a batch sent again),
      // a conflict when not.
      uint64_t low = UINT64_MAX, high = 0;
      for (size_t i = 0; i < batch.records.size(); ++i) {
        lines[batch.records[i].seq] = &all[i].record.line;
        low = std::min(low, batch.records[i].seq);
        high = std::max(high, batch.records[i].seq);
      }
      PgResult r = d.exec_params("SELECT seq, line FROM pw_records WHERE gateway_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq",
                               {gateway, std::to_string(low), std::to_string(high)}, "compare with pw_records");
      for (int i = 0; i < r.rows(); ++i) {
        const uint64_t seq = static_cast<uint64_t>(r.integer(i, 0));
        auto it = lines.find(seq);
        if (it != lines.end() && *it->second != r.view(i, 1))
          throw CentralConflict("Kho trung tâm đã có bản ghi " + std::to_string(seq) + " khác của cổng " + gateway +
                                " (hai cổng dùng chung fleet.gateway_id?) / the central store holds a different record " +
                                std::to_string(seq) + " for gateway " + gateway +
                                " (two gateways with one fleet.gateway_id, or a new trail under an old id?)");
      }
    }
    d.insert(events, nullptr, "insert into pw_events");
    d.insert(triage, nullptr, "insert into pw_triage");
    d.insert(traffic, nullptr, "insert into pw_traffic");
    d.exec_params(
        "INSERT INTO pw_gateways (gateway_id, province, public_key, shipped_seq) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (gateway_id) DO UPDATE SET province = EXCLUDED.province, last_seen = now(), "
        "shipped_seq = GREATEST(pw_gateways.shipped_seq, EXCLUDED.shipped_seq), "
        "public_key = CASE WHEN pw_gateways.public_key = '' THEN EXCLUDED.public_key ELSE pw_gateways.public_key END",
        {gateway, province, storable_text(batch.public_key_pem), std::to_string(result.committed_seq)},
        "update pw_gateways");
    d.exec("COMMIT", "COMMIT");
  } catch (...) {
    if (PQstatus(d.conn) == CONNECTION_OK) {
      PQclear(PQexec(d.conn, "ROLLBACK"));
    } else {
      d.broken = true;
    }
    throw;
  }
  return result;
}

}  // namespace promptwall::central
