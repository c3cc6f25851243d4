// What the product wrote during an end-to-end test, kept for `e2e.no_raw_secrets`: when
// PROMPTWALL_E2E_EVIDENCE names a directory (tests/CMakeLists.txt sets it for ctest's e2e runs and
// clears it first, in the e2e.evidence_setup test), each `EvidenceKeeper` copies the files and
// directories it watches (a gateway's logs, its audit trail and SQLite index; a SIEM receiver's
// output) into a directory of its own there when it goes away, after the processes writing them
// have stopped. GatewayFixture keeps one, so every gateway a test starts is collected without the
// test asking.
//
// Layout under the evidence directory:
//   kept/<run>-<n>/           one keeper's copies, and manifest.json ({test, what, sources}) written
//                             last, so a directory without it is a copy that did not finish;
//                             watching.json (the same fields) from the first watch on, so the check
//                             scans the sources where they are when the process died before copying
//                             (its temporary directories stay then)
//   processes/<run>.json      per test process: its test case and how many keepers it started
//                             (written when the test case ends, by the listener in
//                             no_raw_secrets_test.cpp), so the check knows what it must find
// <run> is the process id and a random tag (pids are reused over a long run).
//
// Without the variable nothing is kept (a test run by hand). Errors while copying are written into
// the manifest and fail the check, never the test. Keepers are made and destroyed on the test's
// main thread; the per-process counters are plain statics for that reason.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace promptwall::e2e {

inline std::optional<std::filesystem::path> evidence_root() {
  const char* dir = std::getenv("PROMPTWALL_E2E_EVIDENCE");
  if (dir == nullptr || *dir == '\0') return std::nullopt;
  return std::filesystem::path(dir);
}

// This process's name in the evidence directory: pid and a random tag.
inline const std::string& evidence_run_id() {
  static const std::string id = [] {
    std::random_device rd;
    std::ostringstream s;
    s << ::getpid() << "-" << std::hex << rd();
    return s.str();
  }();
  return id;
}

// Keepers started by this process (they number their directories).
struct EvidenceCounters {
  int keepers = 0;
};
inline EvidenceCounters& evidence_counters() {
  static EvidenceCounters counters;
  return counters;
}

inline std::string current_test_name() {
  try {
    return Catch::getResultCapture().getCurrentTestName();
  } catch (...) {
    return "";
  }
}

class EvidenceKeeper {
 public:
  // `what` says what is kept ("gateway", "siem"), for the check's report.
  explicit EvidenceKeeper(std::string what) : what_(std::move(what)) {}
  EvidenceKeeper(const EvidenceKeeper&) = delete;
  EvidenceKeeper& operator=(const EvidenceKeeper&) = delete;
  ~EvidenceKeeper() {
    if (!destination_) return;
    namespace fs = std::filesystem;
    nlohmann::json manifest = {{"test", test_}, {"what", what_}, {"sources", nlohmann::json::array()}, {"errors", nlohmann::json::array()}};
    for (const auto& source : sources_) {
      manifest["sources"].push_back(source.string());
      std::error_code ec;
      if (!fs::exists(source, ec)) continue;  // a gateway that never wrote its index, say
      // Absolute paths under the keeper's directory, so two sources with one name stay apart.
      const fs::path to = *destination_ / source.relative_path();
      fs::create_directories(to.parent_path(), ec);
      fs::copy(source, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
      if (ec) manifest["errors"].push_back(source.string() + ": " + ec.message());
    }
    std::ofstream(*destination_ / "manifest.json") << manifest.dump(2) << "\n";
  }

  // Copies `source` (a file or a directory) when this keeper goes away. Nothing without
  // PROMPTWALL_E2E_EVIDENCE.
  void watch(const std::filesystem::path& source) {
    if (!destination_) {
      auto root = evidence_root();
      if (!root) return;
      auto& counters = evidence_counters();
      destination_ = *root / "kept" / (evidence_run_id() + "-" + std::to_string(++counters.keepers));
      std::filesystem::create_directories(*destination_);
      test_ = current_test_name();
    }
    sources_.push_back(std::filesystem::absolute(source));
    nlohmann::json watching = {{"test", test_}, {"what", what_}, {"sources", nlohmann::json::array()}};
    for (const auto& s : sources_) watching["sources"].push_back(s.string());
    std::ofstream(*destination_ / "watching.json") << watching.dump(2) << "\n";
  }

 private:
  std::string what_, test_;
  std::optional<std::filesystem::path> destination_;
  std::vector<std::filesystem::path> sources_;
};

}  // namespace promptwall::e2e
