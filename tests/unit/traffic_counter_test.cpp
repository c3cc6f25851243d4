// gateway/record/TrafficCounter: every decided request counted per (UTC hour, unit, service),
// drained into one `traffic` event, put back when its record could not be written.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "audit/event.h"
#include "gateway/record/traffic_counter.h"

using namespace promptwall;
using namespace std::chrono_literals;

TEST_CASE("traffic counts per hour, unit and service, drained once", "[traffic]") {
  const auto t0 = audit::Clock::time_point(1'765'094'400'000ms);  // 2025-12-07T08:00:00Z
  gateway::TrafficCounter counter(t0);
  counter.add(t0 + 1min, "so-tu-phap", "openai", true);
  counter.add(t0 + 59min, "so-tu-phap", "openai", false);
  counter.add(t0 + 61min, "so-tu-phap", "openai", false);  // the next hour
  counter.add(t0 + 2min, "", "gemini", false);              // unit unknown
  auto e = counter.drain(t0 + 62min);
  REQUIRE(e);
  CHECK(e->from == t0);
  CHECK(e->to == t0 + 62min);
  REQUIRE(e->counts.size() == 3);
  // Sorted by hour, then unit, then service.
  CHECK(e->counts[0].hour == t0);
  CHECK(e->counts[0].unit == "");
  CHECK(e->counts[0].service == "gemini");
  CHECK(e->counts[1].unit == "so-tu-phap");
  CHECK(e->counts[1].requests == 2);
  CHECK(e->counts[1].with_findings == 1);
  CHECK(e->counts[2].hour == t0 + 1h);
  CHECK(e->counts[2].requests == 1);
  // Nothing since: no record.
  CHECK_FALSE(counter.drain(t0 + 63min));

  // Its JSON reads back whole, hours without milliseconds.
  const auto json = nlohmann::json::parse(audit::to_json_object(*e));
  CHECK(json.at("type") == "traffic");
  CHECK(json.at("counts")[0].at("hour") == "2025-12-07T08:00:00Z");
  const auto back = audit::traffic_from_json(json);
  REQUIRE(back.counts.size() == 3);
  CHECK(back.counts[1].requests == 2);
  CHECK(back.from == t0);
}

TEST_CASE("a record that could not be written puts its counts back", "[traffic]") {
  const auto t0 = audit::Clock::time_point(1'765'094'400'000ms);
  gateway::TrafficCounter counter(t0);
  counter.add(t0, "u", "openai", true);
  auto failed = counter.drain(t0 + 1min);
  REQUIRE(failed);
  counter.add(t0 + 2min, "u", "openai", false);
  counter.restore(*failed);
  auto next = counter.drain(t0 + 3min);
  REQUIRE(next);
  REQUIRE(next->counts.size() == 1);
  CHECK(next->counts[0].requests == 2);
  CHECK(next->counts[0].with_findings == 1);
  CHECK(next->from == t0);  // the interval reaches back to the lost record's start
}

TEST_CASE("traffic counts from many threads add up", "[traffic]") {
  gateway::TrafficCounter counter;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) counter.add(audit::Clock::now(), "u", "openai", i % 10 == 0);
    });
  uint64_t drained = 0;
  for (int i = 0; i < 50; ++i)
    if (auto e = counter.drain())
      for (const auto& c : e->counts) drained += c.requests;
  for (auto& t : workers) t.join();
  if (auto e = counter.drain())
    for (const auto& c : e->counts) drained += c.requests;
  CHECK(drained == 40'000);
}

TEST_CASE("a traffic record that is not one is refused with the reason", "[traffic]") {
  auto parse = [](const std::string& counts) {
    return audit::traffic_from_json(nlohmann::json::parse(
        "{\"type\":\"traffic\",\"time\":\"2026-12-07T08:00:00.000Z\",\"from\":\"2026-12-07T07:00:00.000Z\","
        "\"to\":\"2026-12-07T08:00:00.000Z\",\"counts\":" + counts + "}"));
  };
  CHECK(parse("[]").counts.empty());
  CHECK_THROWS_WITH(parse("[{\"hour\":\"2026-12-07T08:10:00Z\",\"requests\":1,\"with_findings\":0}]"),
                    Catch::Contains("start of an hour"));
  CHECK_THROWS_WITH(parse("[{\"hour\":\"2026-12-07T08:00:00Z\",\"requests\":-1,\"with_findings\":0}]"),
                    Catch::Contains("requests"));
  CHECK_THROWS_WITH(parse("[{\"hour\":\"2026-12-07T08:00:00Z\",\"requests\":1,\"with_findings\":2}]"),
                    Catch::Contains("more requests with findings"));
  CHECK_THROWS(parse("{}"));
}
