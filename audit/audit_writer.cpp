#include "audit/audit_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <future>
#include <stdexcept>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/trail_format.h"
#include "audit/trail_verifier.h"  // the signed strings

namespace promptwall::audit {

namespace {

using SysClock = std::chrono::system_clock;
namespace fs = std::filesystem;

// An I/O failure: one English line naming the path and the errno text, as health() shows it.
class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_io(std::string_view what, const fs::path& path, int err) {
  throw IoError(std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

std::tm utc(SysClock::time_point t) {
  const std::time_t secs = SysClock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

// RFC 3339, UTC, milliseconds (as event.h's format_time; kept here so the trail core stands alone).
std::string timestamp(SysClock::time_point t) {
  const std::tm tm = utc(t);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms < 0 ? ms + 1000 : ms));
  return buf;
}

std::string utc_day(SysClock::time_point t) {
  const std::tm tm = utc(t);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

void write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_io("cannot write", path, errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
}

void fsync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_io("cannot open directory", dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw_io("cannot fsync directory", dir, err);
}

// Replaces `path` with `content` so that a reader sees the old or the new file, never a mix, and
// the new one survives a crash once this returns.
void replace_file(const fs::path& path, std::string_view content) {
  fs::path tmp = path;
  tmp += ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) throw_io("cannot create", tmp, errno);
  try {
    write_all(fd, content, tmp);
    if (::fsync(fd) != 0) throw_io("cannot fsync", tmp, errno);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) throw_io("cannot rename onto", path, errno);
  fsync_directory(path.parent_path());
}

// Reads [offset, offset + size) of a file.
std::string read_range(int fd, uint64_t offset, size_t size, const fs::path& path) {
  std::string out(size, '\0');
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out.data() + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_io("cannot read", path, errno);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

// The end of a file: its last (up to) three lines' worth of bytes, enough to find the last whole
// record, the one before it and a torn remainder. `base` is the offset of tail[0].
struct Tail {
  std::string bytes;
  uint64_t base = 0;
};
Tail read_tail(int fd, uint64_t size, const fs::path& path) {
  for (uint64_t chunk = 64 * 1024;; chunk *= 4) {
    const uint64_t base = size > chunk ? size - chunk : 0;
    Tail tail{read_range(fd, base, static_cast<size_t>(size - base), path), base};
    size_t newlines = 0;
    for (char c : tail.bytes) newlines += c == '\n';
    if (base == 0 || newlines >= 3) return tail;
  }
}

// The last whole line of a file (without '\n'), or "" when it has none.
std::string last_whole_line(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_io("cannot open", path, errno);
  struct stat st {};
  ::fstat(fd, &st);
  Tail tail;
  try {
    tail = read_tail(fd, static_cast<uint64_t>(st.st_size), path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  const size_t end = tail.bytes.rfind('\n');
  if (end == std::string::npos) return "";
  const size_t begin = end == 0 ? std::string::npos : tail.bytes.rfind('\n', end - 1);
  return tail.bytes.substr(begin == std::string::npos ? 0 : begin + 1, end - (begin == std::string::npos ? 0 : begin + 1));
}

bool looks_whole(std::string_view line) { return line.size() > 2 && line.back() == '}'; }

struct Pending {
  std::string object;
  AuditWriter::Completion done;
};

}  // namespace

// Shared state (under `mu`) and the writer thread's own state (touched by that thread only, and by
// the constructor before the thread starts).
struct AuditWriter::State {
  AuditWriterOptions options;

  // --- shared, under mu ---
  mutable std::mutex mu;
  std::condition_variable wake;
  std::deque<Pending> queue;
  bool closing = false;
  bool available = false;
  std::string error;
  uint64_t refused_since = 0;
  Stats stats;
  std::atomic<uint64_t> durable_seq{0};
  std::thread thread;

  // --- the writer thread's ---
  bool position_known = false;  // the trail's end has been read (durable_next/durable_prev valid)
  int fd = -1;
  fs::path file;
  std::string file_day;
  uint64_t file_size = 0;       // durable bytes of `file`
  bool file_has_records = false;
  uint64_t next_seq = 1;        // staging: advanced as records are composed
  std::string prev{kGenesisHash};
  uint64_t durable_next = 1;    // after the last durable record
  std::string durable_prev{kGenesisHash};
  bool dirty = false;           // records since the last checkpoint
  SysClock::time_point last_checkpoint = SysClock::now();
  SysClock::time_point outage_since;
  SysClock::time_point next_retry;
  std::vector<std::string> own_pending;  // repair records not yet written

  explicit State(AuditWriterOptions o) : options(std::move(o)) {}

  // ---- opening ----

  void ensure_directory() {
    std::error_code ec;
    if (fs::is_directory(options.dir, ec)) return;
    if (options.dir.has_parent_path()) fs::create_directories(options.dir.parent_path(), ec);
    if (::mkdir(options.dir.c_str(), 0750) != 0 && errno != EEXIST) throw_io("cannot create directory", options.dir, errno);
  }

  void write_public_key() {
    const fs::path pub = options.dir / kPublicKeyFileName;
    const std::string pem = options.signing_key->public_pem();
    const int fd = ::open(pub.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      const std::string current = read_range(fd, 0, pem.size() + 1, pub);
      ::close(fd);
      if (current == pem) return;
    }
    replace_file(pub, pem);
  }

  // Reads the end of the trail, cuts a torn tail off (queuing a "repair" record), and sets the
  // chain position. Leaves the last file open for appending when it can be continued.
  void load_position() {
    ensure_directory();
    write_public_key();
    std::vector<TrailFile> files;
    try {
      files = list_trail_files(options.dir);
    } catch (const fs::filesystem_error& e) {
      throw_io("cannot list", options.dir, e.code().value());
    }
    durable_next = 1;
    durable_prev = std::string(kGenesisHash);
    if (!files.empty()) {
      if (files.size() >= 2) {
        // The chain position before the last file, in case the last one holds nothing whole.
        const std::string line = last_whole_line(files[files.size() - 2].path);
        if (const auto head = read_record_head(line)) {
          durable_next = head->seq + 1;
          durable_prev = record_hash(line);
        }
      }
      open_and_repair(files.back());
    }
    next_seq = durable_next;
    prev = durable_prev;
    durable_seq.store(durable_next - 1);
    position_known = true;
  }

  void open_and_repair(const TrailFile& last) {
    const int f = ::open(last.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (f < 0) throw_io("cannot open", last.path, errno);
    const int r = ::open(last.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (r < 0) {
      const int err = errno;
      ::close(f);
      throw_io("cannot open", last.path, err);
    }
    struct stat st {};
    ::fstat(r, &st);
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    Tail tail;
    try {
      tail = read_tail(r, size, last.path);
    } catch (...) {
      ::close(r);
      ::close(f);
      throw;
    }
    ::close(r);

    // Whole lines in the tail: [begin, end) offsets within tail.bytes.
    std::vector<std::pair<size_t, size_t>> lines;
    size_t start = 0;
    for (size_t i = 0; i < tail.bytes.size(); ++i)
      if (tail.bytes[i] == '\n') {
        lines.emplace_back(start, i);
        start = i + 1;
      }
    // A partial first line of the tail (when the tail does not start at the file's start) is
    // only context; only lines that begin in it count.
    if (tail.base > 0 && !lines.empty()) lines.erase(lines.begin());
    uint64_t keep = tail.base + start;  // everything up to the last '\n'
    std::string reason = keep < size ? "torn last line (no newline)" : "";

    auto line_at = [&](size_t k) {
      return std::string_view(tail.bytes).substr(lines[k].first, lines[k].second - lines[k].first);
    };
    // Only bytes a crash can leave are cut: a torn line (above), or a whole last line that is not a
    // record at all. A whole record that does not chain was written by someone else: it stays, as
    // evidence for `audit verify`, and the chain goes on after it.
    if (!lines.empty()) {
      const std::string_view line = line_at(lines.size() - 1);
      if (!read_record_head(line) || !looks_whole(line)) {
        keep = tail.base + lines.back().first;
        reason = "last line is not a record";
        lines.pop_back();
      }
    }
    if (!lines.empty()) {
      const std::string_view line = line_at(lines.size() - 1);
      if (const auto head = read_record_head(line)) {
        durable_next = head->seq + 1;
        durable_prev = record_hash(line);
      }
    }
    if (keep < size) {
      if (::ftruncate(f, static_cast<off_t>(keep)) != 0 || ::fsync(f) != 0) {
        const int err = errno;
        ::close(f);
        throw_io("cannot cut the torn tail off", last.path, err);
      }
      nlohmann::ordered_json repair;
      repair["type"] = "repair";
      repair["time"] = timestamp(SysClock::now());
      repair["file"] = last.path.filename().string();
      repair["offset"] = keep;
      repair["bytes_removed"] = size - keep;
      repair["reason"] = reason;
      // What was cut, so a removed line can still be matched against a copy of it.
      repair["removed_sha256"] = record_hash(std::string_view(tail.bytes).substr(static_cast<size_t>(keep - tail.base)));
      own_pending.push_back(repair.dump());
    }
    if (keep == 0 && last.first_seq != durable_next) {
      // An empty file whose name does not fit the chain's next seq: it holds nothing; drop it.
      ::close(f);
      ::unlink(last.path.c_str());
      return;
    }
    fd = f;
    file = last.path;
    file_day = last.day;
    file_size = keep;
    file_has_records = keep > 0;
  }

  // Opens a fresh file for the next record, today's date and next seq in its name.
  void open_new_file() {
    const auto now = SysClock::now();
    const std::string day = utc_day(now);
    const fs::path path = options.dir / trail_file_name(day, durable_next);
    int f = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (f < 0 && errno == EEXIST) {
      // Left empty by a failed attempt: nothing in it was ever durable.
      struct stat st {};
      if (::stat(path.c_str(), &st) == 0 && st.st_size == 0) {
        ::unlink(path.c_str());
        f = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
      } else {
        errno = EEXIST;
      }
    }
    if (f < 0) throw_io("cannot create", path, errno);
    fd = f;
    file = path;
    file_day = day;
    file_size = 0;
    file_has_records = false;
    fsync_directory(options.dir);  // the new name must survive a crash as its records do
  }

  void close_file() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }

  // ---- writing ----

  std::string compose(std::string_view object) {
    std::string line = compose_record(next_seq, prev, object);
    prev = record_hash(line);
    ++next_seq;
    return line;
  }

  // Makes `buf` (whole lines composed since the last flush) durable with one write and one
  // fdatasync, then reports `done` as true. Throws IoError, leaving the staging position to fail().
  void flush(std::string& buf, std::vector<Completion>& done) {
    if (buf.empty()) return;
    write_all(fd, buf, file);
    if (::fdatasync(fd) != 0) throw_io("cannot fdatasync", file, errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw_io("cannot stat", file, errno);
    if (st.st_nlink == 0) throw IoError("the trail file " + file.string() + " was deleted while being written");
    const uint64_t records = next_seq - durable_next;
    file_size += buf.size();
    file_has_records = true;
    durable_next = next_seq;
    durable_prev = prev;
    durable_seq.store(durable_next - 1);
    dirty = true;
    {
      std::lock_guard lk(mu);
      stats.records += records;
      ++stats.commits;
    }
    buf.clear();
    for (auto& d : done)
      if (d) d(true);
    done.clear();
  }

  void write_own_record(std::string_view object) {
    if (fd < 0) open_new_file();
    std::string buf = compose(object) + '\n';
    std::vector<Completion> none;
    flush(buf, none);
  }

  // Writes a signed checkpoint over every record so far, then replaces the head file.
  void checkpoint() {
    const auto now = SysClock::now();
    const std::string time = timestamp(now);
    const uint64_t seq = next_seq;
    nlohmann::ordered_json cp;
    cp["type"] = "checkpoint";
    cp["time"] = time;
    cp["key_id"] = options.signing_key->key_id();
    cp["records"] = seq - 1;
    cp["sig"] = options.signing_key->sign(checkpoint_signed_text(seq, prev, time));
    const std::string line = compose(cp.dump());
    std::string buf = line + '\n';
    std::vector<Completion> none;
    if (fd < 0) open_new_file();
    flush(buf, none);
    dirty = false;
    last_checkpoint = now;

    const std::string hash = record_hash(line);
    nlohmann::ordered_json head;
    head["seq"] = seq;
    head["hash"] = hash;
    head["time"] = time;
    head["key_id"] = options.signing_key->key_id();
    head["sig"] = options.signing_key->sign(head_signed_text(seq, hash, time));
    replace_file(options.dir / kHeadFileName, head.dump() + "\n");
  }

  void rotate() {
    if (dirty) checkpoint();
    close_file();
  }

  // Chains and writes a batch, splitting it at size rotations. On failure the writer becomes
  // unavailable first, then every completion not yet reported durable gets `false`.
  void commit(std::deque<Pending>& batch) {
    std::string buf;
    std::vector<Completion> done;
    size_t next = 0;
    try {
      if (fd >= 0 && file_day != utc_day(SysClock::now())) rotate();
      if (fd < 0) open_new_file();
      for (; next < batch.size(); ++next) {
        if ((file_has_records || !buf.empty()) && file_size + buf.size() >= options.rotate_bytes) {
          flush(buf, done);
          rotate();
          open_new_file();
        }
        buf += compose(batch[next].object);
        buf += '\n';
        done.push_back(std::move(batch[next].done));
      }
      flush(buf, done);
    } catch (const std::exception& e) {
      fail(e.what());
      for (auto& d : done)
        if (d) d(false);
      for (; next < batch.size(); ++next)
        if (batch[next].done) batch[next].done(false);
    }
    batch.clear();
  }

  // The trail cannot be written: give back what was not durable and become unavailable.
  void fail(const std::string& why) {
    if (fd >= 0) {
      [[maybe_unused]] const int rc = ::ftruncate(fd, static_cast<off_t>(file_size));  // best effort: never reported durable
    }
    close_file();                                                  // never reused after a failed fsync
    next_seq = durable_next;
    prev = durable_prev;
    const auto now = SysClock::now();
    next_retry = now + options.retry_interval;
    std::lock_guard lk(mu);
    if (available || error.empty()) {  // a new outage (not a failed retry of the current one)
      outage_since = now;
      refused_since = 0;
    }
    available = false;
    error = why;
  }

  // Tries the trail again: a new file continuing the chain, and an "outage" record first.
  void recover() {
    try {
      if (!position_known) load_position();
      if (fd < 0) open_new_file();
      for (const auto& own : own_pending) write_own_record(own);
      own_pending.clear();
      nlohmann::ordered_json outage;
      outage["type"] = "outage";
      outage["time"] = timestamp(SysClock::now());
      outage["since"] = timestamp(outage_since);
      uint64_t refused = 0;
      {
        std::lock_guard lk(mu);
        outage["error"] = error;
        refused = refused_since;
      }
      outage["refused"] = refused;
      write_own_record(outage.dump());
      std::lock_guard lk(mu);
      available = true;
      error.clear();
      refused_since -= std::min(refused_since, refused);  // refusals after the record was composed stay counted
    } catch (const std::exception& e) {
      fail(e.what());
    }
  }

  // The first open, on the constructor's thread.
  void start() {
    try {
      load_position();
      for (const auto& own : own_pending) write_own_record(own);
      own_pending.clear();
      std::lock_guard lk(mu);
      available = true;
    } catch (const std::exception& e) {
      fail(e.what());
    }
  }

  void fail_all(std::deque<Pending>& batch) {
    for (auto& p : batch)
      if (p.done) p.done(false);
    batch.clear();
  }

  void run() {
    for (;;) {
      std::deque<Pending> batch;
      bool stop = false;
      {
        std::unique_lock lk(mu);
        const auto deadline = !available ? next_retry
                              : dirty    ? last_checkpoint + options.checkpoint_interval
                                         : SysClock::now() + std::chrono::hours(1);
        wake.wait_until(lk, deadline, [&] { return closing || !queue.empty(); });
        batch.swap(queue);
        stop = closing;
      }
      if (!available) {
        fail_all(batch);
        if (stop) break;
        if (SysClock::now() >= next_retry) recover();
        continue;
      }
      if (!batch.empty()) commit(batch);
      try {
        if (available && dirty && (stop || SysClock::now() >= last_checkpoint + options.checkpoint_interval)) checkpoint();
      } catch (const std::exception& e) {
        fail(e.what());
      }
      if (stop) break;
    }
    close_file();
  }
};

AuditWriter::AuditWriter(AuditWriterOptions options) {
  if (!options.signing_key) throw std::invalid_argument("AuditWriter: a signing key is required");
  if (options.dir.empty()) throw std::invalid_argument("AuditWriter: no trail directory");
  if (options.rotate_bytes == 0 || options.max_queue == 0 || options.checkpoint_interval.count() <= 0 ||
      options.retry_interval.count() <= 0)
    throw std::invalid_argument("AuditWriter: rotate_bytes, max_queue and the intervals must be positive");
  state_ = std::make_unique<State>(std::move(options));
  state_->start();
  state_->thread = std::thread([s = state_.get()] { s->run(); });
}

AuditWriter::~AuditWriter() { close(); }

void AuditWriter::append(std::string object_json, Completion done) {
  // Only objects shaped as to_json_object makes them fit the record format (one line, "type" first).
  const bool shaped = object_json.rfind("{\"type\":", 0) == 0 && object_json.back() == '}' &&
                      object_json.find('\n') == std::string::npos;
  bool accepted = false;
  if (shaped) {
    std::lock_guard lk(state_->mu);
    if (!state_->closing && state_->available && state_->queue.size() < state_->options.max_queue) {
      state_->queue.push_back({std::move(object_json), std::move(done)});
      accepted = true;
    } else if (!state_->closing && !state_->available) {
      ++state_->refused_since;  // the outage record reports them
    }
  }
  if (accepted)
    state_->wake.notify_one();
  else if (done)
    done(false);
}

bool AuditWriter::append_and_wait(std::string object_json) {
  std::promise<bool> result;
  auto future = result.get_future();
  append(std::move(object_json), [&result](bool durable) { result.set_value(durable); });
  return future.get();
}

AuditWriter::Health AuditWriter::health() const {
  std::lock_guard lk(state_->mu);
  return {state_->available, state_->error, state_->durable_seq.load(), state_->refused_since};
}

uint64_t AuditWriter::durable_seq() const { return state_->durable_seq.load(); }

AuditWriter::Stats AuditWriter::stats() const {
  std::lock_guard lk(state_->mu);
  return state_->stats;
}

void AuditWriter::close() {
  if (!state_) return;
  {
    std::lock_guard lk(state_->mu);
    state_->closing = true;
  }
  state_->wake.notify_one();
  if (state_->thread.joinable()) state_->thread.join();
}

const std::filesystem::path& AuditWriter::dir() const { return state_->options.dir; }

}  // namespace promptwall::audit
