// GatewayMetrics: the gateway's counters, rendered in the Prometheus text exposition format 0.0.4
// for the /metrics endpoint.
//
// Invariants: every method is thread-safe. Unlabelled counters, gauges and histogram buckets are
// lock-free atomics; labelled counters take one short mutex (a map lookup, no allocation once the
// label set exists). render() reads each sample atomically, not all samples as one snapshot: a
// histogram's _sum may include observations in flight that its buckets do not yet (its _count is
// always its +Inf bucket). Label values are
// escaped (\\, \", \n); metric names and label names are fixed here.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

namespace promptwall::gateway {

// A Prometheus histogram with fixed upper bounds (le, inclusive) and one atomic per bucket.
class Histogram {
 public:
  static constexpr size_t kMaxBuckets = 20;
  // `bounds` ascending, at most kMaxBuckets; +Inf is implied.
  explicit Histogram(std::span<const double> bounds);
  void observe(double value);  // negative and NaN values count as 0
  // Appends the _bucket (cumulative, then +Inf), _sum and _count samples of `name`.
  void render(std::string& out, std::string_view name) const;

 private:
  std::array<double, kMaxBuckets> bounds_{};
  size_t size_ = 0;
  std::array<std::atomic<uint64_t>, kMaxBuckets + 1> counts_{};  // per bucket, not cumulative; last: +Inf
  std::atomic<double> sum_{0};
};

// A counter per combination of N label values (instantiated in the .cpp for N = 1 and 2).
template <size_t N>
class LabelledCounter {
 public:
  using Labels = std::array<std::string_view, N>;
  void add(const Labels& values, uint64_t n = 1);
  // Appends one sample per label combination, in label order.
  void render(std::string& out, std::string_view name, const std::array<std::string_view, N>& label_names) const;

 private:
  struct Less {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      for (size_t i = 0; i < N; ++i) {
        std::string_view x = a[i], y = b[i];
        if (x != y) return x < y;
      }
      return false;
    }
  };
  mutable std::mutex mutex_;
  std::map<std::array<std::string, N>, uint64_t, Less> counts_;
};

class GatewayMetrics {
 public:
  GatewayMetrics();

  // decision: allow|warn|redact|justify|block|refused|error
  void request_done(std::string_view service, std::string_view decision, double latency_seconds,
                    uint64_t bytes_in, uint64_t bytes_out);
  void scan_done(double scan_seconds);
  void finding(std::string_view rule_id);
  void refusal(std::string_view reason);  // limits, fail-closed, unapproved... (to_string(Refusal::Reason))
  void connection_opened();
  void connection_closed();
  // Every load, the first included: reloads_total{result="ok|failed"}; an ok load also replaces the
  // version promptwall_ruleset_info reports (a failed one keeps the set in use, so its version).
  void ruleset_loaded(std::string_view version, bool ok);
  // Signed rule bundles (gateway/bundles/): the bundle now served (promptwall_rules_bundle_info's
  // label), and each bundle refused (bad signature, failing examples, older than the one served...).
  void rules_bundle_served(std::string_view version);
  void rules_bundle_refused();
  // The SIEM shipper: events delivered (acknowledged by the SIEM's TCP), and how far the SIEM is
  // behind the trail (durable records not yet delivered; age of the oldest of them).
  void siem_shipped(uint64_t events);
  void siem_lag(uint64_t records_behind, double seconds_behind);
  // The central store's shipper (server/central_shipper.h): the last seq committed there, how many
  // durable records are not yet (the backlog), whether it is connected, and failed attempts.
  void central_state(uint64_t shipped_seq, uint64_t records_behind, bool connected);
  void central_failure();
  // The transparent listener: each redirected connection once, by what became of it
  // (intercepted: TLS terminated or plain HTTP inspected; spliced; refused).
  void transparent_connection(std::string_view outcome);
  // A file a request carried, read (or not) by extractors/: its type ("docx"), its verdict
  // ("read" when read completely, else the unscannable cause), and the time reading took.
  void file_read(std::string_view type, std::string_view verdict, double seconds);
  // The coaching step (gateway/coaching/): an answer asking for a justification, by kind (warn |
  // justify); a justified request forwarded, by kind and via (header | form); a justification that
  // did not count, by cause (TokenProblem's spelling, not_permitted, over_cap).
  void coaching_answer(std::string_view kind);
  void justified(std::string_view kind, std::string_view via);
  void justification_refused(std::string_view cause);

  std::string render() const;

 private:
  LabelledCounter<2> requests_;  // service, decision
  LabelledCounter<1> findings_;  // rule
  LabelledCounter<1> refusals_;  // reason
  LabelledCounter<1> transparent_;  // outcome
  LabelledCounter<2> files_;        // type, verdict
  LabelledCounter<1> coaching_answers_;        // kind
  LabelledCounter<2> justified_;               // kind, via
  LabelledCounter<1> justifications_refused_;  // cause
  Histogram request_duration_;
  Histogram scan_duration_;
  Histogram extraction_duration_;
  std::atomic<uint64_t> bytes_received_{0};
  std::atomic<uint64_t> bytes_sent_{0};
  std::atomic<int64_t> open_connections_{0};
  std::atomic<uint64_t> reloads_ok_{0};
  std::atomic<uint64_t> reloads_failed_{0};
  mutable std::mutex ruleset_mutex_;
  std::string ruleset_version_;  // empty until a set loads
  std::string bundle_version_;   // guarded by ruleset_mutex_; empty until a bundle is served
  std::atomic<uint64_t> bundles_refused_{0};
  std::atomic<uint64_t> siem_shipped_{0};
  std::atomic<uint64_t> siem_records_behind_{0};
  std::atomic<double> siem_seconds_behind_{0};
  std::atomic<uint64_t> central_shipped_seq_{0};
  std::atomic<uint64_t> central_records_behind_{0};
  std::atomic<bool> central_connected_{false};
  std::atomic<uint64_t> central_failures_{0};
};

// The process's memory now: resident set (from /proc/self/statm) and the C heap's bytes in use
// (glibc's mallinfo2: allocated chunks plus mmapped ones). Zero where not readable.
struct ProcessMemory {
  uint64_t resident_bytes = 0;
  uint64_t heap_in_use_bytes = 0;
};
ProcessMemory process_memory();

// A label value as the exposition format wants it: \ " and newline escaped.
std::string escape_label_value(std::string_view value);

}  // namespace promptwall::gateway
