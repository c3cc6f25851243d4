// `promptwall audit query` and `audit export` on trails built record by record (trail_builder.h).
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "../unit/trail_builder.h"
#include "process.h"

using namespace promptwall;
using namespace promptwall::test;
namespace fs = std::filesystem;

namespace {

const audit::Clock::time_point kBase = audit::Clock::time_point(std::chrono::seconds(1795824000));  // 2026-11-28T00:00Z

// 30 varied events (sample_event) with two triage records; the CLI runs against `dir`.
struct CliTrail {
  TempDir tmp;
  TrailBuilder trail{tmp.path() / "trail", 7};
  std::vector<audit::DecisionEvent> events;
  std::vector<std::string> lines;  // decision record lines, oldest first

  CliTrail() {
    for (uint64_t i = 0; i < 30; ++i) {
      events.push_back(sample_event(i, kBase));
      lines.push_back(trail.append(events.back()));
    }
    trail.append(sample_triage(events[3].event_id, "confirmed", kBase + std::chrono::hours(40)));
    trail.append(sample_triage(events[4].event_id, "closed", kBase + std::chrono::hours(41)));
  }
  std::string dir() const { return shell_quote(trail.dir().string()); }

  template <class Pred>
  size_t count(Pred pred) const {
    return static_cast<size_t>(std::count_if(events.begin(), events.end(), pred));
  }
};

std::vector<std::string> split_lines(const std::string& text, const std::string& eol = "\n") {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t at; (at = text.find(eol, start)) != std::string::npos; start = at + eol.size())
    out.push_back(text.substr(start, at - start));
  if (start < text.size()) out.push_back(text.substr(start));
  return out;
}

bool has_rule(const audit::DecisionEvent& e, const std::string& rule) {
  return std::any_of(e.findings.begin(), e.findings.end(), [&](const auto& f) { return f.rule_id == rule; });
}

}  // namespace

TEST_CASE("audit query prints an aligned table, newest first, and rebuilds the index only once", "[cli][audit]") {
  CliTrail t;
  auto r = run_promptwall("audit query " + t.dir());
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.err, Catch::Contains("rebuilt the index: there was no index"));
  const auto rows = split_lines(r.out);
  REQUIRE(rows.size() == 1 + 30 + 1);
  CHECK_THAT(rows[0], Catch::StartsWith("TIME") && Catch::Contains("EVENT ID") && Catch::Contains("TRIAGE"));
  // Columns line up: every row has its event id where the header has EVENT ID.
  const size_t id_column = rows[0].find("EVENT ID");
  CHECK(rows[1].substr(id_column, t.events[29].event_id.size()) == t.events[29].event_id);
  CHECK(rows[30].substr(id_column, t.events[0].event_id.size()) == t.events[0].event_id);
  CHECK_THAT(rows[1], Catch::StartsWith(audit::format_time(t.events[29].time)));
  CHECK(rows.back() == "events 1-30 of 30, newest first");
  CHECK(fs::exists(t.trail.dir() / "index.sqlite"));

  auto again = run_promptwall("audit query --dir " + t.dir() + " --limit 3 --offset 2 --oldest-first");
  REQUIRE(again.status == 0);
  CHECK(again.err.empty());
  const auto page = split_lines(again.out);
  REQUIRE(page.size() == 1 + 3 + 1);
  CHECK(page[1].substr(id_column, t.events[2].event_id.size()) == t.events[2].event_id);
  CHECK(page.back() == "events 3-5 of 30, oldest first");
}

TEST_CASE("audit query --format json gives the total and full events", "[cli][audit]") {
  CliTrail t;
  auto r = run_promptwall("audit query " + t.dir() + " --violations --limit 5 --format json");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["total"] == t.count([](const auto& e) { return e.decision != "allow"; }));
  REQUIRE(doc["events"].size() == 5);
  const auto& newest = doc["events"][0];
  CHECK(newest["event_id"] == t.events[29].event_id);  // 29 % 5 = 4: refused, a violation
  CHECK(newest["decision"] == "refused");
  CHECK(newest["findings"].size() == t.events[29].findings.size());
  CHECK(newest["findings"][0]["evidence"][0]["hmac"].get<std::string>().size() == 64);
  CHECK(newest["triage"]["state"] == "new");
  CHECK(newest["seq"].is_number());
  for (const auto& e : doc["events"]) CHECK(e["decision"] != "allow");
}

TEST_CASE("audit query filters narrow what it prints", "[cli][audit]") {
  CliTrail t;
  auto total = [&](const std::string& filters) {
    auto r = run_promptwall("audit query " + t.dir() + " --format json --limit 1000 " + filters);
    INFO(filters << "\n" << r.err);
    REQUIRE(r.status == 0);
    const auto doc = nlohmann::json::parse(r.out);
    REQUIRE(doc["events"].size() == doc["total"].get<size_t>());
    return doc["total"].get<size_t>();
  };
  CHECK(total("") == 30);
  CHECK(total("--user binh.tran") == t.count([](const auto& e) { return e.user == "binh.tran"; }));
  CHECK(total(shell_quote("--unit") + " " + shell_quote("Phòng Kế toán")) ==
        t.count([](const auto& e) { return e.unit == "Phòng Kế toán"; }));
  CHECK(total("--service gemini --decision block") ==
        t.count([](const auto& e) { return e.service == "gemini" && e.decision == "block"; }));
  CHECK(total("--rule vn.cccd") == t.count([](const auto& e) { return has_rule(e, "vn.cccd"); }));
  CHECK(total("--category secret") == t.count([](const auto& e) {
    return std::any_of(e.findings.begin(), e.findings.end(), [](const auto& f) { return f.category == "secret"; });
  }));
  // Days are UTC midnights and --until is exclusive: the 28th only.
  CHECK(total("--since 2026-11-28 --until 2026-11-29") ==
        t.count([](const auto& e) { return e.time < kBase + std::chrono::hours(24); }));
  CHECK(total("--since 2026-11-28T10:00:00Z") ==
        t.count([](const auto& e) { return e.time >= kBase + std::chrono::hours(10); }));
  CHECK(total("--triage confirmed") == 1);
  CHECK(total("--triage new") == 28);
  CHECK(total("--severity critical --violations") == t.count([](const auto& e) {
    return std::any_of(e.findings.begin(), e.findings.end(), [](const auto& f) { return f.severity == "critical"; });
  }));
  CHECK(total("--user nobody") == 0);
}

TEST_CASE("audit query --format csv is RFC 4180 and defuses spreadsheet formulas", "[cli][audit]") {
  CliTrail t;
  auto r = run_promptwall("audit query " + t.dir() + " --format csv --user '=cmd|calc'");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto rows = split_lines(r.out, "\r\n");
  const size_t expected = t.count([](const auto& e) { return e.user == "=cmd|calc"; });
  REQUIRE(expected > 0);
  REQUIRE(rows.size() == 1 + expected);
  CHECK_THAT(rows[0], Catch::StartsWith("\"time\",\"event_id\",\"seq\""));
  for (size_t i = 1; i < rows.size(); ++i) {
    CHECK_THAT(rows[i], Catch::Contains(",\"'=cmd|calc\","));
    CHECK_THAT(rows[i], !Catch::Contains(",\"=cmd"));
  }
  CHECK(r.out.size() >= 2);
  CHECK(r.out.substr(r.out.size() - 2) == "\r\n");
}

TEST_CASE("audit export writes the trail's own record lines, byte for byte, oldest first", "[cli][audit]") {
  CliTrail t;
  std::string all;
  for (const auto& l : t.lines) all += l + "\n";
  auto r = run_promptwall("audit export " + t.dir());
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out == all);

  TempDir out;
  const auto file = out.path() / "blocks.jsonl";
  auto f = run_promptwall("audit export " + t.dir() + " --decision block --output " + shell_quote(file.string()));
  REQUIRE(f.status == 0);
  CHECK(f.out.empty());
  std::string blocks;
  for (size_t i = 0; i < t.events.size(); ++i)
    if (t.events[i].decision == "block") blocks += t.lines[i] + "\n";
  std::ifstream in(file, std::ios::binary);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == blocks);

  auto csv = run_promptwall("audit export " + t.dir() + " --format csv --violations");
  REQUIRE(csv.status == 0);
  CHECK(split_lines(csv.out, "\r\n").size() == 1 + t.count([](const auto& e) { return e.decision != "allow"; }));

  auto cef = run_promptwall("audit export " + t.dir() + " --format cef --user binh.tran");
  INFO(cef.err);
  REQUIRE(cef.status == 0);
  const auto messages = split_lines(cef.out);
  CHECK(messages.size() == t.count([](const auto& e) { return e.user == "binh.tran"; }));
  for (const auto& m : messages) CHECK_THAT(m, Catch::StartsWith("<") && Catch::Contains("CEF:0|promptwall|"));
}

TEST_CASE("audit query keeps its index where --index says", "[cli][audit]") {
  CliTrail t;
  TempDir elsewhere;
  const auto index = elsewhere.path() / "my.sqlite";
  auto r = run_promptwall("audit query " + t.dir() + " --index " + shell_quote(index.string()));
  REQUIRE(r.status == 0);
  CHECK(fs::exists(index));
  CHECK_FALSE(fs::exists(t.trail.dir() / "index.sqlite"));
}

TEST_CASE("audit query and export refuse what they do not understand (exit 2)", "[cli][audit]") {
  CliTrail t;
  for (const std::string& args : std::vector<std::string>{"audit query " + t.dir() + " --colour red",
                                 "audit query " + t.dir() + " --limit many",
                                 "audit query " + t.dir() + " --since yesterday",
                                 "audit query " + t.dir() + " --until 2026-02-30",
                                 "audit query " + t.dir() + " --format xml",
                                 "audit query " + t.dir() + " --severity severe",
                                 "audit query " + t.dir() + " --triage done",
                                 "audit query " + t.dir() + " --user",
                                 "audit query " + t.dir() + " " + t.dir(),
                                 "audit export " + t.dir() + " --limit 5",
                                 "audit export " + t.dir() + " --format table",
                                 std::string("audit query /nonexistent/promptwall-trail")}) {
    INFO(args);
    auto r = run_promptwall(args);
    CHECK(r.status == 2);
    CHECK_FALSE(r.err.empty());
    CHECK(r.out.empty());
  }
}
