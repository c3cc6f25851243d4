#include "gateway/record/gateway_metrics.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <stdexcept>

namespace promptwall::gateway {

namespace {

// Request latency spans a cached refusal (sub-millisecond) to a long streamed completion.
constexpr std::array<double, 15> kRequestBounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                0.25,   0.5,   1,      2.5,   5,     10,    30};
// Scanning one request: tens of microseconds for a chat turn, up to a second for a large document.
// Reading a file: a small text file in a millisecond, a large PDF or sheet in seconds.
constexpr std::array<double, 12> kExtractionBounds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
constexpr std::array<double, 14> kScanBounds{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                             0.01,    0.025,  0.05,    0.1,    0.25,  0.5,    1};

// Shortest text that reads back as the same double, in %g style as the Go client writes bounds
// ("0.0005", "5e-05", "30"), so `le` selectors people copy from other exporters match.
void append_number(std::string& out, double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
  out.append(buf, ec == std::errc() ? end : buf);
}

void append_number(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? end : buf);
}

void append_header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

template <class T>
void append_sample(std::string& out, std::string_view name, T value) {
  out.append(name).append(" ");
  append_number(out, value);
  out += '\n';
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

// --- Histogram -------------------------------------------------------------------------------

Histogram::Histogram(std::span<const double> bounds) : size_(bounds.size()) {
  if (bounds.size() > kMaxBuckets) throw std::invalid_argument("Histogram: too many buckets");
  if (!std::is_sorted(bounds.begin(), bounds.end()) ||
      std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end())
    throw std::invalid_argument("Histogram: bounds must be strictly ascending");
  std::copy(bounds.begin(), bounds.end(), bounds_.begin());
}

void Histogram::observe(double value) {
  if (!(value > 0)) value = 0;  // also catches NaN
  // First bucket whose upper bound holds the value (le is inclusive); past the last: +Inf.
  size_t i = std::lower_bound(bounds_.begin(), bounds_.begin() + size_, value) - bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

void Histogram::render(std::string& out, std::string_view name) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= size_; ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    out.append(name).append("_bucket{le=\"");
    if (i < size_)
      append_number(out, bounds_[i]);
    else
      out += "+Inf";
    out += "\"} ";
    append_number(out, cumulative);
    out += '\n';
  }
  append_sample(out, std::string(name) + "_sum", sum_.load(std::memory_order_relaxed));
  // _count equals the +Inf bucket, as the format requires, whatever observations were in flight.
  append_sample(out, std::string(name) + "_count", cumulative);
}

// --- LabelledCounter -------------------------------------------------------------------------

template <size_t N>
void LabelledCounter<N>::add(const Labels& values, uint64_t n) {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(values);
  if (it == counts_.end()) {
    std::array<std::string, N> key;
    for (size_t i = 0; i < N; ++i) key[i] = std::string(values[i]);
    it = counts_.emplace(std::move(key), 0).first;
  }
  it->second += n;
}

template <size_t N>
void LabelledCounter<N>::render(std::string& out, std::string_view name,
                                const std::array<std::string_view, N>& label_names) const {
  std::lock_guard lock(mutex_);
  for (const auto& [labels, count] : counts_) {
    out.append(name) += '{';
    for (size_t i = 0; i < N; ++i) {
      if (i) out += ',';
      out.append(label_names[i]).append("=\"").append(escape_label_value(labels[i])) += '"';
    }
    out += "} ";
    append_number(out, count);
    out += '\n';
  }
}

template class LabelledCounter<1>;
template class LabelledCounter<2>;

// --- GatewayMetrics --------------------------------------------------------------------------

GatewayMetrics::GatewayMetrics()
    : request_duration_(kRequestBounds), scan_duration_(kScanBounds), extraction_duration_(kExtractionBounds) {}

void GatewayMetrics::request_done(std::string_view service, std::string_view decision, double latency_seconds,
                                  uint64_t bytes_in, uint64_t bytes_out) {
  requests_.add({service, decision});
  request_duration_.observe(latency_seconds);
  bytes_received_.fetch_add(bytes_in, std::memory_order_relaxed);
  bytes_sent_.fetch_add(bytes_out, std::memory_order_relaxed);
}

void GatewayMetrics::scan_done(double scan_seconds) { scan_duration_.observe(scan_seconds); }

void GatewayMetrics::finding(std::string_view rule_id) { findings_.add({rule_id}); }

void GatewayMetrics::refusal(std::string_view reason) { refusals_.add({reason}); }
void GatewayMetrics::coaching_answer(std::string_view kind) { coaching_answers_.add({kind}); }
void GatewayMetrics::justified(std::string_view kind, std::string_view via) { justified_.add({kind, via}); }
void GatewayMetrics::justification_refused(std::string_view cause) { justifications_refused_.add({cause}); }

void GatewayMetrics::transparent_connection(std::string_view outcome) { transparent_.add({outcome}); }

void GatewayMetrics::file_read(std::string_view type, std::string_view verdict, double seconds) {
  files_.add({type, verdict});
  extraction_duration_.observe(seconds);
}

void GatewayMetrics::connection_opened() { open_connections_.fetch_add(1, std::memory_order_relaxed); }

void GatewayMetrics::connection_closed() { open_connections_.fetch_sub(1, std::memory_order_relaxed); }

void GatewayMetrics::ruleset_loaded(std::string_view version, bool ok) {
  if (!ok) {
    reloads_failed_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  {
    std::lock_guard lock(ruleset_mutex_);
    ruleset_version_ = version;
  }
  reloads_ok_.fetch_add(1, std::memory_order_relaxed);
}

void GatewayMetrics::rules_bundle_served(std::string_view version) {
  std::lock_guard lock(ruleset_mutex_);
  bundle_version_ = version;
}

void GatewayMetrics::rules_bundle_refused() { bundles_refused_.fetch_add(1, std::memory_order_relaxed); }

std::string GatewayMetrics::render() const {
  std::string out;
  out.reserve(4096);

  append_header(out, "promptwall_requests_total", "counter", "Requests handled, by service and decision.");
  requests_.render(out, "promptwall_requests_total", {"service", "decision"});

  append_header(out, "promptwall_findings_total", "counter", "Findings in requests, by rule.");
  findings_.render(out, "promptwall_findings_total", {"rule"});

  append_header(out, "promptwall_refusals_total", "counter", "Requests the gateway refused, by reason.");
  refusals_.render(out, "promptwall_refusals_total", {"reason"});

  append_header(out, "promptwall_coaching_answers_total", "counter",
                "Requests answered with a coaching message asking for a justification, by kind (warn, justify).");
  coaching_answers_.render(out, "promptwall_coaching_answers_total", {"kind"});
  append_header(out, "promptwall_justified_total", "counter",
                "Coached requests forwarded with a justification, by kind and how it was given (header, form).");
  justified_.render(out, "promptwall_justified_total", {"kind", "via"});
  append_header(out, "promptwall_justifications_refused_total", "counter",
                "Justifications that did not count, by cause (expired, replayed, other_request, not_permitted, ...).");
  justifications_refused_.render(out, "promptwall_justifications_refused_total", {"cause"});

  append_header(out, "promptwall_transparent_connections_total", "counter",
                "Connections the firewall redirected to the transparent listener, by outcome.");
  transparent_.render(out, "promptwall_transparent_connections_total", {"outcome"});

  append_header(out, "promptwall_files_total", "counter",
                "Files requests carried, by type (from their bytes) and verdict (read, or why not).");
  files_.render(out, "promptwall_files_total", {"type", "verdict"});

  append_header(out, "promptwall_extraction_duration_seconds", "histogram",
                "Time spent reading one file's text (in the sandboxed worker).");
  extraction_duration_.render(out, "promptwall_extraction_duration_seconds");

  append_header(out, "promptwall_request_duration_seconds", "histogram",
                "Time from a request's arrival to the end of its response.");
  request_duration_.render(out, "promptwall_request_duration_seconds");

  append_header(out, "promptwall_scan_duration_seconds", "histogram", "Time spent scanning one request.");
  scan_duration_.render(out, "promptwall_scan_duration_seconds");

  append_header(out, "promptwall_bytes_received_total", "counter", "Request body bytes received from clients.");
  append_sample(out, "promptwall_bytes_received_total", bytes_received_.load(std::memory_order_relaxed));

  append_header(out, "promptwall_bytes_sent_total", "counter", "Response body bytes sent to clients.");
  append_sample(out, "promptwall_bytes_sent_total", bytes_sent_.load(std::memory_order_relaxed));

  append_header(out, "promptwall_open_connections", "gauge", "Client connections open now.");
  append_sample(out, "promptwall_open_connections",
                static_cast<double>(open_connections_.load(std::memory_order_relaxed)));

  append_header(out, "promptwall_ruleset_info", "gauge", "The rule set in use; its version as a label.");
  {
    std::lock_guard lock(ruleset_mutex_);
    if (!ruleset_version_.empty())
      out.append("promptwall_ruleset_info{version=\"").append(escape_label_value(ruleset_version_)) += "\"} 1\n";
  }

  append_header(out, "promptwall_ruleset_reloads_total", "counter", "Rule set loads, by result.");
  out.append("promptwall_ruleset_reloads_total{result=\"ok\"} ");
  append_number(out, reloads_ok_.load(std::memory_order_relaxed));
  out.append("\npromptwall_ruleset_reloads_total{result=\"failed\"} ");
  append_number(out, reloads_failed_.load(std::memory_order_relaxed));
  out += '\n';

  append_header(out, "promptwall_rules_bundle_info", "gauge", "The signed rule bundle in use; its version as a label.");
  {
    std::lock_guard lock(ruleset_mutex_);
    if (!bundle_version_.empty())
      out.append("promptwall_rules_bundle_info{version=\"").append(escape_label_value(bundle_version_)) += "\"} 1\n";
  }
  append_header(out, "promptwall_rules_bundle_refused_total", "counter",
                "Rule bundles refused (signature, contents, examples, version); the one in use kept serving.");
  append_sample(out, "promptwall_rules_bundle_refused_total",
                static_cast<double>(bundles_refused_.load(std::memory_order_relaxed)));

  append_header(out, "promptwall_siem_events_shipped_total", "counter", "Audit events the SIEM acknowledged.");
  append_sample(out, "promptwall_siem_events_shipped_total", siem_shipped_.load(std::memory_order_relaxed));
  append_header(out, "promptwall_siem_records_behind", "gauge", "Durable audit records not yet delivered to the SIEM.");
  append_sample(out, "promptwall_siem_records_behind",
                static_cast<double>(siem_records_behind_.load(std::memory_order_relaxed)));
  append_header(out, "promptwall_siem_seconds_behind", "gauge",
                "Age of the oldest audit record not yet delivered to the SIEM (0 when none).");
  append_sample(out, "promptwall_siem_seconds_behind", siem_seconds_behind_.load(std::memory_order_relaxed));

  append_header(out, "promptwall_central_shipped_seq", "gauge", "The last audit record committed to the central store.");
  append_sample(out, "promptwall_central_shipped_seq",
                static_cast<double>(central_shipped_seq_.load(std::memory_order_relaxed)));
  append_header(out, "promptwall_central_records_behind", "gauge",
                "Durable audit records not yet in the central store (the backlog).");
  append_sample(out, "promptwall_central_records_behind",
                static_cast<double>(central_records_behind_.load(std::memory_order_relaxed)));
  append_header(out, "promptwall_central_connected", "gauge", "1 while the central store is reachable, else 0.");
  append_sample(out, "promptwall_central_connected", central_connected_.load(std::memory_order_relaxed) ? 1.0 : 0.0);
  append_header(out, "promptwall_central_failures_total", "counter",
                "Failed attempts to connect to or write to the central store.");
  append_sample(out, "promptwall_central_failures_total",
                static_cast<double>(central_failures_.load(std::memory_order_relaxed)));

  // Memory, read when scraped. RSS alone cannot tell a leak from pages glibc keeps after a rule
  // set is freed; the heap's bytes in use can (a soak watches both: bench/run-soak.sh).
  const ProcessMemory memory = process_memory();
  append_header(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  append_sample(out, "process_resident_memory_bytes", memory.resident_bytes);
  append_header(out, "promptwall_heap_in_use_bytes", "gauge",
                "Bytes the process holds allocated from the C heap (glibc mallinfo2: in use plus mmapped).");
  append_sample(out, "promptwall_heap_in_use_bytes", memory.heap_in_use_bytes);
  return out;
}

ProcessMemory process_memory() {
  ProcessMemory memory;
  // /proc/self/statm: size resident shared text lib data dt, in pages.
  std::ifstream statm("/proc/self/statm");
  uint64_t size_pages = 0, resident_pages = 0;
  if (statm >> size_pages >> resident_pages)
    memory.resident_bytes = resident_pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const struct mallinfo2 info = mallinfo2();
  memory.heap_in_use_bytes = info.uordblks + info.hblkhd;
  return memory;
}

void GatewayMetrics::siem_shipped(uint64_t events) { siem_shipped_.fetch_add(events, std::memory_order_relaxed); }

void GatewayMetrics::siem_lag(uint64_t records_behind, double seconds_behind) {
  siem_records_behind_.store(records_behind, std::memory_order_relaxed);
  siem_seconds_behind_.store(seconds_behind, std::memory_order_relaxed);
}

void GatewayMetrics::central_state(uint64_t shipped_seq, uint64_t records_behind, bool connected) {
  central_shipped_seq_.store(shipped_seq, std::memory_order_relaxed);
  central_records_behind_.store(records_behind, std::memory_order_relaxed);
  central_connected_.store(connected, std::memory_order_relaxed);
}

void GatewayMetrics::central_failure() { central_failures_.fetch_add(1, std::memory_order_relaxed); }

}  // namespace promptwall::gateway
