// ExtractionPool with real processes: the real worker (`promptwall extract-worker`) against the
// in-process DocumentExtractor, and shell scripts standing in for a worker a hostile file has
// subverted (one that crashes, hangs, leaves a child behind, writes garbage or half an answer).
#include "extractors/sandbox/extraction_pool.h"

#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "../support/temp_dir.h"
#include "extractors/document_extractor.h"

namespace {

using namespace promptwall::extractors;
using promptwall::extractors::sandbox::ExtractionPool;
using promptwall::test::TempDir;
using Clock = std::chrono::steady_clock;

const std::string kVietnamese =
    "TỐI MẬT\nSố: 12/QĐ-UBND\nCCCD 001099012345, mật khẩu của tài khoản quản trị\n";

// A stand-in worker: a shell script in `dir`, executable.
std::string script(const TempDir& dir, std::string_view name, std::string_view body) {
  const std::string path = dir.file(name, "#!/bin/sh\n" + std::string(body) + "\n");
  ::chmod(path.c_str(), 0755);
  return path;
}

ExtractionPool::Options options(std::string executable, std::vector<std::string> arguments = {}) {
  ExtractionPool::Options o;
  o.worker_executable = std::move(executable);
  o.worker_arguments = std::move(arguments);
  o.limits.time_per_file = std::chrono::milliseconds(5000);
  return o;
}

// The real worker is the `promptwall` binary, which extractor_tests does not depend on (a reader's
// tests build without the gateway): a full build (CI, ctest) has it; a test needing it says
// SKIPPED otherwise.
bool have_binary() {
  if (std::filesystem::exists(PROMPTWALL_BINARY)) return true;
  WARN("SKIPPED: " PROMPTWALL_BINARY " is not built (cmake --build build --target promptwall)");
  return false;
}

ExtractionPool::Options real_worker() {
  ExtractionPool::Options o;
  o.worker_executable = PROMPTWALL_BINARY;
  return o;
}

// This process's children as (pid, state) from /proc: 'Z' is a zombie nobody reaped.
std::map<int, char> children() {
  std::map<int, char> out;
  const std::string self = std::to_string(::getpid());
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    int ppid = 0;
    rest >> state >> ppid;
    if (std::to_string(ppid) == self) out[std::stoi(name)] = state;
  }
  return out;
}

bool alive(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  return close != std::string::npos && stat.size() > close + 2 && stat[close + 2] != 'Z';
}

void check_same(const ExtractedDocument& a, const ExtractedDocument& b) {
  CHECK(a.type == b.type);
  CHECK(a.unscannable == b.unscannable);
  CHECK(a.detail == b.detail);
  CHECK(a.pages == b.pages);
  CHECK(a.name == b.name);
  CHECK(a.size == b.size);
  CHECK(a.sha256 == b.sha256);
  REQUIRE(a.parts.size() == b.parts.size());
  for (size_t i = 0; i < a.parts.size(); ++i) {
    CHECK(a.parts[i].place == b.parts[i].place);
    CHECK(a.parts[i].source == b.parts[i].source);
    CHECK(a.parts[i].text == b.parts[i].text);
    REQUIRE(a.parts[i].anchors.size() == b.parts[i].anchors.size());
    for (size_t k = 0; k < a.parts[i].anchors.size(); ++k) {
      CHECK(a.parts[i].anchors[k].offset == b.parts[i].anchors[k].offset);
      CHECK(a.parts[i].anchors[k].place == b.parts[i].anchors[k].place);
    }
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("pool: the real worker reads a text file as DocumentExtractor does in-process", "[extractors][pool]") {
  if (!have_binary()) return;
  ExtractionPool pool(real_worker());
  const ExtractedDocument sandboxed = pool.extract(kVietnamese, "ghi chú.txt");
  const ExtractedDocument local = DocumentExtractor().extract(kVietnamese, "ghi chú.txt");
  INFO(sandboxed.detail);
  REQUIRE(sandboxed.complete());
  CHECK(sandboxed.type == FileType::text);
  REQUIRE_FALSE(sandboxed.parts.empty());
  CHECK(sandboxed.parts[0].text.find("TỐI MẬT\n") != std::string::npos);
  check_same(sandboxed, local);
  CHECK(sandboxed.sha256.size() == 64);
  CHECK(sandboxed.seconds > 0);
  const auto stats = pool.stats();
  CHECK(stats.started == 1);
  CHECK(stats.completed == 1);
  CHECK(stats.crashed == 0);
}

TEST_CASE("pool: the real worker reads a docx as DocumentExtractor does in-process", "[extractors][pool]") {
  if (!have_binary()) return;
  const std::string dir = std::string(PROMPTWALL_SOURCE_DIR) + "/tests/data/documents/office";
  std::string docx;
  if (std::filesystem::exists(dir))
    for (const auto& entry : std::filesystem::directory_iterator(dir))
      if (entry.path().extension() == ".docx" && (docx.empty() || entry.path().string() < docx))
        docx = entry.path().string();
  if (docx.empty()) {
    WARN("SKIPPED: no docx fixture in tests/data/documents/office yet");
    return;
  }
  INFO(docx);
  const std::string bytes = read_file(docx);
  ExtractionPool pool(real_worker());
  const ExtractedDocument sandboxed = pool.extract(bytes, "bản.docx");
  const ExtractedDocument local = DocumentExtractor().extract(bytes, "bản.docx");
  CHECK(sandboxed.type == FileType::docx);
  check_same(sandboxed, local);
}

TEST_CASE("pool: every fixture reads the same confined as in process", "[extractors][pool]") {
  // The confinement must not break a reader: poppler, libzip, expat, ICU, and antiword/catdoc
  // started under the filter (execve, pipes, a memfd) read every fixture exactly as in process.
  if (!have_binary()) return;
  auto o = real_worker();
  o.concurrency = 2;
  ExtractionPool pool(o);
  const DocumentExtractor local;
  size_t files = 0;
  for (const char* folder : {"office", "other"}) {
    std::vector<std::filesystem::path> paths;
    for (const auto& entry :
         std::filesystem::directory_iterator(std::string(PROMPTWALL_SOURCE_DIR) + "/tests/data/documents/" + folder))
      if (entry.is_regular_file()) paths.push_back(entry.path());
    std::sort(paths.begin(), paths.end());
    for (const auto& path : paths) {
      INFO(path.string());
      const std::string bytes = read_file(path.string());
      const ExtractedDocument sandboxed = pool.extract(bytes, path.filename().string());
      INFO(sandboxed.detail);
      check_same(sandboxed, local.extract(bytes, path.filename().string()));
      ++files;
    }
  }
  CHECK(files >= 20);
  CHECK(pool.stats().crashed == 0);
}

TEST_CASE("pool: a worker killed by a signal is extractor_failed naming the signal", "[extractors][pool]") {
  TempDir dir("pool");
  ExtractionPool pool(options(script(dir, "segv.sh", "kill -SEGV $$")));
  const ExtractedDocument d = pool.extract(kVietnamese, "a.txt");
  CHECK(d.unscannable == Unscannable::extractor_failed);
  CHECK(d.detail == "worker killed by SIGSEGV");
  CHECK(d.parts.empty());
  // Name, size and sha256 come from the request, whatever the worker did.
  CHECK(d.name == "a.txt");
  CHECK(d.size == kVietnamese.size());
  CHECK(d.sha256.size() == 64);
  CHECK(pool.stats().crashed == 1);

  ExtractionPool cpu(options(script(dir, "xcpu.sh", "kill -XCPU $$")));
  CHECK(cpu.extract("x", "b").detail == "worker killed by SIGXCPU: CPU time limit");
}

TEST_CASE("pool: a worker exiting non-zero, or with half an answer, is extractor_failed", "[extractors][pool]") {
  TempDir dir("pool");
  ExtractionPool seven(options(script(dir, "seven.sh", "exit 7")));
  const ExtractedDocument d = seven.extract("x", "a");
  CHECK(d.unscannable == Unscannable::extractor_failed);
  CHECK(d.detail == "worker exited with status 7");

  ExtractionPool three(options(script(dir, "three.sh", "exit 3")));
  CHECK(three.extract("x", "a").detail.rfind("worker could not confine itself", 0) == 0);

  // A header promising 100 bytes, then 3 of them, then a clean exit.
  ExtractionPool half(options(
      script(dir, "half.sh", "cat >/dev/null; printf 'PWXA\\001\\000\\000\\000\\144\\000\\000\\000\\000\\000\\000\\000abc'")));
  const ExtractedDocument h = half.extract("x", "a");
  CHECK(h.unscannable == Unscannable::extractor_failed);
  CHECK(h.detail == "worker exited without a whole answer");
}

TEST_CASE("pool: a worker writing garbage or an oversized answer is extractor_failed", "[extractors][pool]") {
  TempDir dir("pool");
  ExtractionPool garbage(options(script(dir, "garbage.sh", "cat >/dev/null; echo 'this is not a frame at all'")));
  const ExtractedDocument g = garbage.extract(kVietnamese, "a");
  CHECK(g.unscannable == Unscannable::extractor_failed);
  CHECK(g.detail == "worker answer refused: not a promptwall extraction frame");

  // A header claiming 2^64-1 bytes: refused before reading (and holding) any of them.
  ExtractionPool huge(options(script(
      dir, "huge.sh", "cat >/dev/null; printf 'PWXA\\001\\000\\000\\000\\377\\377\\377\\377\\377\\377\\377\\377'")));
  CHECK(huge.extract("x", "a").detail == "worker answer refused: payload longer than its bound");

  // A whole frame of the right length whose payload is nonsense: the strict decoder's reason.
  ExtractionPool nonsense(options(script(
      dir, "nonsense.sh", "cat >/dev/null; printf 'PWXA\\001\\000\\000\\000\\004\\000\\000\\000\\000\\000\\000\\000\\377\\377\\377\\377'")));
  const ExtractedDocument n = nonsense.extract("x", "a");
  CHECK(n.unscannable == Unscannable::extractor_failed);
  CHECK(n.detail == "worker answer does not decode: name longer than its bound");
}

TEST_CASE("pool: a hanging worker times out within the limit, with no zombie or straggler left", "[extractors][pool]") {
  TempDir dir("pool");
  const std::string grandchild = (dir / "grandchild").string();
  auto o = options(script(dir, "hang.sh",
                             // Waits for its document first: spares started ahead must not run it.
                             "head -c 1 >/dev/null\nsleep 60 & echo $! > " + grandchild + "\nexec sleep 60"));
  o.limits.time_per_file = std::chrono::milliseconds(500);
  o.spares = 1;
  {
    ExtractionPool pool(o);
    const auto start = Clock::now();
    const ExtractedDocument d = pool.extract(kVietnamese, "a");
    const auto took = Clock::now() - start;
    CHECK(d.unscannable == Unscannable::timeout);
    CHECK(d.detail == "no answer within 500 ms: worker killed");
    CHECK(took >= std::chrono::milliseconds(500));
    CHECK(took < std::chrono::milliseconds(2500));
    CHECK(pool.stats().timed_out == 1);
    // The worker was reaped; the child it started in the background was killed with its group.
    for (const auto& [pid, state] : children()) CHECK(state != 'Z');
    const std::string pid = read_file(grandchild);
    REQUIRE_FALSE(pid.empty());
    for (int i = 0; i < 50 && alive(std::stoi(pid)); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK_FALSE(alive(std::stoi(pid)));
  }
  // The spare started for the next document is gone with the pool.
  CHECK(children().empty());
}

TEST_CASE("pool: a document over the worker's memory limit fails, and the pool goes on serving",
          "[extractors][pool]") {
  if (!have_binary()) return;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  WARN("SKIPPED: the sanitizer build runs workers without RLIMIT_AS");
  return;
#endif
  auto o = real_worker();
  o.limits.max_text_bytes = 256ull << 20;  // so the text limit (too_big) is not what stops it
  o.limits.worker_memory_bytes = 192ull << 20;  // the idle worker maps ~80 MiB
  // 48 MiB of text: the request, the reader's and the collector's copies and the answer's encoding
  // outgrow 192 MiB (with the default 1 GiB the same document is read: the check below).
  std::string big;
  while (big.size() < (48u << 20)) big += kVietnamese;
  {
    auto roomy = o;
    roomy.limits.worker_memory_bytes = 1ull << 30;
    ExtractionPool pool(roomy);
    const ExtractedDocument d = pool.extract(big, "big.txt");
    INFO(d.detail);
    CHECK(d.complete());
  }
  ExtractionPool pool(o);
  const ExtractedDocument d = pool.extract(big, "big.txt");
  INFO(d.detail);
  CHECK(d.unscannable == Unscannable::extractor_failed);
  const ExtractedDocument small = pool.extract(kVietnamese, "small.txt");
  INFO(small.detail);
  CHECK(small.complete());
  REQUIRE_FALSE(small.parts.empty());
  CHECK(small.parts[0].text.find("001099012345") != std::string::npos);
}

TEST_CASE("pool: 50 concurrent submits are each answered exactly once", "[extractors][pool]") {
  if (!have_binary()) return;
  auto o = real_worker();
  o.concurrency = 4;
  o.max_queued = 64;
  ExtractionPool pool(o);
  std::mutex mutex;
  std::map<int, int> answers;
  std::map<int, std::string> texts;
  std::atomic<int> done{0};
  std::vector<std::thread> submitters;
  for (int t = 0; t < 5; ++t)
    submitters.emplace_back([&, t] {
      for (int i = t * 10; i < t * 10 + 10; ++i) {
        const std::string text = "Số: " + std::to_string(i) + "/QĐ-UBND\n";
        pool.submit(text, "doc" + std::to_string(i), [&, i](ExtractedDocument d) {
          std::lock_guard lock(mutex);
          ++answers[i];
          texts[i] = d.parts.empty() ? d.detail : d.parts[0].text;
          ++done;
        });
      }
    });
  for (auto& t : submitters) t.join();
  for (int i = 0; i < 3000 && done < 50; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(done == 50);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a second answer would land here
  std::lock_guard lock(mutex);
  REQUIRE(answers.size() == 50);
  for (const auto& [i, count] : answers) {
    INFO("document " << i);
    CHECK(count == 1);
    CHECK(texts[i] == "Số: " + std::to_string(i) + "/QĐ-UBND\n");
  }
  const auto stats = pool.stats();
  CHECK(stats.started == 50);
  CHECK(stats.completed == 50);
}

TEST_CASE("pool: a full queue answers at once, and the destructor answers work in flight", "[extractors][pool]") {
  TempDir dir("pool");
  auto o = options(script(dir, "slow.sh", "exec sleep 60"));
  o.concurrency = 1;
  o.max_queued = 2;
  o.limits.time_per_file = std::chrono::milliseconds(30'000);
  std::mutex mutex;
  std::map<int, std::vector<std::string>> answers;
  const auto start = Clock::now();
  {
    ExtractionPool pool(o);
    auto record = [&](int i) {
      return [&, i](ExtractedDocument d) {
        std::lock_guard lock(mutex);
        answers[i].push_back(d.detail);
      };
    };
    pool.submit("x", "0", record(0));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // 0 is with a worker now
    pool.submit("x", "1", record(1));
    pool.submit("x", "2", record(2));
    pool.submit("x", "3", record(3));  // the queue holds 1 and 2: no room
    {
      std::lock_guard lock(mutex);
      REQUIRE(answers[3].size() == 1);
      CHECK(answers[3][0] == "extraction queue full");
    }
  }
  CHECK(Clock::now() - start < std::chrono::seconds(3));
  std::lock_guard lock(mutex);
  for (int i = 0; i < 3; ++i) {
    INFO("document " << i);
    REQUIRE(answers[i].size() == 1);
    CHECK(answers[i][0] == "extraction pool stopped");
  }
  CHECK(children().empty());
}

TEST_CASE("pool: the worker's spares are started ahead, and a dead spare is not used", "[extractors][pool]") {
  if (!have_binary()) return;
  auto o = real_worker();
  o.spares = 2;
  ExtractionPool pool(o);
  const auto before = children();
  CHECK(before.size() == 2);
  for (const auto& [pid, state] : before) ::kill(pid, SIGKILL);  // killed from outside while idle
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const ExtractedDocument d = pool.extract(kVietnamese, "a.txt");
  INFO(d.detail);
  CHECK(d.complete());
  for (const auto& [pid, state] : children()) CHECK(state != 'Z');
}

TEST_CASE("extract-worker --self-test: confined, socket() fails and reading still works", "[extractors][pool]") {
  if (!have_binary()) return;
  const std::string command = std::string(PROMPTWALL_BINARY) + " extract-worker --self-test 2>&1";
  FILE* p = ::popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, p)) out.append(buffer, n);
  const int status = ::pclose(p);
  INFO(out);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(out.find("ok:     socket(AF_INET, SOCK_STREAM): refused (Operation not permitted)") != std::string::npos);
  CHECK(out.find("ok:     ptrace(PTRACE_ATTACH, parent): refused (Operation not permitted)") != std::string::npos);
  CHECK(out.find(", O_WRONLY|O_CREAT): refused (Operation not permitted)") != std::string::npos);
  CHECK(out.find("ok:     reading /proc/self/status: works") != std::string::npos);
  CHECK(out.find("FAILED") == std::string::npos);
  CHECK(out.find("the extraction worker's confinement holds on this host") != std::string::npos);
}
