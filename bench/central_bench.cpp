// central_bench: what shipping the trail to the central store costs (issue 17). In one process,
// against the PostgreSQL given by --conninfo (bench/run-central-bench.sh starts one):
//   - the real CentralShipper (gateway/server/central_shipper.h) shipping a real trail of N
//     decision events (written first by the real AuditWriter) from its start: TrailReader, rows,
//     COPY into staging, INSERT ... ON CONFLICT DO NOTHING, pw_gateways, COMMIT and the cursor
//     file per batch of --batch records; events per second until shipped_seq reaches the end;
//   - CentralWriter alone on the same lines, both ways it can write (COPY into staging + INSERT
//     ON CONFLICT, multi-row INSERT), to show which the shipper should use;
//   - the baseline: one plain COPY of the same rows (pw_records and pw_events rows, rendered
//     beforehand) into tables of the same shape (LIKE ... INCLUDING ALL: same keys and indexes).
// Each figure is printed with its ratio to the baseline. Fresh gateway ids per run, so nothing
// is skipped as already there.
//
//   central_bench --conninfo 'host=... dbname=promptwall' [--events N (100000)] [--batch N (1000)] [--dir DIR]
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/connection>

#include "audit/audit_writer.h"
#include "audit/event.h"
#include "audit/signing_key.h"
#include "audit/trail_format.h"
#include "audit/trail_reader.h"
#include "central/central_schema.h"
#include "central/central_writer.h"
#include "central/record_rows.h"
#include "gateway/server/central_shipper.h"

using namespace promptwall;
using Steady = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

// A realistic event: a redaction with one or two findings and their evidence (~900 bytes).
std::string sample_event(std::mt19937_64& random, uint64_t i) {
  static const char* kUnits[] = {"van-phong", "ke-toan", "phap-che", "to-chuc", "cntt"};
  static const char* kServices[] = {"openai", "gemini", "anthropic"};
  static const char* kDecisions[] = {"redact", "block", "warn", "allow"};
  audit::DecisionEvent e;
  e.time = audit::Clock::now();
  uint8_t r[10];
  for (auto& b : r) b = static_cast<uint8_t>(random());
  e.event_id = audit::new_event_id(e.time, r);
  e.request_id = std::to_string(random());
  e.client = "10.0." + std::to_string(i % 200) + "." + std::to_string(i % 250) + ":51234";
  e.user = "user" + std::to_string(i % 500);
  e.unit = kUnits[i % 5];
  e.service = kServices[i % 3];
  e.method = "POST";
  e.path = "/v1/chat/completions";
  e.decision = kDecisions[i % 4];
  e.mode = "enforce";
  e.forwarded = e.decision != "block";
  e.findings.push_back({"vn.pii.cccd", "national_id", "high", "redact", 1, {"messages[0].content"},
                        {{"messages[0].content", "…của ông A là «07••••••••34», liên h…", std::string(64, 'a')}}});
  if (i % 4 == 1)
    e.findings.push_back({"vn.secret.degree-field", "classification_marking", "critical", "block", 1, {"messages[1].content"},
                          {{"messages[1].content", "Độ mật: «•••••••••»", std::string(64, 'b')}}});
  e.ruleset = std::string(64, 'c');
  e.bytes_in = 1834;
  e.latency_ms = 1.84;
  e.scan_ms = 0.41;
  return audit::to_json_object(e);
}

void exec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  const auto status = PQresultStatus(r);
  PQclear(r);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw std::runtime_error(sql + ": " + PQerrorMessage(c));
}

void copy_field(std::string& out, const std::optional<std::string>& v) {
  if (!v) {
    out += "\\N";
    return;
  }
  for (char ch : *v) {
    if (ch == '\\') out += "\\\\";
    else if (ch == '\t') out += "\\t";
    else if (ch == '\n') out += "\\n";
    else if (ch == '\r') out += "\\r";
    else out += ch;
  }
}
std::string array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ",\"" : "\"") + items[i] + "\"";
  return out + "}";
}
void row(std::string& out, const std::vector<std::optional<std::string>>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out += '\t';
    copy_field(out, fields[i]);
  }
  out += '\n';
}

void copy_in(PGconn* c, const std::string& table, const std::string& data) {
  PGresult* start = PQexec(c, ("COPY " + table + " FROM STDIN").c_str());
  const bool copying = PQresultStatus(start) == PGRES_COPY_IN;
  PQclear(start);
  if (!copying) throw std::runtime_error(std::string("COPY: ") + PQerrorMessage(c));
  if (PQputCopyData(c, data.data(), static_cast<int>(data.size())) != 1 || PQputCopyEnd(c, nullptr) != 1)
    throw std::runtime_error(std::string("COPY: ") + PQerrorMessage(c));
  while (PGresult* r = PQgetResult(c)) {
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) throw std::runtime_error(std::string("COPY: ") + PQerrorMessage(c));
  }
}

// The baseline: the same pw_records and pw_events rows, one plain COPY each, one transaction.
double plain_copy_seconds(const std::string& conninfo, const std::vector<central::ShippedRecord>& records) {
  std::string rec, ev;
  for (const auto& r : records) {
    const auto rows = central::rows_of(r.seq, r.line);
    const std::string seq = std::to_string(r.seq);
    row(rec, {"baseline", seq, rows.record.type, rows.record.time, rows.record.line});
    if (const auto& e = rows.event)
      row(ev, {"baseline", seq, e->event_id, e->time, "", e->request_id, e->client, e->user_name, e->unit, array(e->groups),
               e->service, e->method, e->path, e->decision, e->mode, e->reason, e->forwarded ? "t" : "f",
               std::to_string(e->max_severity), e->violation ? "t" : "f", e->justified ? "t" : "f", array(e->rules),
               array(e->categories), e->ruleset, e->rules_bundle, std::to_string(e->bytes_in),
               std::to_string(e->bytes_forwarded), std::to_string(e->latency_ms), std::to_string(e->scan_ms)});
  }
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(c));
  exec(c, "SET client_min_messages = warning");
  exec(c, "CREATE TABLE base_records (LIKE pw_records INCLUDING ALL)");
  exec(c, "CREATE TABLE base_events (LIKE pw_events INCLUDING ALL)");
  const auto start = Steady::now();
  exec(c, "BEGIN");
  copy_in(c, "base_records (gateway_id, seq, type, time, line)", rec);
  copy_in(c,
          "base_events (gateway_id, seq, event_id, time, province, request_id, client, user_name, unit, groups, service, "
          "method, path, decision, mode, reason, forwarded, max_severity, violation, justified, rules, categories, "
          "ruleset, rules_bundle, bytes_in, bytes_forwarded, latency_ms, scan_ms)",
          ev);
  exec(c, "COMMIT");
  const double s = std::chrono::duration<double>(Steady::now() - start).count();
  PQfinish(c);
  return s;
}

// Empties the store's tables and checkpoints, so every run starts from the same state (the tables'
// size and the WAL would otherwise favour the first run).
void reset(const std::string& conninfo) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(c));
  exec(c, "TRUNCATE pw_records, pw_events, pw_triage, pw_traffic, pw_gateways");
  exec(c, "DROP TABLE IF EXISTS base_records, base_events");
  exec(c, "CHECKPOINT");
  PQfinish(c);
}

double writer_seconds(const std::string& conninfo, central::CentralWriter::Method method, const std::string& gateway,
                      const std::vector<central::ShippedRecord>& records, size_t batch) {
  central::CentralWriter writer(conninfo, method);
  const auto start = Steady::now();
  for (size_t i = 0; i < records.size(); i += batch) {
    central::CentralBatch b{gateway, "Hồ Chí Minh", "", {}};
    b.records.assign(records.begin() + static_cast<long>(i),
                     records.begin() + static_cast<long>(std::min(records.size(), i + batch)));
    writer.write(b);
  }
  return std::chrono::duration<double>(Steady::now() - start).count();
}

double shipper_seconds(const std::string& conninfo, const fs::path& trail, uint64_t last_seq, size_t batch) {
  fs::remove(trail / gateway::server::CentralShipper::kCursorFileName);
  gateway::CentralConfig central;
  central.url = conninfo;
  central.batch_records = batch;
  central.retry_interval = std::chrono::milliseconds(200);
  gateway::server::CentralShipper shipper({.trail_dir = trail,
                                           .central = central,
                                           .gateway_id = "shipper-" + std::to_string(Steady::now().time_since_epoch().count()),
                                           .province = "Hồ Chí Minh",
                                           .durable_seq = [last_seq] { return last_seq; },
                                           .poll_interval = std::chrono::milliseconds(1)});
  const auto start = Steady::now();
  shipper.start();
  while (shipper.shipped_seq() < last_seq) std::this_thread::sleep_for(std::chrono::microseconds(200));
  const double s = std::chrono::duration<double>(Steady::now() - start).count();
  shipper.stop();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::string conninfo;
  uint64_t events = 100'000;
  size_t batch = 1000;
  fs::path dir;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--conninfo" && i + 1 < argc) conninfo = argv[++i];
    else if (a == "--events" && i + 1 < argc) events = std::stoull(argv[++i]);
    else if (a == "--batch" && i + 1 < argc) batch = std::stoul(argv[++i]);
    else if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else {
      std::cerr << "usage: central_bench --conninfo CONNINFO [--events N] [--batch N] [--dir DIR]\n";
      return 2;
    }
  }
  if (conninfo.empty()) {
    std::cerr << "central_bench: --conninfo is required\n";
    return 2;
  }
  if (dir.empty()) dir = fs::temp_directory_path() / ("central-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path trail = dir / "trail";

  // The trail: N events through the real writer (group commit), then its lines.
  {
    audit::AuditWriterOptions o;
    o.dir = trail;
    o.signing_key = std::make_shared<const audit::SigningKey>(audit::SigningKey::load_or_create(dir / "signing.pem"));
    audit::AuditWriter writer(o);
    std::mt19937_64 random(17);
    std::atomic<uint64_t> done{0};
    for (uint64_t i = 0; i < events; ++i) writer.append(sample_event(random, i), [&](bool) { ++done; });
    while (done < events) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    writer.close();
  }
  std::vector<central::ShippedRecord> records;
  {
    audit::TrailReader reader(trail);
    while (auto r = reader.next()) records.push_back({r->seq, std::move(r->line)});
  }
  const uint64_t last_seq = records.back().seq;
  size_t bytes = 0;
  for (const auto& r : records) bytes += r.line.size();
  std::printf("trail: %zu records (%llu decision events), %.0f bytes a line on average; batches of %zu\n", records.size(),
              static_cast<unsigned long long>(events), static_cast<double>(bytes) / records.size(), batch);

  {
    pqxx::connection c(conninfo);
    central::CentralSchema::ensure(c);
  }
  const double n = static_cast<double>(records.size());
  // Two rounds, each run from empty tables; the best of each is reported.
  double base = 1e9, copy = 1e9, multi = 1e9, ship = 1e9;
  using Method = central::CentralWriter::Method;
  for (int round = 0; round < 2; ++round) {
    const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(round);
    reset(conninfo);
    base = std::min(base, plain_copy_seconds(conninfo, records));
    reset(conninfo);
    copy = std::min(copy, writer_seconds(conninfo, Method::copy_staging, "copy-" + tag, records, batch));
    reset(conninfo);
    multi = std::min(multi, writer_seconds(conninfo, Method::multi_row_insert, "multi-" + tag, records, batch));
    reset(conninfo);
    ship = std::min(ship, shipper_seconds(conninfo, trail, last_seq, batch));
  }
  auto line = [&](const char* what, double seconds) {
    std::printf("  %-58s %9.0f records/s  %6.2f s  ratio %.2f\n", what, n / seconds, seconds, base / seconds);
  };
  std::printf("records/s (ratio = plain COPY's time / this one's; 1.00 = as fast as a plain COPY):\n");
  line("plain COPY, one transaction (baseline)", base);
  line("CentralWriter, COPY into staging + INSERT ON CONFLICT", copy);
  line("CentralWriter, multi-row INSERT ON CONFLICT", multi);
  line("CentralShipper from the trail files (reader, cursor, COMMIT)", ship);
  fs::remove_all(dir);
  return 0;
}
