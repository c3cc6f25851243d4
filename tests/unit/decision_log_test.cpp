#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gateway/decision_log.h"

using namespace promptwall::gateway;
namespace fs = std::filesystem;

namespace {

// A directory of its own per test, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("promptwall-decision-log-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

DecisionRecord sample_record() {
  DecisionRecord r;
  // 2025-01-31T08:15:02.123Z
  r.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1738311302123LL));
  r.request_id = "req-1";
  r.client = "10.0.0.5";
  r.service = "gemini";
  r.method = "POST";
  r.path = "/v1beta/models/gemini-pro:generateContent?key=AIzaSECRETSECRET";
  r.verdict = "redact";
  r.mode = "enforce";
  r.findings.push_back({"vn-pii/cccd", "national_id", "high", "redact", 2, {"contents[0].parts[0].text"}});
  r.findings.push_back({"secrets/aws-key", "secret", "critical", "redact", 1, {"contents[1].parts[0].text",
                                                                                 "systemInstruction"}});
  r.ruleset_version = "abc";
  r.bytes_in = 1234;
  r.bytes_out = 99;
  r.latency_ms = 12.5;
  r.scan_ms = 0.75;
  return r;
}

std::vector<std::string> read_lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("a record becomes one JSON line with its fields", "[decision_log]") {
  std::string line = to_json_line(sample_record());
  REQUIRE(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  nlohmann::json j = nlohmann::json::parse(line);
  CHECK(j.at("time") == "2025-01-31T08:15:02.123Z");
  CHECK(j.at("request_id") == "req-1");
  CHECK(j.at("client") == "10.0.0.5");
  CHECK(j.at("service") == "gemini");
  CHECK(j.at("method") == "POST");
  CHECK(j.at("verdict") == "redact");
  CHECK(j.at("mode") == "enforce");
  CHECK_FALSE(j.contains("refusal_reason"));
  CHECK(j.at("ruleset_version") == "abc");
  CHECK(j.at("bytes_in") == 1234);
  CHECK(j.at("bytes_out") == 99);
  CHECK(j.at("latency_ms") == 12.5);
  CHECK(j.at("scan_ms") == 0.75);
  REQUIRE(j.at("findings").size() == 2);
  const auto& f = j.at("findings")[1];
  CHECK(f.at("rule") == "secrets/aws-key");
  CHECK(f.at("category") == "secret");
  CHECK(f.at("severity") == "critical");
  CHECK(f.at("action") == "redact");
  CHECK(f.at("count") == 1);
  CHECK(f.at("locations") == nlohmann::json::array({"contents[1].parts[0].text", "systemInstruction"}));
}

TEST_CASE("the path is logged without its query, which may hold an API key", "[decision_log]") {
  std::string line = to_json_line(sample_record());
  CHECK(nlohmann::json::parse(line).at("path") == "/v1beta/models/gemini-pro:generateContent");
  CHECK(line.find("AIza") == std::string::npos);
}

TEST_CASE("refusals carry their reason; empty findings are an empty array", "[decision_log]") {
  DecisionRecord r;
  r.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(5));
  r.verdict = "refused";
  r.refusal_reason = "body_too_large";
  nlohmann::json j = nlohmann::json::parse(to_json_line(r));
  CHECK(j.at("refusal_reason") == "body_too_large");
  CHECK(j.at("findings").is_array());
  CHECK(j.at("findings").empty());
  CHECK(j.at("time") == "1970-01-01T00:00:00.005Z");
}

TEST_CASE("invalid UTF-8 in a field still gives a valid line", "[decision_log]") {
  DecisionRecord r = sample_record();
  r.client = "bad\xff\xfe";
  CHECK_NOTHROW(nlohmann::json::parse(to_json_line(r)));
}

TEST_CASE("appends go to the end of the file, created 0640", "[decision_log]") {
  TempDir dir;
  fs::path p = dir.path / "decisions.jsonl";
  REQUIRE_FALSE(fs::exists(p));  // the log creates it, so its mode can be checked
  {
    DecisionLog log(p);
    CHECK(log.append(sample_record()));
    CHECK(log.last_error().empty());
  }
  {
    DecisionLog again(p);  // reopening appends rather than truncates
    DecisionRecord second = sample_record();
    second.request_id = "req-2";
    CHECK(again.append(second));
  }
  auto lines = read_lines(p);
  REQUIRE(lines.size() == 2);
  CHECK(nlohmann::json::parse(lines[0]).at("request_id") == "req-1");
  CHECK(nlohmann::json::parse(lines[1]).at("request_id") == "req-2");
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777 & ~0640) == 0);  // the umask may remove bits, never add them
  CHECK((st.st_mode & 0007) == 0);
}

TEST_CASE("concurrent appends from 8 threads give whole lines", "[decision_log]") {
  TempDir dir;
  fs::path p = dir.path / "decisions.jsonl";
  DecisionLog log(p);
  constexpr int kThreads = 8, kEach = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      DecisionRecord r = sample_record();
      // Long lines, so a torn write would show.
      r.findings.front().locations.assign(40, "messages[" + std::to_string(t) + "].content[0].text");
      for (int i = 0; i < kEach; ++i) {
        r.request_id = std::to_string(t) + "-" + std::to_string(i);
        REQUIRE(log.append(r));
      }
    });
  }
  for (auto& th : threads) th.join();
  auto lines = read_lines(p);
  REQUIRE(lines.size() == size_t{kThreads * kEach});
  std::set<std::string> ids;
  for (const auto& line : lines) {
    nlohmann::json j = nlohmann::json::parse(line);  // a torn or interleaved line would not parse
    ids.insert(j.at("request_id").get<std::string>());
  }
  CHECK(ids.size() == size_t{kThreads * kEach});
}

TEST_CASE("a path in a missing directory throws with a clear message", "[decision_log]") {
  TempDir dir;
  fs::path p = dir.path / "no-such-dir" / "decisions.jsonl";
  try {
    DecisionLog log(p);
    FAIL("no exception");
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    CHECK(what.find(p.string()) != std::string::npos);
    CHECK(what.find("No such file or directory") != std::string::npos);
  }
}

TEST_CASE("a failed write returns false and keeps the reason", "[decision_log]") {
  if (!fs::exists("/dev/full")) SUCCEED("no /dev/full here");
  else {
    DecisionLog log("/dev/full");
    CHECK_FALSE(log.append(sample_record()));
    CHECK(log.last_error().find("No space left on device") != std::string::npos);
    CHECK(log.last_error().find("/dev/full") != std::string::npos);
  }
}
