#include <catch2/catch.hpp>

#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gateway/record/gateway_metrics.h"

using namespace promptwall::gateway;

namespace {

// One parsed sample: metric name, labels (unescaped), value.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::vector<Sample> samples;
  std::map<std::string, std::string> types;  // family → counter|gauge|histogram
  std::set<std::string> helps;

  // The value of the one sample with this name and exactly these labels; fails the test otherwise.
  double value(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    const Sample* found = nullptr;
    for (const auto& s : samples) {
      if (s.name != name || s.labels != labels) continue;
      REQUIRE(found == nullptr);
      found = &s;
    }
    INFO("sample " << name);
    REQUIRE(found != nullptr);
    return found->value;
  }
  size_t count(const std::string& name) const {
    size_t n = 0;
    for (const auto& s : samples) n += s.name == name;
    return n;
  }
};

// A strict reader of the text format 0.0.4, enough to check what GatewayMetrics writes.
Exposition parse(const std::string& text) {
  Exposition e;
  REQUIRE(!text.empty());
  REQUIRE(text.back() == '\n');
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    INFO("line: " << line);
    REQUIRE(!line.empty());
    if (line.rfind("# HELP ", 0) == 0) {
      std::string rest = line.substr(7);
      size_t sp = rest.find(' ');
      REQUIRE(sp != std::string::npos);
      e.helps.insert(rest.substr(0, sp));
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream ts(line.substr(7));
      std::string family, type;
      ts >> family >> type;
      REQUIRE((type == "counter" || type == "gauge" || type == "histogram"));
      e.types[family] = type;
      continue;
    }
    REQUIRE(line[0] != '#');
    Sample s;
    size_t i = 0;
    while (i < line.size() && (std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '_')) ++i;
    s.name = line.substr(0, i);
    REQUIRE(!s.name.empty());
    if (line[i] == '{') {
      ++i;
      while (line[i] != '}') {
        size_t eq = line.find('=', i);
        REQUIRE(eq != std::string::npos);
        std::string key = line.substr(i, eq - i);
        i = eq + 1;
        REQUIRE(line[i] == '"');
        ++i;
        std::string value;
        while (line[i] != '"') {
          REQUIRE(i < line.size());
          if (line[i] == '\\') {
            ++i;
            char c = line[i];
            REQUIRE((c == '\\' || c == '"' || c == 'n'));
            value += c == 'n' ? '\n' : c;
          } else {
            value += line[i];
          }
          ++i;
        }
        ++i;
        s.labels[key] = value;
        if (line[i] == ',') ++i;
      }
      ++i;
    }
    REQUIRE(line[i] == ' ');
    std::string value = line.substr(i + 1);
    s.value = value == "+Inf" ? HUGE_VAL : std::stod(value);
    // Every sample belongs to a family declared before it.
    std::string family = s.name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string sfx = suffix;
      if (family.size() > sfx.size() && family.compare(family.size() - sfx.size(), sfx.size(), sfx) == 0 &&
          e.types.count(family.substr(0, family.size() - sfx.size())) &&
          e.types[family.substr(0, family.size() - sfx.size())] == "histogram")
        family = family.substr(0, family.size() - sfx.size());
    }
    REQUIRE(e.types.count(family));
    REQUIRE(e.helps.count(family));
    e.samples.push_back(std::move(s));
  }
  return e;
}

}  // namespace

TEST_CASE("every family has HELP and TYPE, even before anything happened", "[metrics]") {
  GatewayMetrics m;
  Exposition e = parse(m.render());
  const std::map<std::string, std::string> expected{
      {"promptwall_requests_total", "counter"},
      {"promptwall_findings_total", "counter"},
      {"promptwall_refusals_total", "counter"},
      {"promptwall_transparent_connections_total", "counter"},
      {"promptwall_files_total", "counter"},
      {"promptwall_coaching_answers_total", "counter"},
      {"promptwall_justified_total", "counter"},
      {"promptwall_justifications_refused_total", "counter"},
      {"promptwall_extraction_duration_seconds", "histogram"},
      {"promptwall_request_duration_seconds", "histogram"},
      {"promptwall_scan_duration_seconds", "histogram"},
      {"promptwall_bytes_received_total", "counter"},
      {"promptwall_bytes_sent_total", "counter"},
      {"promptwall_open_connections", "gauge"},
      {"promptwall_ruleset_info", "gauge"},
      {"promptwall_ruleset_reloads_total", "counter"},
      {"promptwall_rules_bundle_info", "gauge"},
      {"promptwall_rules_bundle_refused_total", "counter"},
      {"promptwall_siem_events_shipped_total", "counter"},
      {"promptwall_siem_records_behind", "gauge"},
      {"promptwall_siem_seconds_behind", "gauge"},
      {"promptwall_central_shipped_seq", "gauge"},
      {"promptwall_central_records_behind", "gauge"},
      {"promptwall_central_connected", "gauge"},
      {"promptwall_central_failures_total", "counter"},
      {"process_resident_memory_bytes", "gauge"},
      {"promptwall_heap_in_use_bytes", "gauge"},
  };
  CHECK(e.types == expected);
  CHECK(e.value("promptwall_open_connections") == 0);
  CHECK(e.value("promptwall_request_duration_seconds_count") == 0);
  CHECK(e.count("promptwall_ruleset_info") == 0);  // no set loaded yet
  CHECK(e.count("promptwall_rules_bundle_info") == 0);  // no bundle served yet
  CHECK(e.value("promptwall_rules_bundle_refused_total") == 0);
  CHECK(e.count("promptwall_requests_total") == 0);
}

TEST_CASE("the SIEM shipper's progress: events shipped add up, the lag is the latest report", "[metrics]") {
  GatewayMetrics m;
  m.siem_shipped(3);
  m.siem_shipped(4);
  m.siem_lag(12, 2.5);
  m.siem_lag(5, 0.25);
  Exposition e = parse(m.render());
  CHECK(e.value("promptwall_siem_events_shipped_total") == 7);
  CHECK(e.value("promptwall_siem_records_behind") == 5);
  CHECK(e.value("promptwall_siem_seconds_behind") == 0.25);
}

TEST_CASE("memory gauges follow the process: RSS and the heap grow with an allocation held", "[metrics]") {
  GatewayMetrics m;
  const Exposition before = parse(m.render());
  CHECK(before.value("process_resident_memory_bytes") > 0);
#ifndef __SANITIZE_ADDRESS__  // ASan's allocator is not glibc's heap: mallinfo2 does not see it
  CHECK(before.value("promptwall_heap_in_use_bytes") > 0);
#endif
  // 64 MiB touched, so it is both in use and resident (mmapped by glibc: counted in hblkhd).
  std::vector<char> held(64u << 20, 'x');
  const Exposition during = parse(m.render());
#ifndef __SANITIZE_ADDRESS__
  CHECK(during.value("promptwall_heap_in_use_bytes") >= before.value("promptwall_heap_in_use_bytes") + (60u << 20));
#endif
  CHECK(during.value("process_resident_memory_bytes") >= before.value("process_resident_memory_bytes") + (60u << 20));
  CHECK(held[12345] == 'x');
}

TEST_CASE("requests, findings, refusals, bytes and connections are counted", "[metrics]") {
  GatewayMetrics m;
  m.request_done("openai", "allow", 0.01, 100, 2000);
  m.request_done("openai", "allow", 0.02, 50, 10);
  m.request_done("openai", "block", 0.001, 7, 3);
  m.request_done("gemini", "redact", 0.5, 1, 1);
  m.finding("vn-pii/cccd");
  m.finding("vn-pii/cccd");
  m.finding("vn-markings/degree-stamp");
  m.refusal("body_too_large");
  m.connection_opened();
  m.connection_opened();
  m.connection_opened();
  m.connection_closed();

  Exposition e = parse(m.render());
  CHECK(e.value("promptwall_requests_total", {{"service", "openai"}, {"decision", "allow"}}) == 2);
  CHECK(e.value("promptwall_requests_total", {{"service", "openai"}, {"decision", "block"}}) == 1);
  CHECK(e.value("promptwall_requests_total", {{"service", "gemini"}, {"decision", "redact"}}) == 1);
  CHECK(e.count("promptwall_requests_total") == 3);
  CHECK(e.value("promptwall_findings_total", {{"rule", "vn-pii/cccd"}}) == 2);
  CHECK(e.value("promptwall_findings_total", {{"rule", "vn-markings/degree-stamp"}}) == 1);
  CHECK(e.value("promptwall_refusals_total", {{"reason", "body_too_large"}}) == 1);
  CHECK(e.value("promptwall_bytes_received_total") == 158);
  CHECK(e.value("promptwall_bytes_sent_total") == 2014);
  CHECK(e.value("promptwall_open_connections") == 2);
  CHECK(e.value("promptwall_request_duration_seconds_count") == 4);
  CHECK(e.value("promptwall_request_duration_seconds_sum") == Approx(0.531));
}

TEST_CASE("histograms have cumulative buckets, +Inf, _sum and _count", "[metrics]") {
  GatewayMetrics m;
  for (double v : {0.00001, 0.00005, 0.0003, 0.002, 0.9, 1.0, 7.0, -1.0}) m.scan_done(v);
  Exposition e = parse(m.render());
  auto bucket = [&](const std::string& le) {
    return e.value("promptwall_scan_duration_seconds_bucket", {{"le", le}});
  };
  // 0.00005 is a bound and le is inclusive; -1 counts as 0.
  CHECK(bucket("5e-05") == 3);
  CHECK(bucket("0.0001") == 3);
  CHECK(bucket("0.0005") == 4);
  CHECK(bucket("0.0025") == 5);
  CHECK(bucket("0.5") == 5);
  CHECK(bucket("1") == 7);
  CHECK(bucket("+Inf") == 8);
  CHECK(e.value("promptwall_scan_duration_seconds_count") == 8);
  CHECK(e.value("promptwall_scan_duration_seconds_sum") == Approx(8.90236));

  // Buckets ascend and never decrease.
  double previous_le = -1, previous_count = 0;
  for (const auto& s : e.samples) {
    if (s.name != "promptwall_scan_duration_seconds_bucket") continue;
    double le = s.labels.at("le") == "+Inf" ? HUGE_VAL : std::stod(s.labels.at("le"));
    CHECK(le > previous_le);
    CHECK(s.value >= previous_count);
    previous_le = le;
    previous_count = s.value;
  }
  CHECK(e.count("promptwall_scan_duration_seconds_bucket") == 15);  // 14 bounds + Inf
  CHECK(previous_le == HUGE_VAL);

  // Request buckets run from 0.0005 to 30 s.
  CHECK(e.value("promptwall_request_duration_seconds_bucket", {{"le", "0.0005"}}) == 0);
  CHECK(e.value("promptwall_request_duration_seconds_bucket", {{"le", "30"}}) == 0);
  CHECK(e.count("promptwall_request_duration_seconds_bucket") == 16);
}

TEST_CASE("rule set loads set the info gauge and count by result", "[metrics]") {
  GatewayMetrics m;
  m.ruleset_loaded("abc123", true);
  m.ruleset_loaded("def456", false);  // failed reload: the old set stays in use
  Exposition e = parse(m.render());
  CHECK(e.value("promptwall_ruleset_info", {{"version", "abc123"}}) == 1);
  CHECK(e.count("promptwall_ruleset_info") == 1);
  CHECK(e.value("promptwall_ruleset_reloads_total", {{"result", "ok"}}) == 1);
  CHECK(e.value("promptwall_ruleset_reloads_total", {{"result", "failed"}}) == 1);

  m.ruleset_loaded("def456", true);
  e = parse(m.render());
  CHECK(e.value("promptwall_ruleset_info", {{"version", "def456"}}) == 1);
  CHECK(e.count("promptwall_ruleset_info") == 1);
  CHECK(e.value("promptwall_ruleset_reloads_total", {{"result", "ok"}}) == 2);
}

TEST_CASE("label values are escaped", "[metrics]") {
  CHECK(escape_label_value("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
  GatewayMetrics m;
  const std::string nasty = "svc \"x\"\\\nend";
  m.request_done(nasty, "allow", 0, 0, 0);
  m.finding("rule,{with}=odd");
  std::string text = m.render();
  CHECK(text.find("service=\"svc \\\"x\\\"\\\\\\nend\"") != std::string::npos);
  Exposition e = parse(text);
  CHECK(e.value("promptwall_requests_total", {{"service", nasty}, {"decision", "allow"}}) == 1);
  CHECK(e.value("promptwall_findings_total", {{"rule", "rule,{with}=odd"}}) == 1);
}

TEST_CASE("8 threads x 10k updates give exact totals", "[metrics]") {
  GatewayMetrics m;
  constexpr int kThreads = 8, kEach = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&m, t] {
      const std::string service = t % 2 ? "openai" : "gemini";
      for (int i = 0; i < kEach; ++i) {
        m.connection_opened();
        m.request_done(service, "allow", 0.002, 3, 5);
        m.scan_done(0.0002);
        m.finding("r1");
        m.refusal("overloaded");
        m.connection_closed();
      }
    });
  }
  for (auto& th : threads) th.join();
  Exposition e = parse(m.render());
  constexpr double total = kThreads * kEach;
  CHECK(e.value("promptwall_requests_total", {{"service", "openai"}, {"decision", "allow"}}) == total / 2);
  CHECK(e.value("promptwall_requests_total", {{"service", "gemini"}, {"decision", "allow"}}) == total / 2);
  CHECK(e.value("promptwall_findings_total", {{"rule", "r1"}}) == total);
  CHECK(e.value("promptwall_refusals_total", {{"reason", "overloaded"}}) == total);
  CHECK(e.value("promptwall_bytes_received_total") == 3 * total);
  CHECK(e.value("promptwall_bytes_sent_total") == 5 * total);
  CHECK(e.value("promptwall_open_connections") == 0);
  CHECK(e.value("promptwall_request_duration_seconds_count") == total);
  CHECK(e.value("promptwall_request_duration_seconds_bucket", {{"le", "0.0025"}}) == total);
  CHECK(e.value("promptwall_request_duration_seconds_bucket", {{"le", "0.001"}}) == 0);
  CHECK(e.value("promptwall_scan_duration_seconds_bucket", {{"le", "0.00025"}}) == total);
  CHECK(e.value("promptwall_scan_duration_seconds_sum") == Approx(0.0002 * total));
}

TEST_CASE("histogram bounds must ascend", "[metrics]") {
  const std::vector<double> bad{1, 0.5};
  CHECK_THROWS_AS(Histogram(bad), std::invalid_argument);
  const std::vector<double> too_many(Histogram::kMaxBuckets + 1, 1);
  CHECK_THROWS_AS(Histogram(too_many), std::invalid_argument);
}

TEST_CASE("the rule bundle served is a label, refusals a counter", "[metrics][bundle]") {
  GatewayMetrics m;
  m.rules_bundle_served("2026.12.07-1");
  m.rules_bundle_served("2026.12.07-2");
  m.rules_bundle_refused();
  Exposition e = parse(m.render());
  CHECK(e.count("promptwall_rules_bundle_info") == 1);  // only the bundle in use
  CHECK(e.value("promptwall_rules_bundle_info", {{"version", "2026.12.07-2"}}) == 1);
  CHECK(e.value("promptwall_rules_bundle_refused_total") == 1);
}

TEST_CASE("the central shipper's state: the latest report, and failures add up", "[metrics]") {
  GatewayMetrics m;
  m.central_state(40, 12, false);
  m.central_failure();
  m.central_failure();
  m.central_state(52, 0, true);
  Exposition e = parse(m.render());
  CHECK(e.value("promptwall_central_shipped_seq") == 52);
  CHECK(e.value("promptwall_central_records_behind") == 0);
  CHECK(e.value("promptwall_central_connected") == 1);
  CHECK(e.value("promptwall_central_failures_total") == 2);
}
