// central::CentralStore against a real PostgreSQL 15 (tests/support/postgres_cluster.h): two
// gateways' trails written by AuditWriter, shipped by CentralWriter as the gateway's shipper does,
// then read back across the fleet and checked against each gateway's own SQLite index; the review
// page over the central store (a triage from one gateway's page on another gateway's event, seen
// at once and never duplicated when the shipper sends the same record).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "audit/audit_index.h"
#include "audit/audit_writer.h"
#include "audit/event.h"
#include "audit/local_time.h"
#include "audit/review_site.h"
#include "audit/signing_key.h"
#include "audit/trail_reader.h"
#include "central/central_store.h"
#include "central/central_writer.h"
#include "../support/postgres_cluster.h"
#include "../support/temp_dir.h"

using namespace promptwall;
using namespace promptwall::audit;
using promptwall::central::CentralStore;
using promptwall::test::PostgresCluster;
using promptwall::test::TempDir;
using namespace std::chrono_literals;

namespace {

// Monday 23 November 2026, 10:00 UTC.
const Clock::time_point kMonday = Clock::time_point(std::chrono::sys_days(std::chrono::year{2026} / 11 / 23)) + 10h;

DecisionEvent decision(Clock::time_point time, std::string user, std::string unit, std::string decision,
                       std::vector<std::pair<std::string, std::string>> findings /* rule, category */,
                       std::string severity = "high") {
  static uint8_t counter = 0;
  uint8_t random[10] = {++counter, 3, 3, 3, 3, 3, 3, 3, 3, 3};
  DecisionEvent e;
  e.time = time;
  e.event_id = new_event_id(time, random);
  e.request_id = "req-" + std::to_string(counter);
  e.client = "10.0.0.9:1234";
  e.user = std::move(user);
  e.unit = std::move(unit);
  e.service = "openai";
  e.method = "POST";
  e.path = "/v1/chat/completions";
  e.decision = std::move(decision);
  e.mode = "enforce";
  e.ruleset = "r1";
  for (auto& [rule, category] : findings) {
    EventFinding f;
    f.rule_id = rule;
    f.category = category;
    f.severity = severity;
    f.action = e.decision;
    f.count = 1;
    e.findings.push_back(std::move(f));
  }
  return e;
}

// One gateway: its trail (AuditWriter) and what it shipped.
struct Gateway {
  std::string id, province;
  TempDir dir;
  std::unique_ptr<AuditWriter> writer;
  uint64_t shipped = 0;

  Gateway(std::string gateway_id, std::string prov) : id(std::move(gateway_id)), province(std::move(prov)), dir("gw") {
    AuditWriterOptions o;
    o.dir = trail();
    o.signing_key = std::make_shared<const SigningKey>(SigningKey::load_or_create(dir.path() / "signing.pem"));
    writer = std::make_unique<AuditWriter>(std::move(o));
  }
  std::filesystem::path trail() const { return dir.path() / "trail"; }
  void add(const std::string& object) { REQUIRE(writer->append_and_wait(object)); }

  // Ships every record after `from` (as the CentralShipper would, one batch).
  void ship(const std::string& conninfo, uint64_t from = 0) {
    central::CentralBatch batch{id, province, "", {}};
    TrailReader reader(trail(), from + 1);
    while (auto r = reader.next()) batch.records.push_back({r->seq, r->line});
    central::CentralWriter(conninfo).write(batch);
    if (!batch.records.empty()) shipped = batch.records.back().seq;
  }
};

std::vector<std::string> ids(const std::vector<IndexedEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.event.event_id);
  return out;
}

// Two gateways with events over two weeks and their traffic counts, shipped.
struct Fleet {
  PostgresCluster pg;
  Gateway hn{"hn-01", "Hà Nội"}, hcm{"hcm-01", "Hồ Chí Minh"};
  std::vector<DecisionEvent> events;

  Fleet() {
    auto add = [&](Gateway& g, DecisionEvent e) {
      g.add(to_json_object(e));
      events.push_back(std::move(e));
    };
    add(hn, decision(kMonday, "an", "so-tu-phap", "block", {{"vn.cccd", "pii"}}));
    add(hn, decision(kMonday + 1h, "binh", "so-tu-phap", "redact", {{"vn.cccd", "pii"}, {"secret.key", "secret"}}, "critical"));
    add(hcm, decision(kMonday + 2h, "chi", "so-y-te", "warn", {{"vn.phone", "pii"}}, "medium"));
    add(hcm, decision(kMonday + 3h, "", "so-y-te", "allow", {{"vn.phone", "pii"}}, "low"));  // monitor: not a violation
    // Sunday 29 November 17:30 UTC is Monday 30 November 00:30 in Vietnam: the second week there.
    add(hn, decision(kMonday + 6 * 24h + 7h + 30min, "an", "so-tu-phap", "block", {{"classified.mat", "classified"}}));
    add(hcm, decision(kMonday + 8 * 24h, "dung", "so-y-te", "block", {{"secret.key", "secret"}}, "critical"));
    // The traffic counts: week 1 so-tu-phap 40 requests (4 with findings), week 2 20 (1).
    const auto hour = [](Clock::time_point t) { return std::chrono::floor<std::chrono::hours>(t); };
    hn.add(to_json_object(TrafficEvent{kMonday, kMonday, kMonday, {{hour(kMonday), "so-tu-phap", "openai", 40, 4}}}));
    hn.add(to_json_object(TrafficEvent{kMonday, kMonday, kMonday,
                                       {{hour(kMonday + 7 * 24h), "so-tu-phap", "openai", 20, 1}}}));
    hcm.add(to_json_object(TrafficEvent{kMonday, kMonday, kMonday,
                                        {{hour(kMonday), "so-y-te", "openai", 10, 5}, {hour(kMonday + 8 * 24h), "so-y-te", "gemini", 10, 1}}}));
    hn.ship(pg.conninfo());
    hcm.ship(pg.conninfo());
  }
};

}  // namespace

TEST_CASE("the central store answers across gateways as each gateway's index does", "[central][store]") {
  if (!PostgresCluster::available()) {
    WARN("SKIPPED: PostgreSQL 15 is not installed (apt-get install postgresql)");
    return;
  }
  Fleet fleet;
  CentralStore store(fleet.pg.conninfo());
  AuditIndex hn(fleet.hn.trail(), fleet.hn.dir.path() / "index.sqlite"), hcm(fleet.hcm.trail(), fleet.hcm.dir.path() / "index.sqlite");
  hn.sync();
  hcm.sync();

  EventFilter violations;
  violations.violations_only = true;
  CHECK(store.count(violations) == 5);
  CHECK(store.count(violations) == hn.count(violations) + hcm.count(violations));
  CHECK(store.count(EventFilter{}) == 6);

  // Newest first across both gateways, in time order.
  std::vector<DecisionEvent> sorted = fleet.events;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.time > b.time; });
  std::vector<std::string> expected;
  for (const auto& e : sorted) expected.push_back(e.event_id);
  CHECK(ids(store.query(EventFilter{}, EventPage{50, 0, true})) == expected);
  CHECK(ids(store.query(EventFilter{}, EventPage{2, 1, true})) == std::vector<std::string>{expected[1], expected[2]});

  // Every filter, the gateway's own ones too.
  EventFilter f = violations;
  f.gateway = "hn-01";
  CHECK(ids(store.query(f, EventPage{})) == ids(hn.query(violations, EventPage{})));
  f = violations;
  f.province = "Hồ Chí Minh";
  CHECK(ids(store.query(f, EventPage{})) == ids(hcm.query(violations, EventPage{})));
  for (const auto& [field, value] : std::vector<std::pair<std::string, std::string>>{
           {"category", "pii"}, {"category", "secret"}, {"rule", "vn.cccd"}, {"severity", "critical"}, {"unit", "so-y-te"},
           {"user", "an"}, {"decision", "block"}}) {
    EventFilter g = violations;
    if (field == "category") g.category = value;
    else if (field == "rule") g.rule = value;
    else if (field == "severity") g.severity = value;
    else if (field == "unit") g.unit = value;
    else if (field == "user") g.user = value;
    else g.decision = value;
    INFO(field << " = " << value);
    std::set<std::string> local;
    for (auto* index : {&hn, &hcm})
      for (const auto& id : ids(index->query(g, EventPage{})) ) local.insert(id);
    const auto central_ids = ids(store.query(g, EventPage{}));
    CHECK(std::set<std::string>(central_ids.begin(), central_ids.end()) == local);
    CHECK(store.count(g) == local.size());
  }
  EventFilter bad = violations;
  bad.severity = "urgent";
  CHECK_THROWS_AS(store.count(bad), std::invalid_argument);

  // An event read back: its line is the trail's own, where it was decided is known.
  const auto& first = fleet.events.front();
  const auto got = store.event(first.event_id);
  REQUIRE(got);
  CHECK(got->gateway == "hn-01");
  CHECK(got->province == "Hà Nội");
  CHECK(got->max_severity == "high");
  CHECK(got->triage_state == "new");
  CHECK(got->event.findings.at(0).rule_id == "vn.cccd");
  CHECK_FALSE(store.event("01NOSUCHEVENT"));
  std::vector<std::string> lines, local_lines;
  store.for_each_line(f, false, [&](uint64_t, const std::string& line) {
    lines.push_back(line);
    return true;
  });
  hcm.for_each_line(violations, false, [&](uint64_t, const std::string& line) {
    local_lines.push_back(line);
    return true;
  });
  CHECK(lines == local_lines);  // byte for byte

  // Charts in Vietnam's days: the Sunday 17:30Z event is on Monday 30 November there.
  const LocalTime vn;
  using std::chrono::year_month_day;
  const auto days = vn.days(year_month_day{std::chrono::year{2026} / 11 / 23}, year_month_day{std::chrono::year{2026} / 12 / 6});
  std::map<std::pair<std::string, std::string>, uint64_t> central_days, local_days;
  for (const auto& d : store.per_bucket(violations, "category", days)) central_days[{d.day, d.key}] += d.count;
  for (auto* index : {&hn, &hcm})
    for (const auto& d : index->per_bucket(violations, "category", days)) local_days[{d.day, d.key}] += d.count;
  CHECK(central_days == local_days);
  CHECK(central_days[{"2026-11-30", "classified"}] == 1);
  CHECK(central_days[{"2026-11-29", "classified"}] == 0);

  // Usage per unit and week: requests from the traffic counts, violations from the events.
  const auto weeks = vn.weeks(year_month_day{std::chrono::year{2026} / 11 / 23}, year_month_day{std::chrono::year{2026} / 12 / 6});
  REQUIRE(weeks.labels == std::vector<std::string>{"2026-W48", "2026-W49"});
  const auto usage = store.usage(EventFilter{}, "unit", weeks);
  std::map<std::pair<std::string, std::string>, UsageRow> by;
  for (const auto& r : usage) by[{r.period, r.key}] = r;
  CHECK(by[{"2026-W48", "so-tu-phap"}].requests == 40);
  CHECK(by[{"2026-W48", "so-tu-phap"}].with_findings == 4);
  CHECK(by[{"2026-W48", "so-tu-phap"}].violations == 2);
  CHECK(by[{"2026-W48", "so-tu-phap"}].violations_by_category == std::map<std::string, uint64_t>{{"pii", 2}, {"secret", 1}});
  CHECK(by[{"2026-W49", "so-tu-phap"}].requests == 20);
  CHECK(by[{"2026-W49", "so-tu-phap"}].violations == 1);  // the Sunday-evening (UTC) one
  CHECK(by[{"2026-W48", "so-y-te"}].violations == 1);     // the allowed one is no violation
  CHECK(by[{"2026-W49", "so-y-te"}].requests == 10);
  // The same rows as the two indexes together.
  std::map<std::pair<std::string, std::string>, std::tuple<uint64_t, uint64_t, uint64_t>> local_usage, central_usage;
  for (auto* index : {&hn, &hcm})
    for (const auto& r : index->usage(EventFilter{}, "unit", weeks)) {
      auto& [a, b, c] = local_usage[{r.period, r.key}];
      a += r.requests;
      b += r.with_findings;
      c += r.violations;
    }
  for (const auto& r : usage) central_usage[{r.period, r.key}] = {r.requests, r.with_findings, r.violations};
  CHECK(central_usage == local_usage);
  // The usage counts come from a rollup kept past each gateway's mark: an event shipped later is
  // added once, and a filter the rollup does not keep (user) reads the events themselves.
  fleet.hcm.add(to_json_object(decision(kMonday + 9 * 24h, "dung", "so-y-te", "block", {{"vn.cccd", "pii"}})));
  fleet.hcm.ship(fleet.pg.conninfo(), fleet.hcm.shipped);
  for (int twice = 0; twice < 2; ++twice) {
    std::map<std::pair<std::string, std::string>, UsageRow> again;
    for (const auto& r : store.usage(EventFilter{}, "unit", weeks)) again[{r.period, r.key}] = r;
    CHECK(again[{"2026-W49", "so-y-te"}].violations == 2);
    CHECK(again[{"2026-W49", "so-y-te"}].violations_by_category == std::map<std::string, uint64_t>{{"pii", 1}, {"secret", 1}});
    CHECK(again[{"2026-W48", "so-tu-phap"}].violations == 2);
  }
  EventFilter pii;
  pii.category = "pii";
  for (const auto& r : store.usage(pii, "unit", weeks))
    if (r.period == "2026-W49" && r.key == "so-y-te") CHECK(r.violations_by_category == std::map<std::string, uint64_t>{{"pii", 1}});
  EventFilter dung;
  dung.user = "dung";
  uint64_t by_dung = 0;
  for (const auto& r : store.usage(dung, "unit", weeks)) by_dung += r.violations;
  CHECK(by_dung == 2);
  CHECK(fleet.pg.psql("SELECT count(*) FROM pw_usage_daily_mark WHERE zone = 'Asia/Ho_Chi_Minh'") == "2");
  // The list page's total over whole local days comes from the rollup too, and agrees.
  EventFilter week = violations;
  week.since = vn.start_of(year_month_day{std::chrono::year{2026} / 11 / 30});
  week.until = vn.start_of(year_month_day{std::chrono::year{2026} / 12 / 7});
  CHECK(store.count(week) == 3);
  week.category = "pii";
  CHECK(store.count(week) == 1);

  EventFilter gemini;
  gemini.service = "gemini";
  const auto only_gemini = store.usage(gemini, "service", weeks);
  REQUIRE(only_gemini.size() == 1);
  CHECK(only_gemini[0].key == "gemini");
  CHECK(only_gemini[0].requests == 10);
  EventFilter province;
  province.province = "Hà Nội";
  for (const auto& r : store.usage(province, "unit", weeks)) CHECK(r.key == "so-tu-phap");

  CHECK(store.distinct("unit") == std::vector<std::string>{"so-tu-phap", "so-y-te"});
  CHECK(store.distinct("gateway") == std::vector<std::string>{"hcm-01", "hn-01"});
  CHECK(store.distinct("province") == std::vector<std::string>{"Hà Nội", "Hồ Chí Minh"});
  CHECK(store.distinct("category") == std::vector<std::string>{"classified", "pii", "secret"});
  CHECK_THROWS_AS(store.distinct("note"), std::invalid_argument);
  CHECK(store.top(violations, "rule", 2) == std::vector<std::pair<std::string, uint64_t>>{{"vn.cccd", 3}, {"secret.key", 2}});
  CHECK(store.top(violations, "user", 1) == std::vector<std::pair<std::string, uint64_t>>{{"an", 2}});
}

namespace {

const std::string& officer_hash() {
  static const std::string hash = hash_password("mật-khẩu-cán-bộ 7");
  return hash;
}

std::string between(const std::string& text, const std::string& before, char end) {
  const size_t at = text.find(before);
  if (at == std::string::npos) return "";
  const size_t from = at + before.size();
  return text.substr(from, text.find(end, from) - from);
}

}  // namespace

TEST_CASE("the review page over the central store: every gateway's events, one triage state for all", "[central][review]") {
  if (!PostgresCluster::available()) {
    WARN("SKIPPED: PostgreSQL 15 is not installed (apt-get install postgresql)");
    return;
  }
  Fleet fleet;
  const std::string conninfo = fleet.pg.conninfo();
  auto site_of = [&](Gateway& g) {
    OfficerAuthOptions auth;
    auth.officers = {{"thanh", officer_hash()}};
    return std::make_unique<ReviewSite>(
        std::move(auth), g.trail(),
        [conninfo, id = g.id, province = g.province]() -> std::unique_ptr<EventStore> {
          return std::make_unique<CentralStore>(conninfo, id, province);
        },
        *g.writer, LocalTime("Asia/Ho_Chi_Minh"));
  };
  auto hn_site = site_of(fleet.hn);
  auto sign_in = [](ReviewSite& site) {
    auto r = site.handle({"POST", "/review/login", "", "name=thanh&password=m%E1%BA%ADt-kh%E1%BA%A9u-c%C3%A1n-b%E1%BB%99+7",
                          "127.0.0.1:5000"});
    REQUIRE(r.status == 303);
    const auto set = r.header("Set-Cookie");
    return set.substr(0, set.find(';'));
  };
  const std::string cookie = sign_in(*hn_site);
  auto get = [&](ReviewSite& site, const std::string& c, const std::string& target) {
    return site.handle({"GET", target, c, "", "127.0.0.1:5000"});
  };

  auto list = get(*hn_site, cookie, "/review");
  REQUIRE(list.status == 200);
  for (const auto& e : fleet.events)
    if (e.decision != "allow") CHECK(list.body.find(e.event_id) != std::string::npos);
  CHECK(list.body.find("id=\"filter-gateway\"") != std::string::npos);  // several gateways: where is a filter
  CHECK(list.body.find("Asia/Ho_Chi_Minh (UTC+07:00)") != std::string::npos);
  CHECK(list.body.find("30/11/2026 00:30") != std::string::npos);  // the Sunday 17:30Z event, in Vietnam
  auto only_hcm = get(*hn_site, cookie, "/review?gateway=hcm-01");
  CHECK(only_hcm.body.find(fleet.events.front().event_id) == std::string::npos);
  CHECK(only_hcm.body.find(fleet.events[2].event_id) != std::string::npos);

  // hn-01's officer triages an event hcm-01 decided: the record goes into hn-01's trail, and is
  // in the central store at once, before any shipping.
  const auto& target = fleet.events[2];
  REQUIRE(target.event_id.size() > 0);
  auto detail = get(*hn_site, cookie, "/review/event/" + target.event_id);
  REQUIRE(detail.status == 200);
  CHECK(detail.body.find("<span id=\"gateway\">hcm-01</span>") != std::string::npos);
  const std::string csrf = between(detail.body, "name=\"csrf\" value=\"", '"');
  REQUIRE(csrf.size() == 64);
  auto done = hn_site->handle({"POST", "/review/event/" + target.event_id + "/triage", cookie,
                               "csrf=" + csrf + "&state=confirmed&note=%C4%90%C3%A3+x%C3%A1c+minh", "127.0.0.1:5000"});
  REQUIRE(done.status == 303);
  CHECK(done.problem.empty());
  CHECK(fleet.pg.psql("SELECT gateway_id || ' ' || state FROM pw_triage WHERE target = '" + target.event_id + "'") ==
        "hn-01 confirmed");

  // An officer on hcm-01's page sees that state.
  auto hcm_site = site_of(fleet.hcm);
  const std::string other = sign_in(*hcm_site);
  auto seen = get(*hcm_site, other, "/review/event/" + target.event_id);
  CHECK(between(seen.body, "<span id=\"triage-state\">", '<') == "Đã xác nhận");
  CHECK(seen.body.find("Đã xác minh") != std::string::npos);  // the note
  auto confirmed = get(*hcm_site, other, "/review?triage=confirmed");
  CHECK(between(confirmed.body, "<span id=\"total\">", '<') == "1");
  auto fresh = get(*hcm_site, other, "/review?triage=new");
  CHECK(between(fresh.body, "<span id=\"total\">", '<') == "4");

  // The shipper sends hn-01's trail, triage included: still one row.
  fleet.hn.ship(conninfo, fleet.hn.shipped);
  CHECK(fleet.pg.psql("SELECT count(*) FROM pw_triage WHERE target = '" + target.event_id + "'") == "1");
  CHECK(fleet.pg.psql("SELECT count(*) FROM pw_records WHERE gateway_id = 'hn-01' AND type = 'triage'") == "1");

  // The usage page and its CSV over the fleet.
  auto usage = get(*hn_site, cookie, "/review/usage?from=2026-11-23&to=2026-12-06");
  REQUIRE(usage.status == 200);
  CHECK(usage.body.find("<svg id=\"chart-usage\"") != std::string::npos);
  CHECK(usage.body.find("id=\"usage-table\"") != std::string::npos);
  CHECK(usage.body.find("data-verdict=\"better\"") != std::string::npos);  // so-tu-phap: 10% → 5%
  CHECK(usage.body.find("style=") == std::string::npos);
  auto csv = get(*hn_site, cookie, "/review/usage.csv?from=2026-11-23&to=2026-12-06");
  REQUIRE(csv.status == 200);
  CHECK(csv.content_type == "text/csv; charset=utf-8");
  CHECK(csv.body.find("\"2026-W48\",\"23/11/2026\",\"so-tu-phap\",\"40\",\"4\",\"0.1000\",\"2\"") != std::string::npos);

  // The server goes away: pages fail (503) without harming the gateway, and come back with it.
  fleet.pg.stop();
  CHECK(get(*hn_site, cookie, "/review").status == 503);
  fleet.pg.start();
  CHECK(get(*hn_site, cookie, "/review").status == 200);
}
