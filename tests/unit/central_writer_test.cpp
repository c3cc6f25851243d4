// central/CentralSchema and CentralWriter against a real PostgreSQL 15 (tests/support/
// postgres_cluster.h): the schema applied by several gateways at once, batches written exactly
// once however often they are sent, a different line under a stored key refused, the gateway row.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <pqxx/connection>

#include "audit/event.h"
#include "audit/trail_format.h"
#include "central/central_connection.h"
#include "central/central_schema.h"
#include "central/central_writer.h"
#include "../support/postgres_cluster.h"

using namespace promptwall;
using namespace promptwall::central;
using promptwall::test::PostgresCluster;
using namespace std::chrono_literals;

namespace {

// A chained run of records: decisions, a triage, a traffic record and a checkpoint-like record.
std::vector<ShippedRecord> trail_records(uint64_t first, uint64_t count, const std::string& tag = "") {
  std::vector<ShippedRecord> out;
  std::string prev(audit::kGenesisHash);
  for (uint64_t seq = first; seq < first + count; ++seq) {
    std::string object;
    const auto t = audit::Clock::time_point(1'764'144'902'000ms) + std::chrono::seconds(seq);
    if (seq % 10 == 3) {
      audit::TriageEvent tr{t, "01TRIAGE" + std::to_string(seq) + tag, "01EVENT1" + tag, "confirmed", "note 'quoted'\ttab",
                            "officer", "10.0.0.1:1"};
      object = audit::to_json_object(tr);
    } else if (seq % 10 == 7) {
      audit::TrafficEvent tf{t, t - 60s, t, {{audit::Clock::time_point(1'764'144'000'000ms), "unit \\ x", "openai", 5, 2}}};
      object = audit::to_json_object(tf);
    } else if (seq % 10 == 9) {
      object = "{\"type\":\"checkpoint\",\"time\":\"" + audit::format_time(t) + "\",\"key_id\":\"k\",\"records\":1,\"sig\":\"s\"}";
    } else {
      audit::DecisionEvent e;
      e.time = t;
      e.event_id = "01EVENT" + std::to_string(seq) + tag;
      e.user = "người dùng \"" + std::to_string(seq) + "\"";
      e.unit = "so-tu-phap";
      e.groups = {"a,b", "c\"d", "e\\f"};
      e.service = "openai";
      e.decision = seq % 2 ? "block" : "allow";
      e.mode = "enforce";
      audit::EventFinding f;
      f.rule_id = "vn.cccd";
      f.category = "national_id";
      f.severity = "high";
      f.action = "block";
      if (seq % 2) e.findings.push_back(f);
      object = audit::to_json_object(e);
    }
    std::string line = audit::compose_record(seq, prev, object);
    prev = audit::record_hash(line);
    out.push_back({seq, std::move(line)});
  }
  return out;
}

int64_t count(const PostgresCluster& pg, const std::string& sql) { return std::stoll(pg.psql(sql)); }

}  // namespace

TEST_CASE("the schema is applied once by gateways starting together, and a newer one is refused", "[central][writer]") {
  if (!PostgresCluster::available()) {
    WARN("SKIPPED: PostgreSQL 15 is not installed (apt-get install postgresql)");
    return;
  }
  PostgresCluster pg;
  std::atomic<int> failures{0};
  std::vector<std::thread> gateways;
  for (int i = 0; i < 6; ++i)
    gateways.emplace_back([&] {
      try {
        pqxx::connection c(pg.conninfo());
        CentralSchema::ensure(c);
      } catch (const std::exception& e) {
        UNSCOPED_INFO(e.what());
        ++failures;
      }
    });
  for (auto& t : gateways) t.join();
  CHECK(failures == 0);
  CHECK(pg.psql("SELECT version FROM pw_schema_version") == "1");
  for (const char* table : {"pw_gateways", "pw_records", "pw_events", "pw_triage", "pw_traffic"})
    CHECK(count(pg, std::string("SELECT count(*) FROM ") + table) == 0);

  pg.psql("UPDATE pw_schema_version SET version = 2");
  pqxx::connection c(pg.conninfo());
  CHECK_THROWS_WITH(CentralSchema::ensure(c), Catch::Contains("newer schema (2)"));
  CHECK_THROWS_AS(CentralWriter(pg.conninfo()), CentralError);
}

TEST_CASE("a batch is written once however often it is sent, in every table", "[central][writer]") {
  if (!PostgresCluster::available()) {
    WARN("SKIPPED: PostgreSQL 15 is not installed (apt-get install postgresql)");
    return;
  }
  PostgresCluster pg;
  using Method = CentralWriter::Method;
  for (auto [method, gateway, tag] :
       {std::tuple{Method::copy_staging, std::string("hcm-01"), std::string("C")},
        std::tuple{Method::multi_row_insert, std::string("hn-01"), std::string("M")}}) {
    INFO("gateway " << gateway);
    CentralWriter writer(pg.conninfo(), method);
    const auto lines = trail_records(1, 50, tag);
    CentralBatch batch{gateway, "Hồ Chí Minh", "-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n",
                       {lines.begin(), lines.begin() + 40}};
    auto result = writer.write(batch);
    CHECK(result.committed_seq == 40);
    CHECK(result.inserted == 40);
    CHECK(result.problems.empty());
    // Sent again (a lost COMMIT reply, a crash before the cursor): nothing new, no error.
    result = writer.write(batch);
    CHECK(result.inserted == 0);
    // Overlapping with new records: only the new ones count.
    batch.records = {lines.begin() + 30, lines.end()};
    result = writer.write(batch);
    CHECK(result.inserted == 10);
    CHECK(result.committed_seq == 50);

    const std::string where = " WHERE gateway_id = '" + gateway + "'";
    CHECK(count(pg, "SELECT count(*) FROM pw_records" + where) == 50);
    CHECK(count(pg, "SELECT count(DISTINCT seq) FROM pw_records" + where) == 50);
    CHECK(count(pg, "SELECT count(*) FROM pw_events" + where) == 35);  // seq % 10 in 0,1,2,4,5,6,8
    CHECK(count(pg, "SELECT count(*) FROM pw_events" + where + " AND violation") == 10);  // the odd ones: seq % 10 in 1, 5
    CHECK(count(pg, "SELECT count(*) FROM pw_triage" + where) == 5);
    CHECK(count(pg, "SELECT sum(requests) FROM pw_traffic" + where) == 25);
    CHECK(count(pg, "SELECT count(*) FROM pw_records" + where + " AND type = 'checkpoint'") == 5);
    // Text that needs escaping arrives intact, in both methods.
    CHECK(pg.psql("SELECT user_name FROM pw_events" + where + " AND seq = 1") == "người dùng \"1\"");
    CHECK(pg.psql("SELECT array_length(groups, 1) || groups[2] || groups[3] FROM pw_events" + where + " AND seq = 1") ==
          "3c\"de\\f");
    CHECK(pg.psql("SELECT note FROM pw_triage" + where + " AND seq = 3") == "note 'quoted'\ttab");
    CHECK(pg.psql("SELECT unit FROM pw_traffic" + where + " LIMIT 1") == "unit \\ x");
    CHECK(pg.psql("SELECT max_severity FROM pw_events" + where + " AND seq = 1") == "3");
    CHECK(pg.psql("SELECT province FROM pw_events" + where + " AND seq = 1") == "Hồ Chí Minh");
    // Every line byte for byte.
    CHECK(pg.psql("SELECT line FROM pw_records" + where + " AND seq = 17") == lines[16].line);
    CHECK(pg.psql("SELECT shipped_seq FROM pw_gateways" + where) == "50");
  }
}

TEST_CASE("a different line under a stored key is refused, and nothing of its batch is kept", "[central][writer]") {
  if (!PostgresCluster::available()) {
    WARN("SKIPPED: PostgreSQL 15 is not installed (apt-get install postgresql)");
    return;
  }
  PostgresCluster pg;
  CentralWriter writer(pg.conninfo());
  writer.write({"hcm-01", "", "KEY-1", trail_records(1, 10)});
  // Another gateway configured with the same id: its own record 5 differs.
  CentralBatch other{"hcm-01", "", "KEY-2", trail_records(5, 10, "other")};
  CHECK_THROWS_AS(writer.write(other), CentralConflict);
  CHECK_THROWS_WITH(writer.write(other), Catch::Contains("record 5") && Catch::Contains("hcm-01"));
  CHECK_FALSE(writer.broken());
  CHECK(count(pg, "SELECT count(*) FROM pw_records") == 10);  // 11..14 not kept either
  // The writer goes on with good batches after the refusal.
  CHECK(writer.write({"hcm-01", "", "KEY-2", trail_records(11, 2)}).inserted == 2);
  // The key registered first stays (a changed key is not taken on a gateway's word).
  CHECK(pg.psql("SELECT public_key FROM pw_gateways WHERE gateway_id = 'hcm-01'") == "KEY-1");
}

TEST_CASE("a lost server makes the writer fail and say so, a new one carries on", "[central][writer]") {
  if (!PostgresCluster::available()) {
    WARN("SKIPPED: PostgreSQL 15 is not installed (apt-get install postgresql)");
    return;
  }
  PostgresCluster pg;
  auto writer = std::make_unique<CentralWriter>(make_conninfo(pg.url()));
  writer->write({"g", "", "", trail_records(1, 5)});
  pg.stop();
  CHECK_THROWS_AS(writer->write({"g", "", "", trail_records(6, 5)}), CentralError);
  CHECK(writer->broken());
  CHECK_THROWS_AS(CentralWriter(make_conninfo(pg.url())), CentralError);
  pg.start();
  writer = std::make_unique<CentralWriter>(make_conninfo(pg.url()));
  CHECK(writer->write({"g", "", "", trail_records(1, 10)}).inserted == 5);
  CHECK(count(pg, "SELECT count(*) FROM pw_records") == 10);
}

TEST_CASE("the connection settings carry the password without ever showing it", "[central][connection]") {
  const std::string conninfo = make_conninfo("postgresql://pw@db.example:5433/promptwall", "s3cr'et");
  CHECK(conninfo.find("password='s3cr\\'et'") != std::string::npos);
  CHECK(conninfo.find("host='db.example'") != std::string::npos);
  CHECK(conninfo.find("connect_timeout=") != std::string::npos);
  CHECK(describe_target("postgresql://pw:hunter2@db.example:5433/promptwall") == "pw@db.example:5433/promptwall");
  CHECK(describe_target("host=db port=5432 dbname=x password=hunter2").find("hunter2") == std::string::npos);
  CHECK_THROWS_AS(make_conninfo("postgresql://[bad"), std::invalid_argument);
  // An operator's own timeout wins.
  CHECK(make_conninfo("host=db connect_timeout=2").find("connect_timeout='2'") != std::string::npos);
}
