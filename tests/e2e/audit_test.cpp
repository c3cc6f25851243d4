// The audit trail as the gateway writes it: durable before a request leaves, fail closed when the
// disk is full (and back by itself), whole after a kill -9, a torn tail repaired on the next start.
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "expectations.h"

using namespace promptwall::e2e;

namespace {

CommandResult audit_verify(const fs::path& dir) {
  return run_command({PROMPTWALL_BINARY, "audit", "verify", dir.string()});
}

size_t count_type(const std::vector<json>& records, std::string_view type) {
  return static_cast<size_t>(std::count_if(records.begin(), records.end(),
                                            [&](const json& r) { return r.value("type", "") == type; }));
}

// A small filesystem of its own, so the trail can run out of space without touching the machine.
class SmallFilesystem {
 public:
  SmallFilesystem(const fs::path& where, const std::string& size) : path_(where) {
    fs::create_directories(path_);
    mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~SmallFilesystem() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const fs::path& path() const { return path_; }

  // Writes a filler file until the filesystem is full.
  void fill() {
    std::ofstream out(path_ / "filler", std::ios::binary);
    const std::string block(4096, 'x');
    while (out.write(block.data(), static_cast<std::streamsize>(block.size())) && out.flush()) {
    }
  }
  void free_space() { fs::remove(path_ / "filler"); }

 private:
  fs::path path_;
  bool mounted_ = false;
};

}  // namespace

TEST_CASE("a full disk stops AI traffic with a clear refusal, and it resumes by itself", "[e2e][audit]") {
  TempDir scratch;
  SmallFilesystem small(scratch.path() / "trail-fs", "1m");
  if (!small.mounted()) {
    WARN("SKIPPED: cannot mount a tmpfs here (needs root, as in CI): the full-disk test did not run");
    return;
  }
  GatewayOptions options;
  options.audit_dir = (small.path() / "audit").string();
  GatewayFixture gw(options);
  INFO(gw.where_to_look());
  REQUIRE(post(gw.url("/openai/v1/chat/completions"), chat_body(kCccdText)).status == 200);

  small.fill();
  // The current file may still have room in its last page: keep asking until the trail refuses.
  HttpResponse refused;
  GatewayFixture::Mark m;
  for (int i = 0; i < 200 && refused.status != 503; ++i) {
    m = gw.mark();
    refused = post(gw.url("/openai/v1/chat/completions"), chat_body(kCccdText + std::string(" #") + std::to_string(i)));
  }
  REQUIRE(refused.status == 503);
  check_decision(refused, "refused");
  const std::string message = refused.json_body()["error"]["message"].get<std::string>();
  CHECK(contains(message, "nhật ký kiểm toán"));  // Vietnamese first
  CHECK(contains(message, "audit trail"));
  check_nothing_forwarded(gw, m);

  auto ready = gw.admin("GET", "/readyz", false);
  CHECK(ready.status == 503);
  CHECK(contains(ready.body, "audit trail"));
  CHECK(contains(ready.body, "No space left on device"));
  // Clean requests are refused as well: nothing leaves unrecorded.
  auto clean = gw.mark();
  CHECK(post(gw.url("/openai/v1/chat/completions"), chat_body(kClean)).status == 503);
  check_nothing_forwarded(gw, clean);

  small.free_space();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (gw.admin("GET", "/readyz", false).status != 200 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(gw.admin("GET", "/readyz", false).status == 200);
  auto back = gw.mark();
  CHECK(post(gw.url("/openai/v1/chat/completions"), chat_body(kCccdText)).status == 200);
  CHECK(gw.forwarded_since(back).size() == 1);

  const auto records = gw.audit_records();
  CHECK(count_type(records, "outage") == 1);
  CHECK(contains(gw.log(), "audit trail unavailable"));
  // The log is told by a watcher that looks twice a second.
  const auto logged = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (!contains(gw.log(), "audit trail writable again") && std::chrono::steady_clock::now() < logged)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(contains(gw.log(), "audit trail writable again"));
  auto verified = audit_verify(gw.audit_dir());
  INFO(verified.out << verified.err);
  CHECK(verified.exit_code == 0);
}

TEST_CASE("after a kill -9 under load the trail verifies and holds every forwarded request", "[e2e][audit]") {
  GatewayFixture gw;
  INFO(gw.where_to_look());
  auto m = gw.mark();
  const size_t records_before = gw.audit_records().size();

  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 6; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; !stop; ++i) {
        const std::string text = (i % 2 ? std::string(kCccdText) : std::string(kClean)) + " (client " + std::to_string(c) +
                                 ", request " + std::to_string(i) + ")";
        if (post(gw.url("/openai/v1/chat/completions"), chat_body(text)).status == 200) ++answered;
      }
    });
  }
  // Let the load build, then kill without warning.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (answered < 60 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  gw.kill_hard();
  stop = true;
  for (auto& t : clients) t.join();
  REQUIRE(answered >= 60);

  // Every request the upstream received has its event in the trail, marked forwarded.
  const auto forwarded = gw.forwarded_since(m);
  const auto records = gw.audit_records();
  size_t forwarded_events = 0;
  for (size_t i = records_before; i < records.size(); ++i)
    if (records[i].value("type", "") == "decision" && records[i].value("forwarded", false)) ++forwarded_events;
  INFO("forwarded " << forwarded.size() << ", forwarded events " << forwarded_events);
  CHECK(forwarded.size() > 0);
  CHECK(forwarded_events >= forwarded.size());

  // Whatever the kill left (at most a torn last line), the chain verifies, and after a restart
  // the trail goes on from it.
  auto after_kill = audit_verify(gw.audit_dir());
  INFO(after_kill.out << after_kill.err);
  CHECK(after_kill.exit_code == 0);
  gw.start();
  gw.wait_ready();
  CHECK(post(gw.url("/openai/v1/chat/completions"), chat_body(kCccdText)).status == 200);
  gw.process().stop();
  auto after_restart = audit_verify(gw.audit_dir());
  INFO(after_restart.out << after_restart.err);
  CHECK(after_restart.exit_code == 0);
}

TEST_CASE("a torn last line is repaired on the next start, and the repair is recorded", "[e2e][audit]") {
  GatewayFixture gw;
  INFO(gw.where_to_look());
  REQUIRE(post(gw.url("/openai/v1/chat/completions"), chat_body(kCccdText)).status == 200);
  gw.process().stop();

  // What a crash in the middle of a write leaves: the start of a record without its end.
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(gw.audit_dir()))
    if (entry.path().extension() == ".jsonl") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  REQUIRE_FALSE(files.empty());
  {
    std::ofstream out(files.back(), std::ios::app | std::ios::binary);
    out << R"({"v":1,"seq":999,"prev":"00)";
  }
  auto torn = audit_verify(gw.audit_dir());
  INFO(torn.out << torn.err);
  CHECK(torn.exit_code == 0);  // what a crash leaves is not tampering
  CHECK(contains(torn.out + torn.err, "torn"));

  gw.start();
  gw.wait_ready();
  CHECK(count_type(gw.audit_records(), "repair") == 1);
  CHECK(post(gw.url("/openai/v1/chat/completions"), chat_body(kCccdText)).status == 200);
  gw.process().stop();
  auto repaired = audit_verify(gw.audit_dir());
  INFO(repaired.out << repaired.err);
  CHECK(repaired.exit_code == 0);
  CHECK_FALSE(contains(repaired.out + repaired.err, "torn"));
}
