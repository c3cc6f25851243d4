// `promptwall audit query|export|usage --central URL` against a real PostgreSQL 15 holding a trail
// shipped by CentralWriter (as a gateway's shipper does): the same answers as over the trail's own
// SQLite index, the gateway filters, and the options that make no sense without --central refused.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../support/postgres_cluster.h"
#include "../unit/trail_builder.h"
#include "audit/trail_reader.h"
#include "central/central_writer.h"
#include "process.h"

using namespace promptwall;
using namespace promptwall::test;

namespace {

const audit::Clock::time_point kBase = audit::Clock::time_point(std::chrono::seconds(1795824000));  // 2026-11-28T00:00Z

struct ShippedTrail {
  PostgresCluster pg;
  TempDir tmp;
  TrailBuilder trail{tmp.path() / "trail", 9};
  std::vector<std::string> lines;  // decision records, oldest first

  ShippedTrail() {
    for (uint64_t i = 0; i < 40; ++i) lines.push_back(trail.append(sample_event(i, kBase)));
    trail.append(sample_triage("EV100003", "confirmed", kBase + std::chrono::hours(40)));
    const auto hour = std::chrono::floor<std::chrono::hours>(kBase);
    trail.append(audit::to_json_object(audit::TrafficEvent{
        kBase, kBase, kBase,
        {{hour, "IT", "openai", 100, 12}, {hour + std::chrono::hours(24 * 7), "IT", "openai", 80, 4},
         {hour, "Nhân sự", "gemini", 30, 9}}}));
    central::CentralBatch batch{"hn-01", "Hà Nội", "", {}};
    audit::TrailReader reader(trail.dir());
    while (auto r = reader.next()) batch.records.push_back({r->seq, r->line});
    central::CentralWriter(pg.conninfo()).write(batch);
  }
  std::string url() const { return shell_quote(pg.url()); }
  std::string dir() const { return shell_quote(trail.dir().string()); }
};

}  // namespace

TEST_CASE("audit query, export and usage read the central store as they read the trail", "[cli][audit][central]") {
  if (!PostgresCluster::available()) {
    WARN("SKIPPED: PostgreSQL 15 is not installed (apt-get install postgresql)");
    return;
  }
  ShippedTrail t;

  auto central = run_promptwall("audit query --central " + t.url() + " --violations --format json --limit 500");
  INFO(central.err);
  REQUIRE(central.status == 0);
  auto local = run_promptwall("audit query " + t.dir() + " --violations --format json --limit 500");
  REQUIRE(local.status == 0);
  const auto c = nlohmann::json::parse(central.out), l = nlohmann::json::parse(local.out);
  CHECK(c["total"] == l["total"]);
  CHECK(c["total"].get<int>() == 32);  // 40 events, every fifth allowed
  REQUIRE(c["events"].size() == l["events"].size());
  for (size_t i = 0; i < c["events"].size(); ++i) {
    CHECK(c["events"][i]["event_id"] == l["events"][i]["event_id"]);
    CHECK(c["events"][i]["triage"] == l["events"][i]["triage"]);
  }

  auto mine = run_promptwall("audit query --central " + t.url() + " --gateway hn-01 --province 'Hà Nội' --category secret --format csv");
  auto mine_local = run_promptwall("audit query " + t.dir() + " --category secret --format csv");
  REQUIRE(mine.status == 0);
  CHECK(mine.out == mine_local.out);
  auto other = run_promptwall("audit query --central " + t.url() + " --gateway hcm-01");
  REQUIRE(other.status == 0);
  CHECK_THAT(other.out, Catch::Contains("no events match (0 in all)"));

  // export: the trail's own lines, byte for byte, oldest first.
  auto exported = run_promptwall("audit export --central " + t.url());
  REQUIRE(exported.status == 0);
  std::string expected;
  for (const auto& line : t.lines) expected += line + "\n";
  CHECK(exported.out == expected);

  // usage: the same CSV from both stores; Vietnam's weeks and dd/mm/yyyy.
  const std::string range = " --since 2026-11-23 --until 2026-12-13 --format csv";
  auto usage = run_promptwall("audit usage --central " + t.url() + range);
  auto usage_local = run_promptwall("audit usage " + t.dir() + range);
  INFO(usage.err);
  REQUIRE(usage.status == 0);
  REQUIRE(usage_local.status == 0);
  CHECK(usage.out == usage_local.out);
  CHECK_THAT(usage.out, Catch::Contains("\"2026-W48\",\"23/11/2026\",\"IT\",\"100\",\"12\",\"0.1200\""));
  CHECK_THAT(usage.out, Catch::Contains("\"2026-W49\",\"30/11/2026\",\"IT\",\"80\",\"4\",\"0.0500\""));
  auto table = run_promptwall("audit usage --central " + t.url() + " --since 2026-11-23 --until 2026-12-06");
  REQUIRE(table.status == 0);
  CHECK_THAT(table.out, Catch::Contains("did the training work?"));
  CHECK_THAT(table.out, Catch::Contains("IT\t12.0% -> 5.0%\tbetter"));

  // What needs --central, or cannot go with it.
  auto no_central = run_promptwall("audit query " + t.dir() + " --gateway hn-01");
  CHECK(no_central.status == 2);
  CHECK_THAT(no_central.err, Catch::Contains("--gateway and --province need --central"));
  auto both = run_promptwall("audit query --central " + t.url() + " --index /tmp/x.sqlite");
  CHECK(both.status == 2);
  auto zone = run_promptwall("audit usage " + t.dir() + " --time-zone Mars/Olympus");
  CHECK(zone.status == 2);
  CHECK_THAT(zone.err, Catch::Contains("Mars/Olympus"));
  auto unreachable = run_promptwall("audit query --central 'postgresql://nobody@127.0.0.1:1/none?connect_timeout=2'");
  CHECK(unreachable.status == 2);
  CHECK_THAT(unreachable.err, Catch::Contains("central store"));
}
