// The central shipper end to end: the real gateway, a real PostgreSQL 15 (PostgresCluster) on
// loopback. Every decision reaches pw_events exactly once; a PostgreSQL outage mid-load neither
// slows nor refuses requests (/readyz stays 200 and says how far behind; the backlog metric grows)
// and drains when the server is back; a SIGKILL of the gateway loses and duplicates nothing; the
// per-hour traffic counts add up to the requests sent; the central lines are the trail's lines.
#include <map>
#include <set>
#include <thread>

#include "../support/postgres_cluster.h"
#include "expectations.h"

using namespace promptwall::e2e;
using promptwall::test::PostgresCluster;

namespace {

template <class Condition>
bool eventually(Condition condition, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout * e2e_slowdown();
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

// The trail's lines by seq, read from the files (whole lines only).
std::map<uint64_t, std::string> trail_lines(const GatewayFixture& gw) {
  std::map<uint64_t, std::string> out;
  for (const auto& entry : fs::directory_iterator(gw.audit_dir())) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("audit-") || !name.ends_with(".jsonl")) continue;
    for (auto& line : complete_lines(read_text(entry.path())))
      out.emplace(json::parse(line).at("seq").get<uint64_t>(), std::move(line));
  }
  return out;
}

int64_t sql_count(const PostgresCluster& pg, const std::string& sql) {
  const std::string v = pg.psql(sql);
  return v.empty() ? 0 : std::stoll(v);
}

// Sum of the trail's own traffic counts (what the gateway counted and wrote).
uint64_t trail_traffic(const GatewayFixture& gw) {
  uint64_t sum = 0;
  for (const auto& r : gw.audit_records())
    if (r.value("type", "") == "traffic")
      for (const auto& c : r.at("counts")) sum += c.at("requests").get<uint64_t>();
  return sum;
}

}  // namespace

TEST_CASE("central store: every record shipped exactly once across a PostgreSQL outage and a SIGKILL",
          "[e2e][central]") {
  if (!PostgresCluster::available()) {
    WARN("SKIPPED: PostgreSQL 15 is not installed (apt-get install postgresql): the central shipping test did not run");
    return;
  }
  PostgresCluster pg;
  GatewayOptions options;
  options.audit_extra = "  traffic_interval: 1s\n  central: {url: '" + pg.url() + "', retry_interval: 200ms, batch_records: 7}\n";
  options.extra_config = "fleet: {gateway_id: e2e-central, province: \"Hồ Chí Minh\"}\n";
  GatewayFixture gw(options);
  INFO(gw.where_to_look() << "\npostgres: " << pg.dir().string());

  int sent = 0;
  auto send = [&](int n) {
    for (int i = 0; i < n; ++i, ++sent) {
      // Every third request carries a CCCD (a finding: redacted and forwarded); the rest are clean.
      const std::string text = sent % 3 == 0 ? std::string(kCccdText) + " (yêu cầu " + std::to_string(sent) + ")"
                                             : "Xin chào, yêu cầu số " + std::to_string(sent);
      auto r = post(gw.url("/openai/v1/chat/completions"), chat_body(text));
      REQUIRE(r.status == 200);
    }
  };
  auto decisions_in_trail = [&] {
    size_t n = 0;
    for (const auto& r : gw.audit_records()) n += r.value("type", "") == "decision";
    return static_cast<int64_t>(n);
  };
  auto all_shipped = [&] {
    const auto lines = trail_lines(gw);
    return !lines.empty() && sql_count(pg, "SELECT count(*) FROM pw_records") >= static_cast<int64_t>(lines.size()) &&
           sql_count(pg, "SELECT count(*) FROM pw_events") == decisions_in_trail();
  };

  send(10);
  REQUIRE(eventually(all_shipped, std::chrono::seconds(20)));
  CHECK(pg.psql("SELECT province || '|' || (public_key LIKE '-----BEGIN PUBLIC KEY-----%') FROM pw_gateways "
                "WHERE gateway_id = 'e2e-central'") == "Hồ Chí Minh|true");

  // ---- PostgreSQL down mid-load: requests go on, the backlog grows and is reported ----
  pg.stop();
  send(15);  // each answered 200 (send REQUIREs it)
  CHECK(eventually([&] { return gw.metric("promptwall_central_records_behind") >= 15; }, std::chrono::seconds(10)));
  CHECK(gw.metric("promptwall_central_connected") == 0);
  CHECK(gw.metric("promptwall_central_failures_total") >= 1);
  HttpRequest ready;
  ready.url = gw.admin_url("/readyz");
  const auto readyz = http(ready);
  CHECK(readyz.status == 200);
  CHECK(contains(readyz.body, "central store: "));
  CHECK(contains(readyz.body, "records behind, down: "));
  CHECK(gw.log_eventually_contains("unreachable"));
  CHECK_FALSE(contains(gw.log(), "password="));

  pg.start();
  REQUIRE(eventually(all_shipped, std::chrono::seconds(30)));
  CHECK(eventually([&] { return gw.metric("promptwall_central_records_behind") == 0; }, std::chrono::seconds(10)));
  CHECK(gw.metric("promptwall_central_connected") == 1);
  CHECK(gw.log_eventually_contains("reachable again"));

  // ---- SIGKILL after the traffic counts are in the trail, then a restart ----
  REQUIRE(eventually([&] { return trail_traffic(gw) == static_cast<uint64_t>(sent); }, std::chrono::seconds(10)));
  send(4);
  gw.kill_hard();  // the last 4 requests' counts were in memory only: lost with the process
  const int lost_counts = static_cast<int>(static_cast<uint64_t>(sent) - trail_traffic(gw));
  gw.start();
  gw.wait_ready();
  send(6);
  // A graceful stop writes the last counts; the next start ships them.
  gw.process().stop(std::chrono::seconds(20));
  gw.start();
  gw.wait_ready();
  REQUIRE(eventually(all_shipped, std::chrono::seconds(30)));

  // Exactly once, and the very lines of the trail.
  const auto lines = trail_lines(gw);
  CHECK(sql_count(pg, "SELECT count(*) FROM pw_records WHERE gateway_id = 'e2e-central'") ==
        static_cast<int64_t>(lines.size()));
  CHECK(sql_count(pg, "SELECT max(seq) FROM pw_records") == static_cast<int64_t>(lines.rbegin()->first));
  std::set<std::string> central_lines;
  {
    std::istringstream rows(pg.psql("SELECT line FROM pw_records ORDER BY seq"));
    for (std::string row; std::getline(rows, row);) central_lines.insert(row);
  }
  size_t same = 0;
  for (const auto& [seq, line] : lines) same += central_lines.count(line);
  CHECK(same == lines.size());
  // Every decision event once, by its id.
  std::multiset<std::string> ids;
  {
    std::istringstream rows(pg.psql("SELECT event_id FROM pw_events"));
    for (std::string row; std::getline(rows, row);) ids.insert(row);
  }
  size_t decisions = 0;
  for (const auto& r : gw.audit_records())
    if (r.value("type", "") == "decision") {
      ++decisions;
      CHECK(ids.count(r.at("event_id").get<std::string>()) == 1);
    }
  CHECK(ids.size() == decisions);
  CHECK(decisions >= static_cast<size_t>(sent));
  CHECK(sql_count(pg, "SELECT count(*) FROM pw_events WHERE 'national_id' = ANY(categories)") >= 10);
  // The traffic counts: every request sent, but those the SIGKILL took before they were written.
  CHECK(sql_count(pg, "SELECT sum(requests) FROM pw_traffic") == sent - lost_counts);
  CHECK(lost_counts <= 4);
  CHECK(sql_count(pg, "SELECT sum(with_findings) FROM pw_traffic") >= 1);
  CHECK(pg.psql("SELECT DISTINCT service FROM pw_traffic") == "openai");
  CHECK(gw.metric("promptwall_central_shipped_seq") == static_cast<double>(lines.rbegin()->first));
}
