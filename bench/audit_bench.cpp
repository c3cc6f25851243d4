// audit_bench: what the audit trail costs. Measured in one process, each figure beside its
// baseline:
//   - durable events per second with group commit, with N threads each waiting for its own event
//     (as gateway requests do), against one fsync per event (N = 1 is that baseline);
//   - the latency an event adds to its request: append → durable, p50 and p99;
//   - `audit verify` (TrailVerifier) and the SQLite index (sync, a filtered query, a count) per
//     million events.
//
//   audit_bench [--dir DIR] [--events N (default 1000000)] [--seconds S per concurrency (default 3)]
// DIR must be on the disk being measured (default: a new directory under ./audit-bench).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_index.h"
#include "audit/audit_writer.h"
#include "audit/event.h"
#include "audit/signing_key.h"
#include "audit/trail_verifier.h"

using namespace promptwall::audit;
using Steady = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

// A realistic event: a redaction with two findings and their evidence (~900 bytes as JSON).
std::string sample_event(std::mt19937_64& random, uint64_t i, Clock::time_point when) {
  static const char* kUnits[] = {"van-phong", "ke-toan", "phap-che", "to-chuc", "cntt"};
  static const char* kServices[] = {"openai", "gemini", "anthropic"};
  static const char* kDecisions[] = {"redact", "block", "warn", "allow"};
  DecisionEvent e;
  e.time = when;
  uint8_t r[10];
  for (auto& b : r) b = static_cast<uint8_t>(random());
  e.event_id = new_event_id(e.time, r);
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
  e.ruleset = "3f2a9c0d1e2b";
  e.bytes_in = 4096;
  e.bytes_forwarded = 4090;
  e.latency_ms = 0.3;
  e.scan_ms = 0.12;
  return to_json_object(e);
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

struct Run {
  double events_per_second = 0, p50_ms = 0, p99_ms = 0, events_per_commit = 0;
};

// `threads` clients, each appending one event and waiting for it to be durable, again and again.
Run durable_run(const fs::path& dir, std::shared_ptr<const SigningKey> key, int threads, double seconds) {
  fs::remove_all(dir);
  AuditWriterOptions options;
  options.dir = dir;
  options.signing_key = std::move(key);
  AuditWriter writer(options);
  std::atomic<bool> stop{false};
  std::mutex latencies_mutex;
  std::vector<double> latencies;
  std::atomic<uint64_t> done{0};
  std::vector<std::thread> clients;
  const auto start = Steady::now();
  for (int t = 0; t < threads; ++t) {
    clients.emplace_back([&, t] {
      std::mt19937_64 random(static_cast<uint64_t>(t) + 1);
      std::vector<double> mine;
      for (uint64_t i = 0; !stop; ++i) {
        std::string event = sample_event(random, i, Clock::now());
        const auto t0 = Steady::now();
        if (!writer.append_and_wait(std::move(event))) throw std::runtime_error("the trail refused an event");
        mine.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
        ++done;
      }
      std::lock_guard lock(latencies_mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& c : clients) c.join();
  const double elapsed = std::chrono::duration<double>(Steady::now() - start).count();
  const auto stats = writer.stats();
  Run run;
  run.events_per_second = static_cast<double>(done) / elapsed;
  run.p50_ms = percentile(latencies, 0.50);
  run.p99_ms = percentile(latencies, 0.99);
  run.events_per_commit = stats.commits ? static_cast<double>(stats.records) / static_cast<double>(stats.commits) : 0;
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = fs::current_path() / "audit-bench";
  uint64_t events = 1'000'000;
  double seconds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--dir") dir = argv[i + 1];
    else if (arg == "--events") events = std::stoull(argv[i + 1]);
    else if (arg == "--seconds") seconds = std::stod(argv[i + 1]);
    else {
      std::cerr << "usage: audit_bench [--dir DIR] [--events N] [--seconds S]\n";
      return 2;
    }
  }
  fs::create_directories(dir);
  auto key = std::make_shared<const SigningKey>(SigningKey::load_or_create(dir / "bench-signing.pem"));

  std::printf("durable events, each client waiting for its own event (append -> fdatasync -> completion)\n");
  std::printf("%8s %14s %10s %10s %14s\n", "clients", "events/s", "p50 ms", "p99 ms", "events/fsync");
  double baseline = 0;
  for (int threads : {1, 4, 16, 64, 256}) {
    Run r = durable_run(dir / "durable", key, threads, seconds);
    if (threads == 1) baseline = r.events_per_second;
    std::printf("%8d %14.0f %10.3f %10.3f %14.1f   (%.1fx one fsync per event)\n", threads, r.events_per_second, r.p50_ms,
                r.p99_ms, r.events_per_commit, r.events_per_second / baseline);
  }

  // A trail of `events` events over 30 days, written as fast as group commit allows.
  const fs::path trail = dir / "trail";
  fs::remove_all(trail);
  {
    AuditWriterOptions options;
    options.dir = trail;
    options.signing_key = key;
    AuditWriter writer(options);
    std::mt19937_64 random(42);
    const auto first = Clock::now() - std::chrono::hours(24 * 30);
    const auto step = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::hours(24 * 30)) /
                      static_cast<int64_t>(events);
    std::atomic<uint64_t> pending{0};
    std::mutex m;
    std::condition_variable cv;
    const auto t0 = Steady::now();
    for (uint64_t i = 0; i < events; ++i) {
      {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return pending < 50'000; });
      }
      ++pending;
      writer.append(sample_event(random, i, first + step * static_cast<int64_t>(i)), [&](bool) {
        std::lock_guard lock(m);
        --pending;
        cv.notify_one();
      });
    }
    writer.close();
    std::printf("\nwrote %llu events in %.2f s (%.0f events/s, the writer's ceiling with a full queue)\n",
                static_cast<unsigned long long>(events), std::chrono::duration<double>(Steady::now() - t0).count(),
                static_cast<double>(events) / std::chrono::duration<double>(Steady::now() - t0).count());
  }
  const double per_million = 1e6 / static_cast<double>(events);

  VerifyingKey verifying = VerifyingKey::from_pem(SigningKey::load(dir / "bench-signing.pem").public_pem());
  TrailReport report = TrailVerifier(trail, verifying).verify();
  std::printf("audit verify: %llu records in %llu files, %s, %.2f s (%.2f s per million)\n",
              static_cast<unsigned long long>(report.records), static_cast<unsigned long long>(report.files),
              report.intact() ? "intact" : report.problem->message.c_str(), report.seconds, report.seconds * per_million);

  fs::remove(trail / "index.sqlite");
  AuditIndex index(trail, trail / "index.sqlite");
  auto t0 = Steady::now();
  SyncReport sync = index.sync();
  const double sync_s = std::chrono::duration<double>(Steady::now() - t0).count();
  std::printf("index build: %llu records, %.2f s (%.2f s per million), %.0f MB\n",
              static_cast<unsigned long long>(sync.records_added), sync_s, sync_s * per_million,
              static_cast<double>(fs::file_size(trail / "index.sqlite")) / 1e6);

  EventFilter filter;
  filter.unit = "phap-che";
  filter.category = "classification_marking";
  filter.since = Clock::now() - std::chrono::hours(24 * 7);
  filter.violations_only = true;
  t0 = Steady::now();
  auto page = index.query(filter, EventPage{});
  const double query_ms = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
  t0 = Steady::now();
  const uint64_t total = index.count(filter);
  const double count_ms = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
  EventFilter month;
  month.since = Clock::now() - std::chrono::hours(24 * 31);
  month.violations_only = true;
  t0 = Steady::now();
  const uint64_t month_total = index.count(month);
  const double month_ms = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
  t0 = Steady::now();
  SyncReport again = index.sync();
  const double resync_ms = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
  std::printf("query unit+category+7 days+violations, first page of 50: %zu rows in %.1f ms; its count %llu in %.1f ms\n",
              page.size(), query_ms, static_cast<unsigned long long>(total), count_ms);
  std::printf("count of a month's violations: %llu in %.1f ms; an up-to-date sync: %.1f ms (%llu added)\n",
              static_cast<unsigned long long>(month_total), month_ms, resync_ms,
              static_cast<unsigned long long>(again.records_added));
  return report.intact() ? 0 : 1;
}
