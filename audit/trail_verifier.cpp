#include "audit/trail_verifier.h"

#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/trail_format.h"

namespace promptwall::audit {

std::string checkpoint_signed_text(uint64_t seq, std::string_view prev, std::string_view time) {
  return "promptwall-audit-checkpoint\n1\n" + std::to_string(seq) + "\n" + std::string(prev) + "\n" + std::string(time);
}

std::string head_signed_text(uint64_t seq, std::string_view hash, std::string_view time) {
  return "promptwall-audit-head\n1\n" + std::to_string(seq) + "\n" + std::string(hash) + "\n" + std::string(time);
}

namespace {

namespace fs = std::filesystem;

// The records' lines in chain order, with one line of lookahead (the classification of a break in
// the chain needs to see the line after it): from the trail's files, or from any sequence of lines
// (the central store's copy).
class LineStream {
 public:
  struct Line {
    size_t file = 0;
    uint64_t number = 0;  // 1-based within its file
    std::string text;     // without '\n'
    bool whole = false;   // ended by '\n'
  };
  virtual ~LineStream() = default;

  std::optional<Line> next() {
    if (!ahead_) ahead_ = fetch();
    std::optional<Line> line = std::move(*ahead_);
    ahead_.reset();
    return line;
  }

  const Line* peek() {
    if (!ahead_) ahead_ = fetch();
    return *ahead_ ? &**ahead_ : nullptr;
  }

 protected:
  virtual std::optional<Line> fetch() = 0;

 private:
  std::optional<std::optional<Line>> ahead_;
};

// Every line of every file in order, read in large chunks.
class FileLines : public LineStream {
 public:
  explicit FileLines(const std::vector<TrailFile>& files) : files_(files) {}

 private:
  std::optional<Line> fetch() override {
    while (index_ < files_.size()) {
      if (!in_.is_open()) {
        in_.open(files_[index_].path, std::ios::binary);
        if (!in_) throw std::runtime_error("cannot read " + files_[index_].path.string());
        buf_.clear();
        pos_ = 0;
        number_ = 0;
        eof_ = false;
      }
      const size_t nl = buf_.find('\n', pos_);
      if (nl != std::string::npos) {
        Line line{index_, ++number_, buf_.substr(pos_, nl - pos_), true};
        pos_ = nl + 1;
        return line;
      }
      if (!eof_) {
        buf_.erase(0, pos_);
        pos_ = 0;
        const size_t old = buf_.size();
        buf_.resize(old + kChunk);
        in_.read(buf_.data() + old, kChunk);
        buf_.resize(old + static_cast<size_t>(in_.gcount()));
        if (in_.bad()) throw std::runtime_error("cannot read " + files_[index_].path.string());
        eof_ = in_.gcount() == 0;
        continue;
      }
      if (pos_ < buf_.size()) {
        Line line{index_, ++number_, buf_.substr(pos_), false};
        pos_ = buf_.size();
        return line;
      }
      in_.close();
      in_.clear();
      ++index_;
    }
    return std::nullopt;
  }

  static constexpr size_t kChunk = 1 << 20;
  const std::vector<TrailFile>& files_;
  size_t index_ = 0;
  std::ifstream in_;
  std::string buf_;
  size_t pos_ = 0;
  uint64_t number_ = 0;
  bool eof_ = false;
};

// Lines handed over one by one, all of one pseudo-file (index 0), each whole.
class GivenLines : public LineStream {
 public:
  explicit GivenLines(const std::function<std::optional<std::string>()>& source) : source_(source) {}

 private:
  std::optional<Line> fetch() override {
    auto text = source_();
    if (!text) return std::nullopt;
    return Line{0, ++number_, std::move(*text), true};
  }
  const std::function<std::optional<std::string>()>& source_;
  uint64_t number_ = 0;
};

struct Head {
  uint64_t seq = 0;
  std::string hash, time, key_id, sig;
};

constexpr std::string_view kCheckpointType = "\"type\":\"checkpoint\"";
// The head of a record is `{"v":1,"seq":N,"prev":"<64>",`: the event's members start after it.
size_t members_offset(std::string_view line) { return line.find("\"prev\":\"") + 8 + 64 + 2; }

class Walk {
 public:
  Walk(const fs::path& dir, const VerifyingKey& key, TrailReport& report) : dir_(dir), key_(key), report_(report) {}

  void run() {
    files_ = list_trail_files(dir_);
    report_.files = files_.size();
    report_.key_id = key_.key_id();
    if (!check_head()) return;
    if (!files_.empty() && files_.front().first_seq != 1)
      return fail("missing_file", "the first file starts at seq " + std::to_string(files_.front().first_seq) +
                                      ": the files before it are missing", 0, 0, files_.front().first_seq);
    FileLines lines(files_);
    walk(lines);
    if (report_.problem || report_.warning) return;
    if (head_ && report_.last_seq < head_->seq)
      fail("truncated", "the trail ends at seq " + std::to_string(report_.last_seq) + " but the signed head (trail.head) is at seq " +
                            std::to_string(head_->seq) + ": records were removed from the end",
           files_.empty() ? -1 : static_cast<long>(files_.size() - 1), 0, report_.last_seq);
  }

  // The same checks over lines from elsewhere, named `name` in messages, with no head file: the
  // end is checked against `expected_last_seq` instead (0: not checked).
  void run_lines(const std::function<std::optional<std::string>()>& source, const std::string& name,
                 uint64_t expected_last_seq) {
    files_ = {TrailFile{name, 1, ""}};
    report_.files = 0;
    report_.key_id = key_.key_id();
    GivenLines lines(source);
    walk(lines);
    if (report_.problem) return;
    if (report_.last_seq < expected_last_seq)
      fail("truncated", "the records end at seq " + std::to_string(report_.last_seq) + " but " + std::to_string(expected_last_seq) +
                            " were shipped: records were removed from the end", 0, 0, report_.last_seq);
  }

 private:
  void walk(LineStream& lines) {
    size_t file = SIZE_MAX;
    while (auto line = lines.next()) {
      const bool first_in_file = line->file != file;
      file = line->file;
      if (!line->whole) return torn(*line, lines.peek() != nullptr);
      if (!check_line(*line, first_in_file, lines.peek())) return;
    }
    report_.unsigned_tail = report_.last_seq - last_checkpoint_;
  }

  // Reads and verifies trail.head (when present). False when it is a problem.
  bool check_head() {
    const fs::path path = dir_ / kHeadFileName;
    std::ifstream in(path, std::ios::binary);
    if (!in) return true;  // none yet: a trail before its first checkpoint
    std::stringstream text;
    text << in.rdbuf();
    report_.head_present = true;
    Head head;
    try {
      const auto j = nlohmann::json::parse(text.str());
      head = {j.at("seq").get<uint64_t>(), j.at("hash").get<std::string>(), j.at("time").get<std::string>(),
              j.at("key_id").get<std::string>(), j.at("sig").get<std::string>()};
    } catch (const std::exception&) {
      fail_at(path, "bad_head", "trail.head is not a head file", 0, 0);
      return false;
    }
    report_.head_seq = head.seq;
    if (head.key_id != key_.key_id()) {
      fail_at(path, "unknown_key", "trail.head is signed by key " + head.key_id + ", not by the verifying key " + key_.key_id(), 0,
              head.seq);
      return false;
    }
    if (!key_.verify(head_signed_text(head.seq, head.hash, head.time), head.sig)) {
      fail_at(path, "bad_signature", "the signature of trail.head does not verify", 0, head.seq);
      return false;
    }
    report_.head_verified = true;
    head_ = head;
    return true;
  }

  void torn(const LineStream::Line& line, bool more_follows) {
    const fs::path& path = files_[line.file].path;
    if (more_follows)
      return fail("truncated", "line " + std::to_string(line.number) + " of " + path.filename().string() +
                                   " is cut short (no newline) and the trail continues after it",
                  static_cast<long>(line.file), line.number, 0);
    if (head_ && head_->seq > report_.last_seq)
      return fail("truncated", "the trail ends at seq " + std::to_string(report_.last_seq) +
                                   " with a torn line, but the signed head (trail.head) is at seq " + std::to_string(head_->seq),
                  static_cast<long>(line.file), line.number, report_.last_seq);
    report_.warning = TrailProblem{"torn_tail",
                                   "torn last record (interrupted write; the next start repairs it): line " +
                                       std::to_string(line.number) + " of " + path.filename().string(),
                                   path, line.number, 0};
    report_.unsigned_tail = report_.last_seq - last_checkpoint_;
  }

  bool check_line(const LineStream::Line& line, bool first_in_file, const LineStream::Line* next) {
    const TrailFile& file = files_[line.file];
    const std::string where = " at line " + std::to_string(line.number) + " of " + file.path.filename().string();
    const auto head = read_record_head(line.text);
    if (!head || head->version != 1)
      return fail("malformed", "not a version-1 record" + where, static_cast<long>(line.file), line.number, 0), false;
    const uint64_t seq = head->seq, p = report_.last_seq;
    const auto next_head = next && next->whole ? read_record_head(next->text) : std::nullopt;
    const long fi = static_cast<long>(line.file);

    if (first_in_file && seq > p + 1 && seq == file.first_seq)
      return fail("missing_file", "seq jumps from " + std::to_string(p) + " to " + std::to_string(seq) + " between files" + where +
                                      ": a file is missing", fi, line.number, seq), false;
    if (seq == p + 1 && head->prev != prev_hash_) {
      if (next_head && next_head->seq == seq && next_head->prev == prev_hash_)
        return fail("inserted", "seq " + std::to_string(seq) + where + " does not chain, and the line after it does: a record was inserted",
                    fi, line.number, seq), false;
      if (p == 0)
        return fail("edited", "the first record's prev is not the genesis hash" + where, fi, line.number, seq), false;
      return fail_at(prev_file_, "edited", "record seq " + std::to_string(p) + " at line " + std::to_string(prev_line_) + " of " +
                                               prev_file_.filename().string() +
                                               " was edited: its hash no longer matches the next record's prev",
                     prev_line_, p), false;
    }
    if (seq == p && p != 0)
      return fail("inserted", "seq " + std::to_string(seq) + " appears twice (lines " + std::to_string(prev_line_) + " and " +
                                  std::to_string(line.number) + "): a record was inserted" + where,
                  fi, line.number, seq), false;
    if (seq < p)
      return fail("reordered", "seq goes backwards from " + std::to_string(p) + " to " + std::to_string(seq) + where, fi, line.number,
                  seq), false;
    if (seq > p + 1) {
      if (next_head && next_head->seq == p + 1) {
        if (seq == p + 2 && head->prev == record_hash(next->text))
          return fail("reordered", "seq " + std::to_string(seq) + " comes before seq " + std::to_string(p + 1) + where +
                                       ": records were swapped", fi, line.number, seq), false;
        return fail("inserted", "seq " + std::to_string(seq) + where + " does not belong between seq " + std::to_string(p) +
                                    " and seq " + std::to_string(p + 1) + ": a record was inserted", fi, line.number, seq), false;
      }
      return fail("deleted", "seq jumps from " + std::to_string(p) + " to " + std::to_string(seq) + where + ": record(s) " +
                                 std::to_string(p + 1) + ".." + std::to_string(seq - 1) + " were deleted", fi, line.number, seq), false;
    }
    if (first_in_file && seq != file.first_seq)
      return fail("misnamed_file", file.path.filename().string() + " is named for seq " + std::to_string(file.first_seq) +
                                       " but its first record is seq " + std::to_string(seq), fi, line.number, seq), false;

    // The record chains.
    report_.last_seq = seq;
    ++report_.records;
    prev_hash_ = record_hash(line.text);
    prev_file_ = file.path;
    prev_line_ = line.number;
    if (head_ && seq == head_->seq && prev_hash_ != head_->hash)
      return fail("edited", "record seq " + std::to_string(seq) + where + " does not match the signed head's hash: it was edited or replaced",
                  fi, line.number, seq), false;
    const std::string_view text = line.text;
    if (text.substr(members_offset(text), kCheckpointType.size()) == kCheckpointType)
      return check_checkpoint(text, *head, fi, line.number, where);
    return true;
  }

  bool check_checkpoint(std::string_view text, const RecordHead& head, long fi, uint64_t number, const std::string& where) {
    std::string time, key_id, sig;
    uint64_t records = 0;
    try {
      const auto j = nlohmann::json::parse(text);
      time = j.at("time").get<std::string>();
      key_id = j.at("key_id").get<std::string>();
      sig = j.at("sig").get<std::string>();
      records = j.at("records").get<uint64_t>();
    } catch (const std::exception&) {
      return fail("malformed", "checkpoint seq " + std::to_string(head.seq) + where + " is not a checkpoint record", fi, number, head.seq),
             false;
    }
    if (key_id != key_.key_id())
      return fail("unknown_key", "checkpoint seq " + std::to_string(head.seq) + where + " is signed by key " + key_id +
                                     ", not by the verifying key " + key_.key_id(), fi, number, head.seq), false;
    if (records + 1 != head.seq || !key_.verify(checkpoint_signed_text(head.seq, head.prev, time), sig))
      return fail("bad_signature", "the signature of checkpoint seq " + std::to_string(head.seq) + where + " does not verify", fi,
                  number, head.seq), false;
    ++report_.checkpoints;
    last_checkpoint_ = head.seq;
    return true;
  }

  void fail(std::string kind, std::string message, long file, uint64_t line, uint64_t seq) {
    fail_at(file >= 0 ? files_[static_cast<size_t>(file)].path : fs::path(), std::move(kind), std::move(message), line, seq);
  }
  void fail_at(const fs::path& file, std::string kind, std::string message, uint64_t line, uint64_t seq) {
    report_.problem = TrailProblem{std::move(kind), std::move(message), file, line, seq};
  }

  const fs::path& dir_;
  const VerifyingKey& key_;
  TrailReport& report_;
  std::vector<TrailFile> files_;
  std::optional<Head> head_;
  std::string prev_hash_{kGenesisHash};
  fs::path prev_file_;
  uint64_t prev_line_ = 0;
  uint64_t last_checkpoint_ = 0;
};

}  // namespace

TrailVerifier::TrailVerifier(std::filesystem::path dir, const VerifyingKey& key) : dir_(std::move(dir)), key_(key) {}

TrailReport verify_record_lines(const std::function<std::optional<std::string>()>& next_line, const std::string& name,
                                const VerifyingKey& key, uint64_t expected_last_seq) {
  const auto start = std::chrono::steady_clock::now();
  TrailReport report;
  const fs::path none;
  Walk(none, key, report).run_lines(next_line, name, expected_last_seq);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

TrailReport TrailVerifier::verify() const {
  const auto start = std::chrono::steady_clock::now();
  TrailReport report;
  Walk(dir_, key_, report).run();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace promptwall::audit
