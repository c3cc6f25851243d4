#include "audit/audit_index.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <system_error>
#include <variant>

#include "audit/trail_format.h"
#include "audit/trail_reader.h"

namespace promptwall::audit {
namespace {

// Bump when the tables change: an index of another version is dropped and rebuilt from the trail.
constexpr int kIndexSchemaVersion = 3;  // 2: events.justified (issue 16); 3: traffic (issue 17)

// The tables. Events are located in the trail (file_id, offset, length) rather than copied.
// severity is the rank of the event's highest finding severity (0: none; see severity_rank);
// violation is decision <> 'allow', a column so that it can lead an index.
constexpr const char* kCreateTables = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE files (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, first_seq INTEGER NOT NULL,
  size INTEGER NOT NULL,         -- bytes indexed: the end of the last indexed record's line
  last_seq INTEGER NOT NULL, last_offset INTEGER NOT NULL, last_hash TEXT NOT NULL);
CREATE TABLE events (
  seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, time INTEGER NOT NULL,
  request_id TEXT NOT NULL, client TEXT NOT NULL, user TEXT NOT NULL, unit TEXT NOT NULL,
  service TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, decision TEXT NOT NULL,
  mode TEXT NOT NULL, reason TEXT NOT NULL, forwarded INTEGER NOT NULL, violation INTEGER NOT NULL,
  severity INTEGER NOT NULL, ruleset TEXT NOT NULL, bytes_in INTEGER NOT NULL,
  bytes_forwarded INTEGER NOT NULL, latency_ms REAL NOT NULL, scan_ms REAL NOT NULL,
  file_id INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL,
  justified INTEGER NOT NULL DEFAULT 0);
CREATE TABLE findings (
  seq INTEGER NOT NULL, idx INTEGER NOT NULL, rule TEXT NOT NULL, category TEXT NOT NULL,
  severity INTEGER NOT NULL, action TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (seq, idx)) WITHOUT ROWID;
CREATE TABLE triage (
  target TEXT PRIMARY KEY, state TEXT NOT NULL, note TEXT NOT NULL, officer TEXT NOT NULL,
  time INTEGER NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE triage_log (
  seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, target TEXT NOT NULL, time INTEGER NOT NULL,
  state TEXT NOT NULL, note TEXT NOT NULL, officer TEXT NOT NULL, client TEXT NOT NULL);
CREATE TABLE traffic (
  seq INTEGER NOT NULL, hour INTEGER NOT NULL, unit TEXT NOT NULL, service TEXT NOT NULL,
  requests INTEGER NOT NULL, with_findings INTEGER NOT NULL);
)sql";

// Secondary indexes: one per filter, each ending in time so a filtered page comes out in order.
// Dropped during a full build and created afterwards (sorting once beats a million B-tree inserts).
constexpr std::array<const char*, 12> kCreateIndexes = {
    "CREATE INDEX events_time ON events(time)",
    "CREATE INDEX events_user ON events(user, time)",
    "CREATE INDEX events_unit ON events(unit, time)",
    "CREATE INDEX events_service ON events(service, time)",
    "CREATE INDEX events_decision ON events(decision, time)",
    "CREATE INDEX events_severity ON events(severity, time)",
    "CREATE INDEX events_violation ON events(violation, time)",
    "CREATE INDEX findings_rule ON findings(rule, seq)",
    "CREATE INDEX findings_category ON findings(category, seq)",
    "CREATE INDEX triage_state ON triage(state)",
    "CREATE INDEX triage_log_target ON triage_log(target, seq)",
    "CREATE INDEX traffic_hour ON traffic(hour)",
};
constexpr std::array<const char*, 12> kIndexNames = {
    "events_time",      "events_user",      "events_unit",   "events_service",  "events_decision",   "events_severity",
    "events_violation", "findings_rule",    "findings_category", "triage_state", "triage_log_target",
    "traffic_hour",
};

constexpr std::array<std::string_view, 4> kSeverities = {"low", "medium", "high", "critical"};

// 1..4 for the rules' severities (rules/rule.h), 0 for anything else.
int severity_rank(std::string_view name) {
  for (size_t i = 0; i < kSeverities.size(); ++i)
    if (kSeverities[i] == name) return static_cast<int>(i) + 1;
  return 0;
}
std::string severity_name(int64_t rank) {
  return rank >= 1 && rank <= 4 ? std::string(kSeverities[static_cast<size_t>(rank - 1)]) : std::string();
}

int64_t to_ms(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
Clock::time_point from_ms(int64_t ms) { return Clock::time_point(std::chrono::milliseconds(ms)); }

// ---- SQLite, thinly: errors become std::runtime_error naming the index file ----

class Database {
 public:
  explicit Database(const std::filesystem::path& file) : file_(file) {
    const int rc = sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    if (rc != SQLITE_OK) {
      const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      throw std::runtime_error(file.string() + ": cannot open the index: " + why);
    }
  }
  ~Database() { sqlite3_close(db_); }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  sqlite3* get() const { return db_; }
  const std::filesystem::path& file() const { return file_; }

  void exec(const std::string& sql) const {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      const std::string why = message != nullptr ? message : sqlite3_errmsg(db_);
      sqlite3_free(message);
      throw error(why);
    }
  }
  std::runtime_error error(const std::string& why) const {
    return std::runtime_error(file_.string() + ": " + why);
  }

 private:
  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement(const Database& db, std::string_view sql) : db_(db) {
    if (sqlite3_prepare_v2(db.get(), sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK)
      throw db.error(sqlite3_errmsg(db.get()));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Statement& bind(int i, double v) { return check(sqlite3_bind_double(stmt_, i, v)); }
  Statement& bind(int i, std::string_view v) {
    return check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }

  // True while there is a row.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw db_.error(sqlite3_errmsg(db_.get()));
  }
  void run() { step(); reset(); }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p != nullptr ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }

 private:
  Statement& check(int rc) {
    if (rc != SQLITE_OK) throw db_.error(sqlite3_errmsg(db_.get()));
    return *this;
  }
  const Database& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE takes the write lock at once (waiting out another writer for the busy timeout),
// so two processes never index the same records.
class WriteTransaction {
 public:
  explicit WriteTransaction(const Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
  ~WriteTransaction() {
    if (!done_) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    db_.exec("COMMIT");
    done_ = true;
  }

 private:
  const Database& db_;
  bool done_ = false;
};

// ---- filters as SQL over `events e` ----

using Param = std::variant<int64_t, std::string>;

struct Where {
  std::string sql;  // "" or " WHERE ..."
  std::vector<Param> params;

  void add(std::string condition) { sql += (sql.empty() ? " WHERE " : " AND ") + std::move(condition); }
  void add(std::string condition, Param p) {
    add(std::move(condition));
    params.push_back(std::move(p));
  }
  // Binds the parameters from 1 on; returns the next free index.
  int bind(Statement& s) const {
    int i = 1;
    for (const auto& p : params) {
      if (std::holds_alternative<int64_t>(p)) s.bind(i++, std::get<int64_t>(p));
      else s.bind(i++, std::string_view(std::get<std::string>(p)));
    }
    return i;
  }
};

Where where_of(const EventFilter& f) {
  Where w;
  if (f.since) w.add("e.time >= ?", to_ms(*f.since));
  if (f.until) w.add("e.time < ?", to_ms(*f.until));
  if (!f.user.empty()) w.add("e.user = ?", f.user);
  if (!f.unit.empty()) w.add("e.unit = ?", f.unit);
  if (!f.service.empty()) w.add("e.service = ?", f.service);
  if (!f.decision.empty()) w.add("e.decision = ?", f.decision);
  if (f.violations_only) w.add("e.violation = 1");
  if (f.justified_only) w.add("e.justified = 1");
  if (!f.severity.empty()) {
    const int rank = severity_rank(f.severity);
    if (rank == 0) throw std::invalid_argument("severity '" + f.severity + "' is not one of low, medium, high, critical");
    w.add("e.severity >= ?", int64_t{rank});
  }
  if (!f.rule.empty()) w.add("e.seq IN (SELECT seq FROM findings WHERE rule = ?)", f.rule);
  if (!f.category.empty()) w.add("e.seq IN (SELECT seq FROM findings WHERE category = ?)", f.category);
  if (f.triage == "new") {
    w.add("NOT EXISTS (SELECT 1 FROM triage t2 WHERE t2.target = e.event_id AND t2.state <> 'new')");
  } else if (!f.triage.empty()) {
    if (!is_triage_state(f.triage))
      throw std::invalid_argument("triage state '" + f.triage + "' is not one of new, confirmed, false_positive, closed");
    w.add("e.event_id IN (SELECT target FROM triage WHERE state = ?)", f.triage);
  }
  return w;
}

constexpr const char* kSelectEvent =
    "SELECT e.seq, e.file_id, e.offset, e.length, e.severity, t.state, t.note "
    "FROM events e LEFT JOIN triage t ON t.target = e.event_id";

}  // namespace

// ---- the state behind AuditIndex ----

struct AuditIndex::Impl {
  std::filesystem::path trail_dir;
  Database db;
  // Open trail files by files.id, for reading events back; dropped at every sync (a rebuilt index
  // may name other files under the same ids).
  std::map<int64_t, int> fds;

  Impl(std::filesystem::path dir, const std::filesystem::path& index_file)
      : trail_dir(std::move(dir)), db(index_file) {
    sqlite3_busy_timeout(db.get(), 30'000);
    db.exec("PRAGMA journal_mode=WAL");
    // The index is derived data: losing the last commit to a power cut costs a re-sync, not truth.
    db.exec("PRAGMA synchronous=NORMAL");
    db.exec("PRAGMA cache_size=-65536");
    db.exec("PRAGMA journal_size_limit=67108864");  // the WAL shrinks back to 64 MiB after checkpoints
    ensure_schema();
  }
  ~Impl() {
    close_files();
    // Refreshes the planner's statistics when the tables grew a lot since the last ANALYZE; skipped
    // rather than waited for when another connection is writing.
    sqlite3_busy_timeout(db.get(), 0);
    sqlite3_exec(db.get(), "PRAGMA optimize", nullptr, nullptr, nullptr);
  }

  void close_files() {
    for (const auto& [id, fd] : fds) ::close(fd);
    fds.clear();
  }

  int64_t user_version() const {
    Statement s(db, "PRAGMA user_version");
    s.step();
    return s.integer(0);
  }

  // Creates the tables when the file is new or was made by another schema, leaving a note for the
  // next sync() to report the rebuild.
  void ensure_schema() {
    if (user_version() == kIndexSchemaVersion) return;
    WriteTransaction tx(db);
    const int64_t version = user_version();  // again, under the lock: another process may have won
    if (version == kIndexSchemaVersion) return;
    std::vector<std::string> tables;
    {
      Statement s(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
      while (s.step()) tables.push_back(s.text(0));
    }
    for (const auto& t : tables) db.exec("DROP TABLE \"" + t + "\"");
    db.exec(kCreateTables);
    for (const char* sql : kCreateIndexes) db.exec(sql);
    db.exec("PRAGMA user_version = " + std::to_string(kIndexSchemaVersion));
    set_meta("rebuild_reason", version == 0 && tables.empty()
                                   ? "there was no index"
                                   : "the index was built by schema version " + std::to_string(version) +
                                         ", this program uses version " + std::to_string(kIndexSchemaVersion));
    tx.commit();
  }

  void set_meta(std::string_view key, std::string_view value) const {
    Statement s(db, "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    s.bind(1, key).bind(2, value).run();
  }
  std::string take_meta(std::string_view key) const {
    Statement s(db, "SELECT value FROM meta WHERE key = ?");
    s.bind(1, key);
    if (!s.step()) return "";
    std::string value = s.text(0);
    Statement d(db, "DELETE FROM meta WHERE key = ?");
    d.bind(1, key).run();
    return value;
  }

  // Why the index no longer describes the trail, or "" when it does (see the header).
  std::string staleness() const {
    Statement s(db, "SELECT name, size, last_seq, last_offset, last_hash FROM files ORDER BY first_seq");
    uint64_t indexed_last_seq = 0;
    std::vector<std::string> names;
    while (s.step()) {
      const std::string name = s.text(0);
      const auto size = static_cast<uint64_t>(s.integer(1));
      const auto last_seq = static_cast<uint64_t>(s.integer(2));
      const auto last_offset = static_cast<uint64_t>(s.integer(3));
      names.push_back(name);
      indexed_last_seq = std::max(indexed_last_seq, last_seq);
      const auto path = trail_dir / name;
      std::error_code ec;
      const uint64_t now = std::filesystem::file_size(path, ec);
      if (ec) return name + " (indexed up to seq " + std::to_string(last_seq) + ") is missing";
      if (now < size)
        return name + " shrank (" + std::to_string(size) + " bytes were indexed, it has " + std::to_string(now) + ")";
      const auto line = read_range(path, last_offset, size - last_offset - 1);
      if (!line || record_hash(*line) != s.text(4))
        return "record " + std::to_string(last_seq) + " in " + name + " is not the one indexed";
    }
    std::sort(names.begin(), names.end());
    for (const auto& f : list_trail_files(trail_dir)) {
      const std::string name = f.path.filename().string();
      if (f.first_seq <= indexed_last_seq && !std::binary_search(names.begin(), names.end(), name))
        return name + " appeared among files already indexed";
    }
    return "";
  }

  static std::optional<std::string> read_range(const std::filesystem::path& path, uint64_t offset, uint64_t length) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    auto bytes = pread_all(fd, offset, length);
    ::close(fd);
    return bytes;
  }

  static std::optional<std::string> pread_all(int fd, uint64_t offset, uint64_t length) {
    std::string out(length, '\0');
    size_t done = 0;
    while (done < length) {
      const ssize_t n = ::pread(fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;
      done += static_cast<size_t>(n);
    }
    return out;
  }

  // The record line of an indexed event, checked to still carry its seq.
  std::string read_line(uint64_t seq, int64_t file_id, uint64_t offset, uint64_t length) {
    auto it = fds.find(file_id);
    if (it == fds.end()) {
      Statement s(db, "SELECT name FROM files WHERE id = ?");
      s.bind(1, file_id);
      if (!s.step()) throw db.error("event " + std::to_string(seq) + " names an unknown file");
      const auto path = trail_dir / s.text(0);
      const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw std::runtime_error(path.string() + ": cannot open: " + std::strerror(errno));
      it = fds.emplace(file_id, fd).first;
    }
    auto line = pread_all(it->second, offset, length);
    const auto head = line ? read_record_head(*line) : std::nullopt;
    if (!head || head->seq != seq)
      throw db.error("record " + std::to_string(seq) + " is no longer where the index says: the trail changed (sync)");
    return std::move(*line);
  }

  IndexedEvent read_event(const Statement& row) {
    IndexedEvent out;
    out.seq = static_cast<uint64_t>(row.integer(0));
    const std::string line = read_line(out.seq, row.integer(1), static_cast<uint64_t>(row.integer(2)),
                                       static_cast<uint64_t>(row.integer(3)));
    out.event = decision_from_json(nlohmann::json::parse(line));
    out.max_severity = severity_name(row.integer(4));
    if (!row.is_null(5)) out.triage_state = row.text(5);
    out.triage_note = row.text(6);
    return out;
  }
};

namespace {

// Appends the trail's new records to the index, inside the caller's transaction.
class Indexer {
 public:
  explicit Indexer(const Database& db)
      : db_(db),
        insert_event_(db, "INSERT INTO events(seq, event_id, time, request_id, client, user, unit, service, method, "
                          "path, decision, mode, reason, forwarded, violation, severity, ruleset, bytes_in, "
                          "bytes_forwarded, latency_ms, scan_ms, file_id, offset, length, justified) "
                          "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"),
        insert_finding_(db, "INSERT INTO findings(seq, idx, rule, category, severity, action, count) "
                            "VALUES(?,?,?,?,?,?,?)"),
        insert_triage_log_(db, "INSERT INTO triage_log(seq, event_id, target, time, state, note, officer, client) "
                               "VALUES(?,?,?,?,?,?,?,?)"),
        // Records arrive in seq order, but the guard keeps "last wins by seq" explicit.
        upsert_triage_(db, "INSERT INTO triage(target, state, note, officer, time, seq) VALUES(?,?,?,?,?,?) "
                           "ON CONFLICT(target) DO UPDATE SET state = excluded.state, note = excluded.note, "
                           "officer = excluded.officer, time = excluded.time, seq = excluded.seq "
                           "WHERE excluded.seq > triage.seq"),
        insert_traffic_(db, "INSERT INTO traffic(seq, hour, unit, service, requests, with_findings) "
                            "VALUES(?,?,?,?,?,?)"),
        insert_file_(db, "INSERT INTO files(name, first_seq, size, last_seq, last_offset, last_hash) "
                         "VALUES(?,?,0,0,0,'')"),
        update_file_(db, "UPDATE files SET size = ?, last_seq = ?, last_offset = ?, last_hash = ? WHERE id = ?") {}

  // Reads from `reader` to the end of the trail; returns the number of records read.
  uint64_t run(TrailReader& reader, const std::filesystem::path& resume_file, int64_t resume_id) {
    uint64_t added = 0;
    file_ = resume_file.filename().string();
    file_id_ = resume_id;
    while (auto record = reader.next()) {
      const std::string name = record->file.filename().string();
      if (name != file_) {
        flush_file();
        insert_file_.bind(1, std::string_view(name)).bind(2, static_cast<int64_t>(record->seq)).run();
        file_ = name;
        file_id_ = sqlite3_last_insert_rowid(db_.get());
      }
      index(*record);
      end_ = record->offset + record->line.size() + 1;
      last_seq_ = record->seq;
      last_offset_ = record->offset;
      last_line_ = std::move(record->line);
      dirty_ = true;
      ++added;
    }
    flush_file();
    return added;
  }

 private:
  void index(const TrailRecord& r) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(r.line);
    } catch (const nlohmann::json::exception&) {
      throw where(r, "not valid JSON");
    }
    const auto type = j.value("type", std::string());
    try {
      if (type == "decision") index_decision(r, decision_from_json(j));
      else if (type == "triage") index_triage(r, triage_from_json(j));
      else if (type == "traffic") index_traffic(r, traffic_from_json(j));
      // checkpoint, repair, outage, and types from later versions: not events to review.
    } catch (const nlohmann::json::exception& e) {
      throw where(r, e.what());
    } catch (const std::invalid_argument& e) {
      throw where(r, e.what());
    } catch (const std::runtime_error& e) {
      throw where(r, e.what());
    }
  }

  std::runtime_error where(const TrailRecord& r, const std::string& what) const {
    return std::runtime_error(r.file.string() + ":" + std::to_string(r.offset) + ": record " + std::to_string(r.seq) +
                              ": " + what);
  }

  void index_decision(const TrailRecord& r, const DecisionEvent& e) {
    const auto seq = static_cast<int64_t>(r.seq);
    int max_rank = 0;
    for (size_t i = 0; i < e.findings.size(); ++i) {
      const auto& f = e.findings[i];
      const int rank = severity_rank(f.severity);
      max_rank = std::max(max_rank, rank);
      insert_finding_.bind(1, seq)
          .bind(2, static_cast<int64_t>(i))
          .bind(3, std::string_view(f.rule_id))
          .bind(4, std::string_view(f.category))
          .bind(5, int64_t{rank})
          .bind(6, std::string_view(f.action))
          .bind(7, static_cast<int64_t>(f.count))
          .run();
    }
    int i = 1;
    auto text = [&](const std::string& v) { insert_event_.bind(i++, std::string_view(v)); };
    auto integer = [&](int64_t v) { insert_event_.bind(i++, v); };
    integer(seq);
    text(e.event_id);
    integer(to_ms(e.time));
    text(e.request_id);
    text(e.client);
    text(e.user);
    text(e.unit);
    text(e.service);
    text(e.method);
    text(e.path);
    text(e.decision);
    text(e.mode);
    text(e.reason);
    integer(e.forwarded ? 1 : 0);
    integer(e.decision != "allow" ? 1 : 0);
    integer(max_rank);
    text(e.ruleset);
    integer(static_cast<int64_t>(e.bytes_in));
    integer(static_cast<int64_t>(e.bytes_forwarded));
    insert_event_.bind(i++, e.latency_ms);
    insert_event_.bind(i++, e.scan_ms);
    integer(file_id_);
    integer(static_cast<int64_t>(r.offset));
    integer(static_cast<int64_t>(r.line.size()));
    integer(e.justification.via.empty() ? 0 : 1);
    insert_event_.run();
  }

  void index_triage(const TrailRecord& r, const TriageEvent& t) {
    const auto seq = static_cast<int64_t>(r.seq);
    insert_triage_log_.bind(1, seq)
        .bind(2, std::string_view(t.event_id))
        .bind(3, std::string_view(t.target))
        .bind(4, to_ms(t.time))
        .bind(5, std::string_view(t.state))
        .bind(6, std::string_view(t.note))
        .bind(7, std::string_view(t.officer))
        .bind(8, std::string_view(t.client))
        .run();
    upsert_triage_.bind(1, std::string_view(t.target))
        .bind(2, std::string_view(t.state))
        .bind(3, std::string_view(t.note))
        .bind(4, std::string_view(t.officer))
        .bind(5, to_ms(t.time))
        .bind(6, seq)
        .run();
  }

  // Traffic counts (TrafficEvent): one row per (hour, unit, service) of the record.
  void index_traffic(const TrailRecord& r, const TrafficEvent& t) {
    for (const auto& c : t.counts) {
      insert_traffic_.bind(1, static_cast<int64_t>(r.seq))
          .bind(2, to_ms(c.hour))
          .bind(3, std::string_view(c.unit))
          .bind(4, std::string_view(c.service))
          .bind(5, static_cast<int64_t>(std::min<uint64_t>(c.requests, INT64_MAX)))
          .bind(6, static_cast<int64_t>(std::min<uint64_t>(c.with_findings, INT64_MAX)))
          .run();
    }
  }

  // Records how far the current file is indexed (what staleness() checks next time).
  void flush_file() {
    if (!dirty_) return;
    update_file_.bind(1, static_cast<int64_t>(end_))
        .bind(2, static_cast<int64_t>(last_seq_))
        .bind(3, static_cast<int64_t>(last_offset_))
        .bind(4, std::string_view(record_hash(last_line_)))
        .bind(5, file_id_)
        .run();
    dirty_ = false;
  }

  const Database& db_;
  Statement insert_event_, insert_finding_, insert_triage_log_, upsert_triage_, insert_traffic_, insert_file_, update_file_;
  std::string file_;  // name of the file being indexed
  int64_t file_id_ = 0;
  bool dirty_ = false;
  uint64_t end_ = 0, last_seq_ = 0, last_offset_ = 0;
  std::string last_line_;
};

}  // namespace

AuditIndex::AuditIndex(std::filesystem::path trail_dir, std::filesystem::path index_file)
    : impl_(std::make_unique<Impl>(std::move(trail_dir), index_file)) {}

AuditIndex::~AuditIndex() = default;

SyncReport AuditIndex::sync() {
  Impl& m = *impl_;
  std::error_code ec;
  if (!std::filesystem::is_directory(m.trail_dir, ec)) throw std::runtime_error(m.trail_dir.string() + ": no audit trail here");
  m.close_files();
  WriteTransaction tx(m.db);
  SyncReport report;
  std::string reason = m.take_meta("rebuild_reason");
  if (reason.empty()) reason = m.staleness();
  if (!reason.empty()) {
    for (const char* name : kIndexNames) m.db.exec(std::string("DROP INDEX IF EXISTS ") + name);
    for (const char* table : {"files", "events", "findings", "triage", "triage_log", "traffic"})
      m.db.exec(std::string("DELETE FROM ") + table);
    report.rebuilt = true;
    report.rebuild_reason = reason;
  }

  // Where the last sync stopped: the end of the last indexed file.
  std::filesystem::path resume_file;
  int64_t resume_id = 0;
  uint64_t resume_offset = 0;
  {
    Statement s(m.db, "SELECT id, name, size FROM files ORDER BY first_seq DESC LIMIT 1");
    if (s.step()) {
      resume_id = s.integer(0);
      resume_file = m.trail_dir / s.text(1);
      resume_offset = static_cast<uint64_t>(s.integer(2));
    }
  }
  const bool full_build = resume_file.empty();
  if (full_build)
    for (const char* name : kIndexNames) m.db.exec(std::string("DROP INDEX IF EXISTS ") + name);

  TrailReader reader = full_build ? TrailReader(m.trail_dir, 1) : TrailReader(m.trail_dir, resume_file, resume_offset);
  report.records_added = Indexer(m.db).run(reader, resume_file, resume_id);

  if (full_build) {
    for (const char* sql : kCreateIndexes) m.db.exec(sql);
    // Statistics let the planner pick, say, the unit index over the violation index. A sampled
    // ANALYZE (analysis_limit) made every index look alike; the full one costs ~1.5 s a million.
    m.db.exec("ANALYZE");
  }
  {
    Statement s(m.db, "SELECT coalesce(max(last_seq), 0) FROM files");
    s.step();
    report.last_seq = static_cast<uint64_t>(s.integer(0));
  }
  tx.commit();
  // A full build leaves the whole index in the WAL: move it into the database and give the space
  // back now rather than at the last connection's close (a gateway's never comes).
  if (full_build) m.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return report;
}

std::vector<IndexedEvent> AuditIndex::query(const EventFilter& filter, const EventPage& page) const {
  const Where w = where_of(filter);
  Statement s(impl_->db, std::string(kSelectEvent) + w.sql +
                             (page.newest_first ? " ORDER BY e.time DESC, e.seq DESC" : " ORDER BY e.time, e.seq") +
                             " LIMIT ? OFFSET ?");
  int i = w.bind(s);
  s.bind(i++, static_cast<int64_t>(std::min<size_t>(page.limit, INT64_MAX)));
  s.bind(i, static_cast<int64_t>(std::min<size_t>(page.offset, INT64_MAX)));
  std::vector<IndexedEvent> out;
  while (s.step()) out.push_back(impl_->read_event(s));
  return out;
}

uint64_t AuditIndex::count(const EventFilter& filter) const {
  const Where w = where_of(filter);
  Statement s(impl_->db, "SELECT count(*) FROM events e" + w.sql);
  w.bind(s);
  s.step();
  return static_cast<uint64_t>(s.integer(0));
}

std::optional<IndexedEvent> AuditIndex::event(std::string_view event_id) const {
  Statement s(impl_->db, std::string(kSelectEvent) + " WHERE e.event_id = ?");
  s.bind(1, event_id);
  if (!s.step()) return std::nullopt;
  return impl_->read_event(s);
}

std::vector<TriageRecord> AuditIndex::triage_history(std::string_view event_id) const {
  Statement s(impl_->db,
              "SELECT seq, event_id, target, time, state, note, officer, client FROM triage_log "
              "WHERE target = ? ORDER BY seq");
  s.bind(1, event_id);
  std::vector<TriageRecord> out;
  while (s.step()) {
    TriageRecord r;
    r.seq = static_cast<uint64_t>(s.integer(0));
    r.triage.event_id = s.text(1);
    r.triage.target = s.text(2);
    r.triage.time = from_ms(s.integer(3));
    r.triage.state = s.text(4);
    r.triage.note = s.text(5);
    r.triage.officer = s.text(6);
    r.triage.client = s.text(7);
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<std::string> AuditIndex::record_line(uint64_t seq) const {
  Statement s(impl_->db, "SELECT file_id, offset, length FROM events WHERE seq = ?");
  s.bind(1, static_cast<int64_t>(seq));
  if (!s.step()) return std::nullopt;
  return impl_->read_line(seq, s.integer(0), static_cast<uint64_t>(s.integer(1)), static_cast<uint64_t>(s.integer(2)));
}

void AuditIndex::for_each_line(const EventFilter& filter, bool newest_first,
                               const std::function<bool(uint64_t, const std::string&)>& visit) const {
  const Where w = where_of(filter);
  Statement s(impl_->db, "SELECT e.seq, e.file_id, e.offset, e.length FROM events e" + w.sql +
                             (newest_first ? " ORDER BY e.time DESC, e.seq DESC" : " ORDER BY e.time, e.seq"));
  w.bind(s);
  while (s.step()) {
    const auto seq = static_cast<uint64_t>(s.integer(0));
    if (!visit(seq, impl_->read_line(seq, s.integer(1), static_cast<uint64_t>(s.integer(2)),
                                     static_cast<uint64_t>(s.integer(3)))))
      return;
  }
}

void AuditIndex::for_each_event(const EventFilter& filter, bool newest_first,
                                const std::function<bool(const IndexedEvent&)>& visit) const {
  const Where w = where_of(filter);
  Statement s(impl_->db, std::string(kSelectEvent) + w.sql +
                             (newest_first ? " ORDER BY e.time DESC, e.seq DESC" : " ORDER BY e.time, e.seq"));
  w.bind(s);
  while (s.step())
    if (!visit(impl_->read_event(s))) return;
}

std::vector<AuditIndex::DayCount> AuditIndex::per_day(const EventFilter& filter, std::string_view by) const {
  Where w = where_of(filter);
  std::string sql;
  if (by == "category") {
    // An event counts once per category it has a finding in (and, when the filter names a
    // category, only for that one).
    if (!filter.category.empty()) w.add("f.category = ?", filter.category);
    sql = "SELECT strftime('%Y-%m-%d', e.time / 1000, 'unixepoch') AS day, f.category AS key, count(DISTINCT e.seq) "
          "FROM events e JOIN findings f ON f.seq = e.seq" + w.sql + " GROUP BY day, key ORDER BY day, key";
  } else if (by == "unit") {
    sql = "SELECT strftime('%Y-%m-%d', e.time / 1000, 'unixepoch') AS day, e.unit AS key, count(*) "
          "FROM events e" + w.sql + " GROUP BY day, key ORDER BY day, key";
  } else {
    throw std::invalid_argument("per_day: by '" + std::string(by) + "' is not category or unit");
  }
  Statement s(impl_->db, sql);
  w.bind(s);
  std::vector<DayCount> out;
  while (s.step()) out.push_back({s.text(0), s.text(1), static_cast<uint64_t>(s.integer(2))});
  return out;
}

std::vector<std::pair<std::string, uint64_t>> AuditIndex::top(const EventFilter& filter, std::string_view by,
                                                              size_t n) const {
  Where w = where_of(filter);
  std::string sql;
  if (by == "rule") {
    if (!filter.rule.empty()) w.add("f.rule = ?", filter.rule);
    sql = "SELECT f.rule, count(DISTINCT e.seq) AS c FROM events e JOIN findings f ON f.seq = e.seq" + w.sql +
          " GROUP BY f.rule ORDER BY c DESC, f.rule LIMIT ?";
  } else if (by == "user") {
    w.add("e.user <> ''");  // requests with no known user are nobody's
    sql = "SELECT e.user, count(*) AS c FROM events e" + w.sql + " GROUP BY e.user ORDER BY c DESC, e.user LIMIT ?";
  } else {
    throw std::invalid_argument("top: by '" + std::string(by) + "' is not rule or user");
  }
  Statement s(impl_->db, sql);
  s.bind(w.bind(s), static_cast<int64_t>(std::min<size_t>(n, INT64_MAX)));
  std::vector<std::pair<std::string, uint64_t>> out;
  while (s.step()) out.emplace_back(s.text(0), static_cast<uint64_t>(s.integer(1)));
  return out;
}

std::vector<std::string> AuditIndex::distinct(std::string_view column) const {
  std::string table;
  if (column == "gateway" || column == "province") return {};  // one gateway, unnamed here
  if (column == "service" || column == "unit" || column == "user") table = "events";
  else if (column == "rule" || column == "category") table = "findings";
  else throw std::invalid_argument("distinct: '" + std::string(column) + "' is not service, unit, user, rule or category");
  // A skip scan over the column's index: one seek per distinct value, not a pass over every row.
  const std::string c(column);
  Statement s(impl_->db, "WITH RECURSIVE d(v) AS (SELECT min(" + c + ") FROM " + table + " WHERE " + c +
                             " > '' UNION ALL SELECT (SELECT min(" + c + ") FROM " + table + " WHERE " + c +
                             " > d.v) FROM d WHERE d.v IS NOT NULL) SELECT v FROM d WHERE v IS NOT NULL");
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  return out;
}

namespace {

// pw_bucket(ms): the index of the bucket holding an instant (NULL outside them), registered on the
// connection for one query: SQLite has no time zones, and the buckets' edges carry the zone.
class BucketFunction {
 public:
  BucketFunction(const Database& db, const TimeBuckets& buckets) : db_(db) {
    if (!buckets.empty() && buckets.edges.size() != buckets.labels.size() + 1)
      throw std::invalid_argument("time buckets: one more edge than labels is needed");
    for (const auto& t : buckets.edges) edges_.push_back(to_ms(t));
    if (!std::is_sorted(edges_.begin(), edges_.end())) throw std::invalid_argument("time buckets: edges out of order");
    if (sqlite3_create_function(db.get(), "pw_bucket", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, &edges_, &call, nullptr,
                                nullptr) != SQLITE_OK)
      throw db.error(sqlite3_errmsg(db.get()));
  }
  ~BucketFunction() { sqlite3_create_function(db_.get(), "pw_bucket", 1, SQLITE_UTF8, nullptr, nullptr, nullptr, nullptr); }
  BucketFunction(const BucketFunction&) = delete;
  BucketFunction& operator=(const BucketFunction&) = delete;

  // Narrows `w` to the buckets' whole range (so an index on time serves it).
  void restrict(Where& w, std::string_view column) const {
    if (edges_.empty()) {
      w.add("0");
      return;
    }
    w.add(std::string(column) + " >= ?", edges_.front());
    w.add(std::string(column) + " < ?", edges_.back());
  }

 private:
  static void call(sqlite3_context* ctx, int, sqlite3_value** argv) {
    const auto& edges = *static_cast<const std::vector<int64_t>*>(sqlite3_user_data(ctx));
    const int64_t t = sqlite3_value_int64(argv[0]);
    const auto it = std::upper_bound(edges.begin(), edges.end(), t);
    if (it == edges.begin() || it == edges.end()) {
      sqlite3_result_null(ctx);
      return;
    }
    sqlite3_result_int64(ctx, static_cast<int64_t>(it - edges.begin()) - 1);
  }
  const Database& db_;
  std::vector<int64_t> edges_;
};

std::string_view label_at(const TimeBuckets& b, int64_t i) {
  return i >= 0 && static_cast<size_t>(i) < b.labels.size() ? std::string_view(b.labels[static_cast<size_t>(i)])
                                                              : std::string_view();
}

}  // namespace

std::vector<AuditIndex::DayCount> AuditIndex::per_bucket(const EventFilter& filter, std::string_view by,
                                                         const TimeBuckets& buckets) const {
  const BucketFunction bucket(impl_->db, buckets);
  Where w = where_of(filter);
  bucket.restrict(w, "e.time");
  std::string sql;
  if (by == "category") {
    if (!filter.category.empty()) w.add("f.category = ?", filter.category);
    sql = "SELECT pw_bucket(e.time) AS b, f.category AS key, count(DISTINCT e.seq) "
          "FROM events e JOIN findings f ON f.seq = e.seq" + w.sql + " GROUP BY b, key ORDER BY b, key";
  } else if (by == "unit") {
    sql = "SELECT pw_bucket(e.time) AS b, e.unit AS key, count(*) FROM events e" + w.sql +
          " GROUP BY b, key ORDER BY b, key";
  } else {
    throw std::invalid_argument("per_bucket: by '" + std::string(by) + "' is not category or unit");
  }
  Statement s(impl_->db, sql);
  w.bind(s);
  std::vector<DayCount> out;
  while (s.step())
    if (!s.is_null(0))
      out.push_back({std::string(label_at(buckets, s.integer(0))), s.text(1), static_cast<uint64_t>(s.integer(2))});
  return out;
}

std::vector<UsageRow> AuditIndex::usage(const EventFilter& filter, std::string_view by, const TimeBuckets& buckets) const {
  if (by != "unit" && by != "service") throw std::invalid_argument("usage: by '" + std::string(by) + "' is not unit or service");
  const std::string key(by);
  const BucketFunction bucket(impl_->db, buckets);
  std::map<std::pair<int64_t, std::string>, UsageRow> rows;
  auto row = [&](int64_t b, std::string k) -> UsageRow& {
    auto& r = rows[{b, k}];
    r.period = label_at(buckets, b);
    r.key = std::move(k);
    return r;
  };
  {
    Where w;
    bucket.restrict(w, "hour");
    if (filter.since) w.add("hour >= ?", to_ms(*filter.since));
    if (filter.until) w.add("hour < ?", to_ms(*filter.until));
    if (!filter.unit.empty()) w.add("unit = ?", filter.unit);
    if (!filter.service.empty()) w.add("service = ?", filter.service);
    Statement s(impl_->db, "SELECT pw_bucket(hour) AS b, " + key + " AS key, sum(requests), sum(with_findings) FROM traffic" +
                               w.sql + " GROUP BY b, key");
    w.bind(s);
    while (s.step()) {
      if (s.is_null(0)) continue;
      auto& r = row(s.integer(0), s.text(1));
      r.requests += static_cast<uint64_t>(s.integer(2));
      r.with_findings += static_cast<uint64_t>(s.integer(3));
    }
  }
  EventFilter violations = filter;
  violations.violations_only = true;
  {
    Where w = where_of(violations);
    bucket.restrict(w, "e.time");
    Statement s(impl_->db, "SELECT pw_bucket(e.time) AS b, e." + key + " AS key, count(*) FROM events e" + w.sql +
                               " GROUP BY b, key");
    w.bind(s);
    while (s.step())
      if (!s.is_null(0)) row(s.integer(0), s.text(1)).violations += static_cast<uint64_t>(s.integer(2));
  }
  {
    Where w = where_of(violations);
    bucket.restrict(w, "e.time");
    if (!filter.category.empty()) w.add("f.category = ?", filter.category);
    Statement s(impl_->db, "SELECT pw_bucket(e.time) AS b, e." + key +
                               " AS key, f.category, count(DISTINCT e.seq) FROM events e JOIN findings f ON f.seq = e.seq" +
                               w.sql + " GROUP BY b, key, f.category");
    w.bind(s);
    while (s.step())
      if (!s.is_null(0)) row(s.integer(0), s.text(1)).violations_by_category[s.text(2)] += static_cast<uint64_t>(s.integer(3));
  }
  std::vector<UsageRow> out;
  out.reserve(rows.size());
  for (auto& [k, r] : rows) out.push_back(std::move(r));
  return out;
}

}  // namespace promptwall::audit
