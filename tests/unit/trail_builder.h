// Builds trail directories directly from the format's pure functions (compose_record,
// record_hash, trail_file_name), without AuditWriter: the reader's and the index's tests control
// exactly where files end, what each record holds and when a line is torn. Shared by the unit and
// the CLI tests.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "audit/event.h"
#include "audit/trail_format.h"
#include "../support/temp_dir.h"

namespace promptwall::test {

// Appends chained records to a trail directory, starting a new file every `per_file` records
// (0: never), as AuditWriter lays them out.
class TrailBuilder {
 public:
  explicit TrailBuilder(std::filesystem::path dir, size_t per_file = 0) : dir_(std::move(dir)), per_file_(per_file) {
    std::filesystem::create_directories(dir_);
  }

  // Appends the record for `object_json` ("{"type":...}") and returns its line.
  std::string append(const std::string& object_json) {
    std::string line = next_line(object_json);
    file() << line << '\n' << std::flush;
    commit(line);
    return line;
  }
  std::string append(const audit::DecisionEvent& e) { return append(audit::to_json_object(e)); }
  std::string append(const audit::TriageEvent& e) { return append(audit::to_json_object(e)); }

  // Writes the first `bytes` bytes of the next record's line (a torn or in-progress write) and
  // returns the whole line; finish_torn() writes the rest.
  std::string append_torn(const std::string& object_json, size_t bytes) {
    std::string line = next_line(object_json);
    file() << line.substr(0, bytes) << std::flush;
    torn_ = line;
    torn_written_ = bytes;
    return line;
  }
  void finish_torn() {
    file() << torn_.substr(torn_written_) << '\n' << std::flush;
    commit(torn_);
    torn_.clear();
  }

  // Closes the current file: the next record starts a new one.
  void rotate() { in_file_ = SIZE_MAX; }

  uint64_t last_seq() const { return seq_; }
  const std::filesystem::path& current_file() const { return current_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::string next_line(const std::string& object_json) const {
    return audit::compose_record(seq_ + 1, prev_, object_json);
  }
  std::ofstream& file() {
    if (!out_.is_open() || in_file_ == SIZE_MAX || (per_file_ != 0 && in_file_ >= per_file_)) {
      out_.close();
      current_ = dir_ / audit::trail_file_name("20261126", seq_ + 1);
      out_.open(current_, std::ios::binary | std::ios::app);
      if (!out_) throw std::runtime_error("cannot write " + current_.string());
      in_file_ = 0;
    }
    return out_;
  }
  void commit(const std::string& line) {
    ++seq_;
    prev_ = audit::record_hash(line);
    ++in_file_;
  }

  std::filesystem::path dir_;
  size_t per_file_;
  std::ofstream out_;
  std::filesystem::path current_;
  size_t in_file_ = 0;
  uint64_t seq_ = 0;
  std::string prev_{audit::kGenesisHash};
  std::string torn_;
  size_t torn_written_ = 0;
};

// A varied decision event for seeding: fields cycle with different periods so filters combine.
inline audit::DecisionEvent sample_event(uint64_t i, audit::Clock::time_point base) {
  static const char* const kUsers[] = {"an.nguyen", "binh.tran", "=cmd|calc", "dung.le"};
  static const char* const kUnits[] = {"Phòng Kế toán", "IT", "Nhân sự"};
  static const char* const kServices[] = {"openai", "gemini"};
  static const char* const kDecisions[] = {"allow", "warn", "redact", "block", "refused"};
  static const char* const kRules[] = {"vn.cccd", "vn.phone", "secret.aws_key", "marking.toi_mat", "pii.email",
                                       "vn.tax_id", "secret.jwt"};
  static const char* const kCategories[] = {"pii", "secret", "classified"};
  static const char* const kSeverities[] = {"low", "medium", "high", "critical"};
  audit::DecisionEvent e;
  e.time = base + std::chrono::minutes(37 * i);
  e.event_id = "EV" + std::to_string(100000 + i);
  e.request_id = "req-" + std::to_string(i);
  e.client = "10.0.0." + std::to_string(i % 250) + ":5" + std::to_string(1000 + i);
  e.user = kUsers[i % 4];
  e.unit = kUnits[i % 3];
  e.service = kServices[i % 2];
  e.method = "POST";
  e.path = "/v1/chat/completions";
  e.decision = kDecisions[i % 5];
  e.mode = i % 6 == 0 ? "monitor" : "enforce";
  if (e.decision == "refused") e.reason = "sensitive_content";
  e.forwarded = e.decision == "allow" || e.decision == "warn" || e.decision == "redact";
  if (e.decision != "allow") {
    // One or two findings.
    for (uint64_t k = 0; k < 1 + i % 2; ++k) {
      audit::EventFinding f;
      f.rule_id = kRules[(i + 3 * k) % 7];
      f.category = kCategories[(i + k) % 3];
      f.severity = kSeverities[(i + k) % 4];
      f.action = e.decision == "refused" ? "block" : e.decision;
      f.count = static_cast<uint32_t>(1 + k);
      f.locations = {"messages[0].content"};
      f.evidence.push_back({"messages[0].content", "số ••••••••34 của", std::string(64, static_cast<char>('a' + i % 6))});
      e.findings.push_back(std::move(f));
    }
  }
  e.ruleset = "rs-1";
  e.bytes_in = 100 + i;
  e.bytes_forwarded = e.forwarded ? 100 + i : 0;
  e.latency_ms = 1.5;
  e.scan_ms = 0.25;
  return e;
}

inline audit::TriageEvent sample_triage(const std::string& target, const std::string& state, audit::Clock::time_point t,
                                        const std::string& note = "") {
  audit::TriageEvent tr;
  tr.time = t;
  tr.event_id = "TR-" + target + "-" + state + "-" + std::to_string(t.time_since_epoch().count());
  tr.target = target;
  tr.state = state;
  tr.note = note;
  tr.officer = "officer1";
  tr.client = "127.0.0.1:4000";
  return tr;
}

}  // namespace promptwall::test
