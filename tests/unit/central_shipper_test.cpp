// gateway/server/CentralShipper against a real PostgreSQL 15 (PostgresCluster) and a real trail
// (AuditWriter): only durable records are shipped, the cursor follows each COMMIT, a restart
// resumes after it, a lost cursor re-ships harmlessly, an outage is reported then drained, and
// stop() returns while the server is down.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "audit_trail_support.h"
#include "gateway/server/central_shipper.h"
#include "../support/postgres_cluster.h"

using namespace promptwall;
using namespace promptwall::test;
using gateway::server::CentralShipper;
namespace fs = std::filesystem;

namespace {

template <class Condition>
bool eventually(Condition condition, std::chrono::seconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

gateway::server::CentralShipperOptions options(const PostgresCluster& pg, const fs::path& trail, std::atomic<uint64_t>& durable,
                                               gateway::GatewayMetrics* metrics = nullptr) {
  gateway::CentralConfig central;
  central.url = pg.url();
  central.batch_records = 4;
  central.retry_interval = std::chrono::milliseconds(100);
  return {.trail_dir = trail,
          .central = central,
          .gateway_id = "unit-gw",
          .province = "Đà Nẵng",
          .durable_seq = [&durable] { return durable.load(); },
          .metrics = metrics,
          .poll_interval = std::chrono::milliseconds(10)};
}

int64_t rows(const PostgresCluster& pg) { return std::stoll(pg.psql("SELECT count(*) FROM pw_records")); }

}  // namespace

TEST_CASE("the central shipper ships durable records once, resumes after its cursor and survives an outage",
          "[central][shipper]") {
  if (!PostgresCluster::available()) {
    WARN("SKIPPED: PostgreSQL 15 is not installed (apt-get install postgresql)");
    return;
  }
  TempDir tmp;
  PostgresCluster pg;
  const fs::path trail = tmp.path() / "trail";
  make_trail(trail, tmp.path() / "audit.key", 30);
  const uint64_t last = trail_lines(trail).size();
  std::atomic<uint64_t> durable{10};  // the writer says only 10 are durable so far
  gateway::GatewayMetrics metrics;
  {
    CentralShipper shipper(options(pg, trail, durable, &metrics));
    shipper.start();
    REQUIRE(eventually([&] { return shipper.shipped_seq() == 10; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(rows(pg) == 10);  // never past the durable seq
    CHECK(shipper.backlog() == 0);
    CHECK(shipper.status_line() == "central store: 0 records behind");
    CHECK(slurp(trail / CentralShipper::kCursorFileName) == "10\n");
    durable = 20;
    REQUIRE(eventually([&] { return shipper.shipped_seq() == 20; }));
    CHECK(metrics.render().find("promptwall_central_shipped_seq 20") != std::string::npos);
    CHECK(metrics.render().find("promptwall_central_connected 1") != std::string::npos);

    // The server goes away: the backlog is reported, stop() still returns.
    pg.stop();
    durable = last;
    REQUIRE(eventually([&] { return shipper.status_line().find(", down: ") != std::string::npos; }));
    CHECK(shipper.backlog() == last - 20);
    CHECK(shipper.status_line().find("central store: " + std::to_string(last - 20) + " records behind") == 0);
  }
  // A new shipper (a restart) resumes after the cursor once the server is back.
  pg.start();
  {
    CentralShipper shipper(options(pg, trail, durable));
    CHECK(shipper.shipped_seq() == 0);  // not read before start()
    shipper.start();
    REQUIRE(eventually([&] { return shipper.shipped_seq() == last; }));
    CHECK(rows(pg) == static_cast<int64_t>(last));
  }
  // A lost cursor ships everything again: nothing changes in the store.
  fs::remove(trail / CentralShipper::kCursorFileName);
  {
    CentralShipper shipper(options(pg, trail, durable));
    shipper.start();
    REQUIRE(eventually([&] { return shipper.shipped_seq() == last; }));
  }
  CHECK(rows(pg) == static_cast<int64_t>(last));
  CHECK(pg.psql("SELECT count(DISTINCT seq) FROM pw_records") == std::to_string(last));
  CHECK(pg.psql("SELECT province FROM pw_gateways") == "Đà Nẵng");
}

TEST_CASE("the central shipper's options are checked and the password file must be private", "[central][shipper]") {
  TempDir tmp;
  std::atomic<uint64_t> durable{0};
  gateway::server::CentralShipperOptions o;
  o.trail_dir = tmp.path();
  o.durable_seq = [&durable] { return durable.load(); };
  o.gateway_id = "g";
  CHECK_THROWS_AS(CentralShipper(o), std::invalid_argument);  // no url
  o.central.url = "postgresql://x@127.0.0.1:1/db";
  spit(tmp.path() / "pass", "secret\n");
  fs::permissions(tmp.path() / "pass", fs::perms::owner_read | fs::perms::group_read);
  o.central.password_file = tmp.path() / "pass";
  CHECK_THROWS_WITH(CentralShipper(o), Catch::Contains("chmod 600"));
  fs::permissions(tmp.path() / "pass", fs::perms::owner_read | fs::perms::owner_write);
  CentralShipper ok(o);  // does not connect
  CHECK(ok.status_line() == "central store: 0 records behind");
}
