#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <ctime>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "audit/audit_writer.h"
#include "audit/trail_verifier.h"
#include "audit_trail_support.h"

using namespace promptwall::audit;
using namespace promptwall::test;
namespace fs = std::filesystem;

namespace {

// Counts completions and lets a test wait for all of them.
class Completions {
 public:
  AuditWriter::Completion make() {
    return [this](bool durable) {
      std::lock_guard lk(mu_);
      (durable ? ok_ : failed_)++;
      cv_.notify_all();
    };
  }
  void wait_for(uint64_t total) {
    std::unique_lock lk(mu_);
    REQUIRE(cv_.wait_for(lk, std::chrono::seconds(60), [&] { return ok_ + failed_ >= total; }));
  }
  uint64_t ok() const {
    std::lock_guard lk(mu_);
    return ok_;
  }
  uint64_t failed() const {
    std::lock_guard lk(mu_);
    return failed_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t ok_ = 0, failed_ = 0;
};

TrailReport verify_trail(const fs::path& dir) {
  const VerifyingKey key = VerifyingKey::load(dir / kPublicKeyFileName);
  return TrailVerifier(dir, key).verify();
}

std::vector<nlohmann::json> records_of_type(const fs::path& dir, const std::string& type) {
  std::vector<nlohmann::json> out;
  for (const auto& line : trail_lines(dir)) {
    auto j = nlohmann::json::parse(line);
    if (j.at("type") == type) out.push_back(std::move(j));
  }
  return out;
}

std::string today_utc() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d", &tm);
  return buf;
}

// Waits (bounded) for a condition the writer thread brings about.
template <typename F>
bool eventually(F condition, std::chrono::seconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace

TEST_CASE("concurrent appends are all durable, contiguous, chained and share fsyncs", "[audit][writer]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "trail";
  constexpr int kThreads = 8, kEach = 500;
  Completions done;
  AuditWriter::Stats stats;
  {
    AuditWriter writer(trail_options(dir, trail_key(tmp.path() / "audit.key")));
    REQUIRE(writer.health().available);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) writer.append(test_event(static_cast<uint64_t>(t * kEach + i)), done.make());
      });
    for (auto& th : threads) th.join();
    done.wait_for(kThreads * kEach);
    stats = writer.stats();
    CHECK(writer.durable_seq() >= static_cast<uint64_t>(kThreads * kEach));
  }
  CHECK(done.ok() == kThreads * kEach);
  CHECK(stats.records == kThreads * kEach);
  INFO("records " << stats.records << " commits " << stats.commits);
  CHECK(stats.commits < stats.records);  // group commit: more than one record per fdatasync

  std::set<uint64_t> seen;
  for (const auto& r : records_of_type(dir, "decision")) seen.insert(r.at("n").get<uint64_t>());
  CHECK(seen.size() == kThreads * kEach);
  const auto report = verify_trail(dir);
  INFO((report.problem ? report.problem->message : ""));
  CHECK(report.intact());
  CHECK_FALSE(report.warning);
  CHECK(report.records == kThreads * kEach + 1);  // + the closing checkpoint
  CHECK(report.checkpoints == 1);
  CHECK(report.head_verified);
  CHECK(report.head_seq == report.last_seq);
  CHECK(report.unsigned_tail == 0);
}

TEST_CASE("the writer rotates by size into files that chain, each closed by a checkpoint", "[audit][writer]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "trail";
  make_trail(dir, tmp.path() / "audit.key", 200, 4096);
  const auto files = list_trail_files(dir);
  REQUIRE(files.size() >= 4);
  for (size_t i = 0; i < files.size(); ++i) {
    const auto lines = file_lines(files[i].path);
    REQUIRE_FALSE(lines.empty());
    CHECK(read_record_head(lines.front())->seq == files[i].first_seq);
    CHECK(nlohmann::json::parse(lines.back()).at("type") == "checkpoint");
    if (i + 1 < files.size()) CHECK(fs::file_size(files[i].path) < 4096 + 1024);  // rotated near the size
    CHECK(files[i].day == today_utc());  // files are named by the UTC day they were opened
  }
  const auto report = verify_trail(dir);
  INFO((report.problem ? report.problem->message : ""));
  CHECK(report.intact());
  CHECK(report.checkpoints == files.size());
  CHECK(records_of_type(dir, "decision").size() == 200);

  struct stat st {};
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0750);
  REQUIRE(::stat(files[0].path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
}

TEST_CASE("checkpoints are written at the interval and the head is signed", "[audit][writer]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "trail";
  auto options = trail_options(dir, trail_key(tmp.path() / "audit.key"));
  options.checkpoint_interval = std::chrono::milliseconds(30);
  AuditWriter writer(options);
  REQUIRE(writer.append_and_wait(test_event(1)));
  REQUIRE(writer.append_and_wait(test_event(2)));
  // The writer adds a checkpoint on its own once the interval has passed; then the head names it.
  const auto head_at_last_record = [&] {
    if (!fs::exists(dir / kHeadFileName)) return false;
    const auto head = nlohmann::json::parse(slurp(dir / kHeadFileName));
    return head.at("seq").get<uint64_t>() == writer.durable_seq() && writer.durable_seq() >= 3;
  };
  REQUIRE(eventually(head_at_last_record));
  const auto lines = trail_lines(dir);
  const auto checkpoints = records_of_type(dir, "checkpoint");
  REQUIRE_FALSE(checkpoints.empty());
  const auto& last = checkpoints.back();
  const uint64_t seq = last.at("seq").get<uint64_t>();
  CHECK(seq == lines.size());
  CHECK(last.at("records") == seq - 1);
  CHECK(records_of_type(dir, "decision").size() == 2);

  const auto head = nlohmann::json::parse(slurp(dir / kHeadFileName));
  CHECK(head.at("hash") == record_hash(lines.back()));
  const VerifyingKey key = VerifyingKey::from_pem(slurp(dir / kPublicKeyFileName));
  CHECK(head.at("key_id") == key.key_id());
  CHECK(last.at("key_id") == key.key_id());
  CHECK(key.verify(head_signed_text(seq, head.at("hash").get<std::string>(), head.at("time").get<std::string>()),
                   head.at("sig").get<std::string>()));
  CHECK(key.verify(checkpoint_signed_text(seq, read_record_head(lines.back())->prev, last.at("time").get<std::string>()),
                   last.at("sig").get<std::string>()));
  CHECK_FALSE(key.verify(checkpoint_signed_text(seq + 1, read_record_head(lines.back())->prev, last.at("time").get<std::string>()),
                         last.at("sig").get<std::string>()));
  // Nothing added since: several intervals pass without another checkpoint, and close adds none.
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  writer.close();
  CHECK(records_of_type(dir, "checkpoint").size() == checkpoints.size());
  CHECK(verify_trail(dir).intact());
}

TEST_CASE("a torn tail is cut off on reopen and the repair is recorded", "[audit][writer]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "trail";
  const fs::path pem = tmp.path() / "audit.key";
  make_trail(dir, pem, 10, 1 << 20);
  const auto last = list_trail_files(dir).back().path;
  const auto size_before = fs::file_size(last);

  SECTION("a line without its newline") {
    const std::string partial = R"({"v":1,"seq":12,"prev":"abc)";
    std::ofstream(last, std::ios::app | std::ios::binary) << partial;
    auto report = verify_trail(dir);
    CHECK(report.intact());
    REQUIRE(report.warning);
    CHECK(report.warning->kind == "torn_tail");
    {
      AuditWriter writer(trail_options(dir, trail_key(pem)));
      REQUIRE(writer.health().available);
      CHECK(writer.append_and_wait(test_event(11)));
    }
    const auto repairs = records_of_type(dir, "repair");
    REQUIRE(repairs.size() == 1);
    CHECK(repairs[0].at("bytes_removed") == partial.size());
    CHECK(repairs[0].at("removed_sha256") == record_hash(partial));
    CHECK(repairs[0].at("offset") == size_before);
    CHECK(repairs[0].at("file") == last.filename().string());
    CHECK(repairs[0].at("seq") == 12);  // continues from the last whole record (11 = the checkpoint)
  }
  SECTION("a whole line that is not a record") {
    const std::string junk = "this is not a record\n";
    std::ofstream(last, std::ios::app | std::ios::binary) << junk;
    CHECK_FALSE(verify_trail(dir).intact());
    { AuditWriter writer(trail_options(dir, trail_key(pem))); }
    const auto repairs = records_of_type(dir, "repair");
    REQUIRE(repairs.size() == 1);
    CHECK(repairs[0].at("bytes_removed") == junk.size());
    CHECK(repairs[0].at("reason") == "last line is not a record");
  }
  const auto report = verify_trail(dir);
  INFO((report.problem ? report.problem->message : ""));
  CHECK(report.intact());
  CHECK_FALSE(report.warning);
}

TEST_CASE("a whole record that does not chain is kept as evidence, and the chain goes on after it", "[audit][writer]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "trail";
  const fs::path pem = tmp.path() / "audit.key";
  make_trail(dir, pem, 10, 1 << 20);
  const auto last = list_trail_files(dir).back().path;
  const std::string forged = compose_record(12, std::string(64, 'f'), test_event(99));
  std::ofstream(last, std::ios::app | std::ios::binary) << forged << "\n";
  {
    AuditWriter writer(trail_options(dir, trail_key(pem)));
    REQUIRE(writer.health().available);
    CHECK(writer.append_and_wait(test_event(13)));
  }
  CHECK(records_of_type(dir, "repair").empty());
  std::ifstream in(last, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content.find(forged) != std::string::npos);
  const auto report = verify_trail(dir);
  REQUIRE_FALSE(report.intact());
  // Record 12 does not follow 11: either 11 was edited or 12 forged; the verifier names the break.
  CHECK((report.problem->seq == 11 || report.problem->seq == 12));
}

TEST_CASE("a trail file deleted under the writer makes it unavailable, then it continues in a new file",
          "[audit][writer]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "trail";
  AuditWriter writer(trail_options(dir, trail_key(tmp.path() / "audit.key")));
  REQUIRE(writer.append_and_wait(test_event(1)));
  REQUIRE(writer.append_and_wait(test_event(2)));
  const auto first = list_trail_files(dir).front().path;
  fs::remove(first);
  CHECK_FALSE(writer.append_and_wait(test_event(3)));
  // Either still unavailable or already recovered by the retry; it must say why while it is down.
  const auto health = writer.health();
  if (!health.available) CHECK_THAT(health.error, Catch::Contains("deleted") && Catch::Contains(first.string()));
  REQUIRE(eventually([&] { return writer.health().available; }));
  CHECK(writer.append_and_wait(test_event(4)));
  writer.close();

  const auto files = list_trail_files(dir);
  REQUIRE(files.size() == 1);
  CHECK(files[0].first_seq == 3);  // the chain continues after the last durable record
  const auto outages = records_of_type(dir, "outage");
  REQUIRE(outages.size() == 1);
  CHECK_THAT(outages[0].at("error").get<std::string>(), Catch::Contains("deleted"));
  // The verifier sees exactly what happened: the file holding seq 1..2 is gone.
  const auto report = verify_trail(dir);
  REQUIRE(report.problem);
  CHECK(report.problem->kind == "missing_file");
}

namespace {
// A small tmpfs, mounted for one test (root only).
class SmallTmpfs {
 public:
  explicit SmallTmpfs(const fs::path& at) : at_(at) {
    fs::create_directories(at_);
    mounted_ = ::mount("tmpfs", at_.c_str(), "tmpfs", 0, "size=256k") == 0;
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount2(at_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  fs::path at_;
  bool mounted_ = false;
};
}  // namespace

TEST_CASE("a full disk makes the writer unavailable, freeing space recovers it with an outage record",
          "[audit][writer][root]") {
  TempDir tmp;
  if (::geteuid() != 0) {
    WARN("SKIPPED: not root: the full-disk test needs to mount a tmpfs");
    return;
  }
  SmallTmpfs disk(tmp.path() / "disk");
  REQUIRE(disk.mounted());
  const fs::path dir = tmp.path() / "disk" / "trail";
  const fs::path filler = tmp.path() / "disk" / "filler";
  AuditWriter writer(trail_options(dir, trail_key(tmp.path() / "audit.key")));
  REQUIRE(writer.append_and_wait(test_event(0)));
  {
    // Fill the disk, leaving no room for a record.
    std::ofstream out(filler, std::ios::binary);
    const std::string block(4096, 'f');
    for (int i = 0; i < 256 && out; ++i) out.write(block.data(), block.size()), out.flush();
  }
  uint64_t n = 1;
  bool refused = false;
  for (; n < 10'000 && !refused; ++n) refused = !writer.append_and_wait(test_event(n, std::string(500, 'y')));
  REQUIRE(refused);
  const uint64_t durable = writer.durable_seq();
  auto health = writer.health();
  CHECK_FALSE(health.available);
  CHECK_THAT(health.error, Catch::Contains("No space") && Catch::Contains(dir.string()));
  CHECK_FALSE(writer.append_and_wait(test_event(100'000)));  // refused at once while unavailable
  CHECK_FALSE(writer.append_and_wait(test_event(100'001)));
  CHECK(writer.health().refused_since >= 2);
  CHECK(writer.durable_seq() == durable);

  fs::remove(filler);
  REQUIRE(eventually([&] { return writer.health().available; }));
  CHECK(writer.health().error.empty());
  CHECK(writer.append_and_wait(test_event(200'000)));
  writer.close();

  const auto outages = records_of_type(dir, "outage");
  REQUIRE(outages.size() == 1);
  CHECK(outages[0].at("refused").get<uint64_t>() >= 2);
  CHECK_THAT(outages[0].at("error").get<std::string>(), Catch::Contains("No space"));
  const auto report = verify_trail(dir);
  INFO((report.problem ? report.problem->message : ""));
  CHECK(report.intact());
  // Every event reported durable is in the trail; none reported refused is.
  std::set<uint64_t> seen;
  for (const auto& r : records_of_type(dir, "decision")) seen.insert(r.at("n").get<uint64_t>());
  CHECK(seen.count(200'000) == 1);
  CHECK(seen.count(100'000) == 0);
  CHECK(seen.count(n - 1) == 0);  // the refused one
  for (uint64_t i = 0; i + 1 < n; ++i) CHECK(seen.count(i) == 1);
}

TEST_CASE("the writer refuses bad options and ill-shaped events", "[audit][writer]") {
  TempDir tmp;
  AuditWriterOptions none;
  none.dir = tmp.path() / "trail";
  CHECK_THROWS_AS(AuditWriter(none), std::invalid_argument);
  AuditWriter writer(trail_options(tmp.path() / "trail", trail_key(tmp.path() / "audit.key")));
  CHECK_FALSE(writer.append_and_wait("{\"x\":1}"));
  CHECK_FALSE(writer.append_and_wait("{\"type\":\"a\",\n\"x\":1}"));
  CHECK(writer.append_and_wait(test_event(1)));
  CHECK(writer.durable_seq() == 1);
}

TEST_CASE("beyond max_queue waiting events, append fails at once", "[audit][writer]") {
  TempDir tmp;
  auto options = trail_options(tmp.path() / "trail", trail_key(tmp.path() / "audit.key"));
  options.max_queue = 3;
  AuditWriter writer(options);
  // Hold the writer thread inside the first completion (tests only: completions must not block)
  // so that the queue fills deterministically.
  std::promise<void> entered, release;
  auto released = release.get_future().share();
  writer.append(test_event(1), [&, released](bool) {
    entered.set_value();
    released.wait();
  });
  entered.get_future().wait();
  Completions queued;
  for (uint64_t n = 2; n <= 4; ++n) writer.append(test_event(n), queued.make());
  bool fifth = true;
  writer.append(test_event(5), [&](bool durable) { fifth = durable; });
  CHECK_FALSE(fifth);  // completed at once, on this thread
  release.set_value();
  queued.wait_for(3);
  CHECK(queued.ok() == 3);
  writer.close();
  CHECK(records_of_type(tmp.path() / "trail", "decision").size() == 4);
}
