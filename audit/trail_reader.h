// TrailReader: reads the trail's records in order, across files, for the index, the SIEM shipper
// and `audit query`. It reads what is on disk now and can be asked again later for what was added
// since (it keeps its place). It does NOT check the chain: TrailVerifier does.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "audit/trail_format.h"

namespace promptwall::audit {

struct TrailRecord {
  uint64_t seq = 0;
  std::string prev;
  std::string line;               // the record's bytes, without '\n'
  std::filesystem::path file;
  uint64_t offset = 0;            // of the line's first byte in `file`
};

class TrailReader {
 public:
  // Positions before the first record whose seq >= `from_seq` (1 = the whole trail). Whole files
  // before it are skipped by the first_seq in their names; within a file, earlier lines are read
  // and passed over.
  explicit TrailReader(std::filesystem::path dir, uint64_t from_seq = 1);

  // Positions at byte `offset` of `file` (a trail file of `dir`), which must be a line boundary,
  // e.g. a TrailRecord's offset plus its line's size plus one: resuming where an earlier reader
  // stopped without reading the file's start again (what the index does on every sync).
  TrailReader(std::filesystem::path dir, std::filesystem::path file, uint64_t offset);

  ~TrailReader();
  TrailReader(TrailReader&& other) noexcept;
  TrailReader& operator=(TrailReader&& other) noexcept;

  // The next whole record, or nullopt when there is none yet (a line without its '\n' is not
  // whole: the writer may be writing it). Picks up files created after construction. Throws
  // std::runtime_error naming file and offset when a whole line is not a record.
  std::optional<TrailRecord> next();

 private:
  // Lists the files and opens the one to start in; false when the trail has no file yet.
  bool position();
  // Reads the current file again from offset_ (a partial line is re-read, so a torn tail the
  // writer cut off and rewrote is never glued to stale bytes); true when a whole line is buffered.
  bool refill();
  // When a later file exists, moves to it and returns true (after making sure the current one
  // holds no more whole lines; a partial line before another file is an error).
  bool advance_file();
  void open_current();
  void close_current();

  std::filesystem::path dir_;
  uint64_t from_seq_;
  std::filesystem::path resume_file_;  // the resuming constructor's file (empty otherwise)
  std::vector<TrailFile> files_;
  size_t file_index_ = 0;
  bool positioned_ = false;
  int fd_ = -1;          // files_[file_index_], open once positioned_
  uint64_t offset_ = 0;  // in the current file, of pending_[start_]: the next line's first byte
  std::string pending_;  // bytes of the current file from offset_ - start_ on
  size_t start_ = 0;     // the next line's first byte in pending_
};

}  // namespace promptwall::audit
