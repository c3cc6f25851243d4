// DecisionLog: one JSON line per gateway decision, appended to a file, until the audit trail
// (audit/) exists.
//
// Invariants: a record holds what was decided and why (rule ids, categories, counts, where in the
// request), NEVER the matched text; to_json_line() drops a path's query string, which may carry
// keys (Gemini's ?key=). Each line is written with one write() on an O_APPEND descriptor, so lines
// from concurrent appends, threads or processes never interleave.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace promptwall::gateway {

struct DecisionRecord {
  std::chrono::system_clock::time_point time;
  std::string request_id, client, service, method, path;
  std::string verdict;         // allow|warn|redact|block|refused
  std::string mode;            // enforce|monitor
  std::string refusal_reason;  // when refused (to_string(Refusal::Reason))
  struct RuleCount {
    std::string rule_id, category, severity, action;
    uint32_t count = 0;
    std::vector<std::string> locations;  // where in the request, e.g. "messages[2].content"
  };
  std::vector<RuleCount> findings;  // aggregated per rule; NEVER any matched text
  std::string ruleset_version;
  uint64_t bytes_in = 0, bytes_out = 0;
  double latency_ms = 0, scan_ms = 0;
};

// {"time":"2025-01-31T08:15:02.123Z","request_id":...,"findings":[{"rule":...}],...}\n
// Time in RFC 3339 UTC with milliseconds; refusal_reason only when set; invalid UTF-8 replaced.
std::string to_json_line(const DecisionRecord& r);

class DecisionLog {
 public:
  // Opens (creating with mode 0640) for appending; throws std::runtime_error naming the path and
  // the system's reason when it cannot.
  explicit DecisionLog(std::filesystem::path path);
  ~DecisionLog();
  DecisionLog(const DecisionLog&) = delete;
  DecisionLog& operator=(const DecisionLog&) = delete;

  // Thread-safe. false when the line could not be written whole; last_error() then says why.
  bool append(const DecisionRecord& r);
  std::string last_error() const;  // the latest failure's reason; empty until one

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  mutable std::mutex error_mutex_;
  std::string last_error_;
};

}  // namespace promptwall::gateway
