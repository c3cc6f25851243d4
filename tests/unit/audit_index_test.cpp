#include <sqlite3.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "audit/audit_index.h"
#include "audit/trail_format.h"
#include "trail_builder.h"

using namespace promptwall::audit;
using namespace promptwall::test;
namespace fs = std::filesystem;

namespace {

const Clock::time_point kBase = Clock::time_point(std::chrono::seconds(1795824000));  // 2026-11-28T00:00:00Z

int rank(const std::string& s) {
  const std::vector<std::string> order = {"low", "medium", "high", "critical"};
  const auto it = std::find(order.begin(), order.end(), s);
  return it == order.end() ? 0 : static_cast<int>(it - order.begin()) + 1;
}

// A trail of `n` varied decision events over files of 8 records, with a checkpoint-like record
// every 10 events (which the index must skip while counting its seq); and the same events, to
// compute what each query should return.
struct Seeded {
  TempDir tmp;
  TrailBuilder trail{tmp.path() / "trail", 8};
  std::vector<DecisionEvent> events;
  std::vector<std::string> lines;               // decision record lines, oldest first
  std::map<std::string, std::string> triage;    // event_id → latest state
  fs::path index_file() const { return tmp.path() / "index.sqlite"; }

  explicit Seeded(uint64_t n) { add(n); }
  void add(uint64_t n) {
    const uint64_t from = events.size();
    for (uint64_t i = from; i < from + n; ++i) {
      events.push_back(sample_event(i, kBase));
      lines.push_back(trail.append(events.back()));
      if (i % 10 == 9) trail.append("{\"type\":\"checkpoint\",\"records\":" + std::to_string(trail.last_seq()) + "}");
    }
  }
  void set_triage(const std::string& target, const std::string& state, const std::string& note = "") {
    trail.append(sample_triage(target, state, kBase + std::chrono::hours(100 + triage.size()), note));
    triage[target] = state;
  }

  std::string state_of(const DecisionEvent& e) const {
    auto it = triage.find(e.event_id);
    return it == triage.end() ? "new" : it->second;
  }

  bool matches(const DecisionEvent& e, const EventFilter& f) const {
    auto has = [&](auto pred) { return std::any_of(e.findings.begin(), e.findings.end(), pred); };
    int max = 0;
    for (const auto& x : e.findings) max = std::max(max, rank(x.severity));
    return (!f.since || e.time >= *f.since) && (!f.until || e.time < *f.until) && (f.user.empty() || e.user == f.user) &&
           (f.unit.empty() || e.unit == f.unit) && (f.service.empty() || e.service == f.service) &&
           (f.decision.empty() || e.decision == f.decision) && (!f.violations_only || e.decision != "allow") &&
           (f.severity.empty() || max >= rank(f.severity)) &&
           (f.rule.empty() || has([&](const EventFinding& x) { return x.rule_id == f.rule; })) &&
           (f.category.empty() || has([&](const EventFinding& x) { return x.category == f.category; })) &&
           (f.triage.empty() || state_of(e) == f.triage);
  }

  // Expected event ids, newest first.
  std::vector<std::string> expected(const EventFilter& f) const {
    std::vector<std::string> ids;
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (matches(*it, f)) ids.push_back(it->event_id);
    return ids;
  }
};

std::vector<std::string> ids_of(const std::vector<IndexedEvent>& events) {
  std::vector<std::string> ids;
  for (const auto& e : events) ids.push_back(e.event.event_id);
  return ids;
}

std::vector<std::string> all_ids(const AuditIndex& index, const EventFilter& f) {
  return ids_of(index.query(f, EventPage{1000, 0, true}));
}

}  // namespace

TEST_CASE("each filter narrows the events to exactly those that match", "[audit][index]") {
  Seeded s(50);
  AuditIndex index(s.trail.dir(), s.index_file());
  const auto report = index.sync();
  CHECK(report.records_added == 55);  // 50 events and 5 checkpoints
  CHECK(report.last_seq == s.trail.last_seq());

  std::vector<std::pair<std::string, EventFilter>> cases;
  auto add = [&](std::string name, auto set) {
    EventFilter f;
    set(f);
    cases.emplace_back(std::move(name), f);
  };
  add("none", [](EventFilter&) {});
  add("since", [](EventFilter& f) { f.since = kBase + std::chrono::hours(10); });
  add("until", [](EventFilter& f) { f.until = kBase + std::chrono::minutes(37 * 20); });  // exclusive
  add("since+until", [](EventFilter& f) {
    f.since = kBase + std::chrono::minutes(37 * 10);
    f.until = kBase + std::chrono::minutes(37 * 30);
  });
  add("user", [](EventFilter& f) { f.user = "binh.tran"; });
  add("unit", [](EventFilter& f) { f.unit = "Phòng Kế toán"; });
  add("service", [](EventFilter& f) { f.service = "gemini"; });
  add("decision", [](EventFilter& f) { f.decision = "redact"; });
  add("violations", [](EventFilter& f) { f.violations_only = true; });
  add("severity high+", [](EventFilter& f) { f.severity = "high"; });
  add("severity critical", [](EventFilter& f) { f.severity = "critical"; });
  add("rule", [](EventFilter& f) { f.rule = "vn.cccd"; });
  add("category", [](EventFilter& f) { f.category = "secret"; });
  add("combined", [](EventFilter& f) {
    f.unit = "IT";
    f.violations_only = true;
    f.since = kBase + std::chrono::hours(3);
    f.category = "secret";
  });
  add("nothing", [](EventFilter& f) {
    f.user = "an.nguyen";
    f.unit = "nobody's";
  });
  for (const auto& [name, filter] : cases) {
    INFO(name);
    const auto want = s.expected(filter);
    CHECK(all_ids(index, filter) == want);
    CHECK(index.count(filter) == want.size());
    if (name != "none" && name != "nothing") {
      CHECK(want.size() < s.events.size());  // the filter does narrow
      CHECK_FALSE(want.empty());
    }
  }
  EventFilter bad;
  bad.severity = "severe";
  CHECK_THROWS_AS(index.count(bad), std::invalid_argument);
}

TEST_CASE("an indexed event reads back whole, with its max severity and record line", "[audit][index]") {
  Seeded s(12);
  AuditIndex index(s.trail.dir(), s.index_file());
  index.sync();
  const auto& original = s.events[7];
  const auto got = index.event(original.event_id);
  REQUIRE(got);
  CHECK(to_json_object(got->event) == to_json_object(original));
  CHECK(got->max_severity == "critical");  // sample 7: findings of severity index 3 and 0
  CHECK(got->triage_state == "new");
  CHECK(got->seq == read_record_head(s.lines[7])->seq);
  CHECK(index.record_line(got->seq) == s.lines[7]);
  CHECK_FALSE(index.event("no-such-event"));
  // The seq of a checkpoint is not an event's.
  CHECK_FALSE(index.record_line(11));
}

TEST_CASE("pages cover the matches in order, newest or oldest first", "[audit][index]") {
  Seeded s(50);
  AuditIndex index(s.trail.dir(), s.index_file());
  index.sync();
  EventFilter violations;
  violations.violations_only = true;
  const auto want = s.expected(violations);
  REQUIRE(want.size() == 40);

  std::vector<std::string> paged;
  for (size_t offset = 0; offset < 50; offset += 15) {
    const auto page = index.query(violations, EventPage{15, offset, true});
    CHECK(page.size() == std::min<size_t>(15, want.size() - std::min(offset, want.size())));
    for (auto& id : ids_of(page)) paged.push_back(id);
  }
  CHECK(paged == want);

  auto oldest = ids_of(index.query(violations, EventPage{5, 0, false}));
  CHECK(oldest == std::vector<std::string>(want.rbegin(), want.rbegin() + 5));
  CHECK(index.query(violations, EventPage{10, 40, true}).empty());
}

TEST_CASE("triage: the last record wins, its history is kept, and the filter matches the state", "[audit][index]") {
  Seeded s(20);
  const std::string a = s.events[3].event_id, b = s.events[4].event_id, c = s.events[8].event_id;
  s.set_triage(a, "confirmed", "first look");
  s.set_triage(b, "closed");
  s.set_triage(a, "false_positive", "a test number");
  s.set_triage(c, "new");  // explicitly back to new
  AuditIndex index(s.trail.dir(), s.index_file());
  index.sync();

  const auto got = index.event(a);
  REQUIRE(got);
  CHECK(got->triage_state == "false_positive");
  CHECK(got->triage_note == "a test number");
  const auto history = index.triage_history(a);
  REQUIRE(history.size() == 2);
  CHECK(history[0].triage.state == "confirmed");
  CHECK(history[0].triage.note == "first look");
  CHECK(history[1].triage.state == "false_positive");
  CHECK(history[0].seq < history[1].seq);
  CHECK(history[1].triage.officer == "officer1");

  for (const std::string state : {"new", "confirmed", "false_positive", "closed"}) {
    INFO(state);
    EventFilter f;
    f.triage = state;
    CHECK(all_ids(index, f) == s.expected(f));
    CHECK(index.count(f) == s.expected(f).size());
  }
  EventFilter fp;
  fp.triage = "false_positive";
  CHECK(all_ids(index, fp) == std::vector<std::string>{a});
  EventFilter fresh;
  fresh.triage = "new";
  CHECK(index.count(fresh) == 18);  // all but a and b; c was set back to new

  // A later triage record, synced incrementally, moves the event again.
  s.set_triage(a, "closed");
  index.sync();
  CHECK(index.event(a)->triage_state == "closed");
  CHECK(index.triage_history(a).size() == 3);
}

TEST_CASE("sync adds only what was appended since the last one", "[audit][index]") {
  Seeded s(30);
  {
    AuditIndex index(s.trail.dir(), s.index_file());
    const auto first = index.sync();
    CHECK(first.rebuilt);  // there was no index
    CHECK(first.rebuild_reason == "there was no index");
    CHECK(first.records_added == 33);
    const auto again = index.sync();
    CHECK_FALSE(again.rebuilt);
    CHECK(again.records_added == 0);
    CHECK(again.last_seq == first.last_seq);

    s.add(7);  // into the current file and a new one
    const auto more = index.sync();
    CHECK_FALSE(more.rebuilt);
    CHECK(more.records_added == 7);
    CHECK(index.count({}) == 37);
  }
  // Another process (another AuditIndex on the same file) finds nothing left to do.
  AuditIndex other(s.trail.dir(), s.index_file());
  const auto r = other.sync();
  CHECK_FALSE(r.rebuilt);
  CHECK(r.records_added == 0);
  CHECK(all_ids(other, {}) == s.expected({}));
}

TEST_CASE("a record still being written is indexed once it is whole", "[audit][index]") {
  Seeded s(5);
  const std::string line = s.trail.append_torn(to_json_object(sample_event(5, kBase)), 40);
  AuditIndex index(s.trail.dir(), s.index_file());
  CHECK(index.sync().records_added == 5);
  s.trail.finish_torn();
  const auto r = index.sync();
  CHECK_FALSE(r.rebuilt);
  CHECK(r.records_added == 1);
  CHECK(index.count({}) == 6);
  CHECK(index.record_line(6) == line);
}

TEST_CASE("the index is rebuilt when it is missing or no longer matches the trail", "[audit][index]") {
  Seeded s(24);
  { AuditIndex(s.trail.dir(), s.index_file()).sync(); }

  SECTION("deleted") {
    fs::remove(s.index_file());
    AuditIndex index(s.trail.dir(), s.index_file());
    const auto r = index.sync();
    CHECK(r.rebuilt);
    CHECK(r.records_added == 26);
    CHECK(all_ids(index, {}) == s.expected({}));
  }
  SECTION("a file's last indexed record replaced (same size, another hash)") {
    const auto files = list_trail_files(s.trail.dir());
    const fs::path file = files[1].path;
    std::string content;
    {
      std::ifstream in(file, std::ios::binary);
      content.assign(std::istreambuf_iterator<char>(in), {});
    }
    // Overwrite the last record's decision with as many X: same size, other bytes.
    const size_t last_start = content.rfind('\n', content.size() - 2) + 1;
    const size_t at = content.find("\"decision\":\"", last_start);
    REQUIRE(at != std::string::npos);
    const size_t length = content.find('"', at + 12) - (at + 12);
    content.replace(at + 12, length, std::string(length, 'X'));
    std::ofstream(file, std::ios::binary | std::ios::trunc) << content;

    AuditIndex index(s.trail.dir(), s.index_file());
    const auto r = index.sync();
    CHECK(r.rebuilt);
    CHECK_THAT(r.rebuild_reason, Catch::Contains(file.filename().string()) && Catch::Contains("not the one indexed"));
    EventFilter f;
    f.decision = std::string(length, 'X');
    CHECK(index.count(f) == 1);
  }
  SECTION("the last file shrank") {
    // Cut into the last event (seq 26): what is left of it is a partial line, not a record.
    const fs::path file = list_trail_files(s.trail.dir()).back().path;
    fs::resize_file(file, fs::file_size(file) - 10);
    AuditIndex index(s.trail.dir(), s.index_file());
    const auto r = index.sync();
    CHECK(r.rebuilt);
    CHECK_THAT(r.rebuild_reason, Catch::Contains("shrank"));
    CHECK(r.last_seq == 25);
    CHECK(index.count({}) == 23);
  }
  SECTION("a middle file cut short: the damage is named, not indexed around") {
    const fs::path file = list_trail_files(s.trail.dir())[0].path;
    fs::resize_file(file, fs::file_size(file) - 10);
    AuditIndex index(s.trail.dir(), s.index_file());
    CHECK_THROWS_WITH(index.sync(), Catch::Contains(file.filename().string()) && Catch::Contains("incomplete"));
  }
  SECTION("a file is gone") {
    const fs::path gone = list_trail_files(s.trail.dir())[1].path;
    std::ifstream in(gone, std::ios::binary);
    uint64_t events_in_it = 0;
    for (std::string line; std::getline(in, line);) events_in_it += line.find("\"type\":\"decision\"") != std::string::npos;
    REQUIRE(events_in_it > 0);
    fs::remove(gone);
    AuditIndex index(s.trail.dir(), s.index_file());
    // The trail now skips from seq 8 to 17: the index is rebuilt from what is there.
    const auto r = index.sync();
    CHECK(r.rebuilt);
    CHECK_THAT(r.rebuild_reason, Catch::Contains("missing"));
    CHECK(index.count({}) == 24 - events_in_it);
  }
  SECTION("an index of another schema version") {
    // Stamp the index as made by a future version.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(s.index_file().c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    AuditIndex index(s.trail.dir(), s.index_file());
    const auto r = index.sync();
    CHECK(r.rebuilt);
    CHECK_THAT(r.rebuild_reason, Catch::Contains("schema version 99"));
    CHECK(index.count({}) == 24);
  }
  SECTION("untouched: no rebuild") {
    AuditIndex index(s.trail.dir(), s.index_file());
    CHECK_FALSE(index.sync().rebuilt);
  }
}

TEST_CASE("charts: violations per day by category and by unit, top rules and users", "[audit][index]") {
  Seeded s(50);  // 37 minutes apart from 2026-11-28T00:00Z: days 28, 29 (and 30 from event 78 on)
  AuditIndex index(s.trail.dir(), s.index_file());
  index.sync();
  EventFilter f;
  f.violations_only = true;

  auto day_of = [](Clock::time_point t) {
    const std::time_t secs = Clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return std::string(buf);
  };
  std::map<std::pair<std::string, std::string>, uint64_t> by_category, by_unit;
  std::map<std::string, uint64_t> rules, users;
  for (const auto& e : s.events) {
    if (!s.matches(e, f)) continue;
    std::set<std::string> categories, event_rules;
    for (const auto& x : e.findings) {
      categories.insert(x.category);
      event_rules.insert(x.rule_id);
    }
    for (const auto& c : categories) ++by_category[{day_of(e.time), c}];
    for (const auto& r : event_rules) ++rules[r];
    ++by_unit[{day_of(e.time), e.unit}];
    ++users[e.user];
  }
  auto as_map = [](const std::vector<AuditIndex::DayCount>& v) {
    std::map<std::pair<std::string, std::string>, uint64_t> m;
    for (const auto& d : v) m[{d.day, d.key}] = d.count;
    return m;
  };
  CHECK(as_map(index.per_day(f, "category")) == by_category);
  CHECK(as_map(index.per_day(f, "unit")) == by_unit);
  CHECK(by_unit.size() == 6);  // two days × three units

  auto top_of = [](const std::map<std::string, uint64_t>& m, size_t n) {
    std::vector<std::pair<std::string, uint64_t>> v(m.begin(), m.end());
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    v.resize(std::min(n, v.size()));
    return v;
  };
  CHECK(index.top(f, "rule", 3) == top_of(rules, 3));
  CHECK(index.top(f, "user", 10) == top_of(users, 10));
  CHECK(index.top(f, "rule", 3).size() == 3);
  CHECK_THROWS_AS(index.top(f, "colour", 3), std::invalid_argument);
}

TEST_CASE("distinct values for the filter drop-downs", "[audit][index]") {
  Seeded s(30);
  AuditIndex index(s.trail.dir(), s.index_file());
  index.sync();
  CHECK(index.distinct("unit") == std::vector<std::string>{"IT", "Nhân sự", "Phòng Kế toán"});
  CHECK(index.distinct("service") == std::vector<std::string>{"gemini", "openai"});
  CHECK(index.distinct("user") == std::vector<std::string>{"=cmd|calc", "an.nguyen", "binh.tran", "dung.le"});
  CHECK(index.distinct("category") == std::vector<std::string>{"classified", "pii", "secret"});
  CHECK(index.distinct("rule").size() == 7);
  CHECK_THROWS_AS(index.distinct("note"), std::invalid_argument);
}

TEST_CASE("a record that is not valid JSON stops the sync with its place", "[audit][index]") {
  Seeded s(3);
  s.trail.append("{\"type\":\"decision\",\"event_id\":\"broken\",}");
  AuditIndex index(s.trail.dir(), s.index_file());
  CHECK_THROWS_WITH(index.sync(), Catch::Contains("record 4"));
}

// Not a test: figures for the README (run `unit_tests "[.bench]"`). A million synthetic events,
// then the full build, a filtered page, a month's count and an incremental sync are timed.
TEST_CASE("index a million events", "[.bench][audit][index]") {
  using namespace std::chrono;
  constexpr uint64_t kEvents = 1'000'000;
  TempDir tmp;
  const auto t0 = steady_clock::now();
  TrailBuilder trail(tmp.path() / "trail", 100'000);
  auto event = [&](uint64_t i) {
    DecisionEvent e = sample_event(i, kBase);
    e.time = kBase + seconds(8 * i);  // ~93 days
    e.user = "user" + std::to_string(i % 997);
    e.unit = "unit" + std::to_string(i % 23);
    return e;
  };
  for (uint64_t i = 0; i < kEvents; ++i) trail.append(event(i));
  const auto t1 = steady_clock::now();
  uint64_t trail_bytes = 0;
  for (const auto& f : list_trail_files(tmp.path() / "trail")) trail_bytes += fs::file_size(f.path);

  AuditIndex index(tmp.path() / "trail", tmp.path() / "index.sqlite");
  const auto report = index.sync();
  const auto t2 = steady_clock::now();
  REQUIRE(report.records_added == kEvents);
  uint64_t index_bytes = 0;
  for (const char* suffix : {"", "-wal"})
    if (fs::exists(tmp.path() / ("index.sqlite" + std::string(suffix))))
      index_bytes += fs::file_size(tmp.path() / ("index.sqlite" + std::string(suffix)));

  auto ms = [](auto d) { return duration<double, std::milli>(d).count(); };
  EventFilter filtered;
  filtered.unit = "unit7";
  filtered.since = kBase + hours(24 * 40);
  filtered.violations_only = true;
  const auto q0 = steady_clock::now();
  const auto page = index.query(filtered, EventPage{50, 0, true});
  const auto q1 = steady_clock::now();
  const auto filtered_total = index.count(filtered);
  const auto q2 = steady_clock::now();
  EventFilter month;
  month.since = kBase + hours(24 * 30);
  month.until = kBase + hours(24 * 60);
  const auto month_total = index.count(month);
  const auto q3 = steady_clock::now();
  EventFilter rule;
  rule.rule = "vn.cccd";
  rule.since = kBase + hours(24 * 30);
  const auto rule_page = index.query(rule, EventPage{50, 0, true});
  const auto q4 = steady_clock::now();
  const auto units = index.distinct("unit");
  const auto q5 = steady_clock::now();
  const auto per_day = index.per_day(month, "category");
  const auto q6 = steady_clock::now();
  REQUIRE(page.size() == 50);
  REQUIRE(rule_page.size() == 50);
  REQUIRE(units.size() == 23);

  for (uint64_t i = kEvents; i < kEvents + 1000; ++i) trail.append(event(i));
  const auto s0 = steady_clock::now();
  const auto incremental = index.sync();
  const auto s1 = steady_clock::now();
  REQUIRE(incremental.records_added == 1000);
  REQUIRE_FALSE(incremental.rebuilt);
  WARN("generate " << kEvents << " events: " << ms(t1 - t0) << " ms, trail " << trail_bytes / (1 << 20) << " MiB\n"
       << "full sync: " << ms(t2 - t1) << " ms, index " << index_bytes / (1 << 20) << " MiB\n"
       << "query --unit --since --violations --limit 50: " << ms(q1 - q0) << " ms; its count (" << filtered_total
       << "): " << ms(q2 - q1) << " ms\n"
       << "count over a month (" << month_total << "): " << ms(q3 - q2) << " ms\n"
       << "query --rule --since --limit 50: " << ms(q4 - q3) << " ms\n"
       << "distinct units: " << ms(q5 - q4) << " ms; per_day by category over a month: " << ms(q6 - q5) << " ms\n"
       << "incremental sync of 1000 events: " << ms(s1 - s0) << " ms");
}
