#include "gateway/decision_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <system_error>

namespace promptwall::gateway {

namespace {

std::string rfc3339_utc_ms(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms_since_epoch = duration_cast<milliseconds>(t.time_since_epoch()).count();
  // Floor division, so instants before 1970 keep a millisecond part in [0, 999].
  std::time_t seconds = static_cast<std::time_t>(ms_since_epoch / 1000);
  long long ms = ms_since_epoch % 1000;
  if (ms < 0) {
    ms += 1000;
    --seconds;
  }
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03lldZ", ms);
  return buf;
}

std::string without_query(const std::string& path) { return path.substr(0, path.find_first_of("?#")); }

// std::strerror may share one buffer between threads; the error category does not.
std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

}  // namespace

std::string to_json_line(const DecisionRecord& r) {
  nlohmann::ordered_json j;
  j["time"] = rfc3339_utc_ms(r.time);
  j["request_id"] = r.request_id;
  j["client"] = r.client;
  j["service"] = r.service;
  j["method"] = r.method;
  j["path"] = without_query(r.path);
  j["verdict"] = r.verdict;
  j["mode"] = r.mode;
  if (!r.refusal_reason.empty()) j["refusal_reason"] = r.refusal_reason;
  j["findings"] = nlohmann::ordered_json::array();
  for (const auto& f : r.findings) {
    j["findings"].push_back({{"rule", f.rule_id},
                             {"category", f.category},
                             {"severity", f.severity},
                             {"action", f.action},
                             {"count", f.count},
                             {"locations", f.locations}});
  }
  j["ruleset_version"] = r.ruleset_version;
  j["bytes_in"] = r.bytes_in;
  j["bytes_out"] = r.bytes_out;
  j["latency_ms"] = r.latency_ms;
  j["scan_ms"] = r.scan_ms;
  // A log line must always be written: a stray invalid byte (a client name, a path) is replaced.
  std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += '\n';
  return line;
}

DecisionLog::DecisionLog(std::filesystem::path path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    int err = errno;
    throw std::runtime_error("cannot open decision log " + path_.string() + ": " + errno_text(err));
  }
}

DecisionLog::~DecisionLog() {
  if (fd_ >= 0) ::close(fd_);
}

bool DecisionLog::append(const DecisionRecord& r) {
  const std::string line = to_json_line(r);
  ssize_t written;
  do {
    written = ::write(fd_, line.data(), line.size());
  } while (written < 0 && errno == EINTR);
  if (written == static_cast<ssize_t>(line.size())) return true;

  // Writing the rest with a second write() could interleave with another line; a cut line is
  // reported instead, and a reader skips it as unparseable.
  const int err = errno;
  std::string error = written < 0 ? errno_text(err)
                                   : "short write (" + std::to_string(written) + " of " +
                                         std::to_string(line.size()) + " bytes)";
  std::lock_guard lock(error_mutex_);
  last_error_ = "cannot write decision log " + path_.string() + ": " + error;
  return false;
}

std::string DecisionLog::last_error() const {
  std::lock_guard lock(error_mutex_);
  return last_error_;
}

}  // namespace promptwall::gateway
