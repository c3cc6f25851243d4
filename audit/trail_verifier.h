// TrailVerifier: checks a trail end to end (docs/audit-format.md) and names the FIRST problem.
//
// It streams every file in chain order and every line, recomputing each record's hash, and checks:
// seq continuity (from 1, no gaps, across files), prev chaining (also across files), each file's
// name (its first_seq is its first record's seq), every checkpoint's signature and key, and the
// signed head file (the record at head.seq exists with that hash; a trail ending before it has been
// truncated). A torn last line of the last file, with nothing after it and no head past it, is
// what a crash leaves: it is a warning, not a problem.
//
// What it cannot see: records written after the last checkpoint can be edited or dropped without
// trace by someone who can write the files (the report says how many such records there are).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "audit/signing_key.h"

namespace promptwall::audit {

struct TrailProblem {
  // A stable identifier: edited, deleted, inserted, reordered, truncated, missing_file,
  // misnamed_file, malformed, bad_signature, unknown_key, bad_head; "torn_tail" for the warning.
  std::string kind;
  std::string message;            // one English sentence, with the location
  std::filesystem::path file;     // empty when not about one file
  uint64_t line = 0;              // 1-based line in `file` (0: not about a line)
  uint64_t seq = 0;               // the record's seq, when it has one
};

struct TrailReport {
  uint64_t files = 0;
  uint64_t records = 0;              // whole records read
  uint64_t last_seq = 0;             // of the last record that chained
  uint64_t checkpoints = 0;          // verified
  uint64_t unsigned_tail = 0;        // records after the last verified checkpoint
  bool head_present = false, head_verified = false;
  uint64_t head_seq = 0;
  std::string key_id;                // of the verifying key
  std::optional<TrailProblem> problem;  // the first problem: the trail is not intact
  std::optional<TrailProblem> warning;  // a torn last record (not a failure)
  double seconds = 0;

  bool intact() const { return !problem.has_value(); }
};

class TrailVerifier {
 public:
  // `key` must outlive the verifier.
  TrailVerifier(std::filesystem::path dir, const VerifyingKey& key);

  // Throws std::runtime_error only when the directory cannot be listed or a file cannot be read;
  // everything about the trail's content is in the report.
  TrailReport verify() const;

 private:
  std::filesystem::path dir_;
  const VerifyingKey& key_;
};

// The same chain and checkpoint checks over a trail's record lines handed over in seq order by
// `next_line` (nullopt at the end), e.g. the central store's copy (`audit verify --central`). There
// is no head file: a copy that ends before `expected_last_seq` (what the source says it holds; 0 =
// unknown) is reported truncated. Problems name `name` where a file would be named, and `line`
// counts the lines handed over. `files` in the report is 0.
TrailReport verify_record_lines(const std::function<std::optional<std::string>()>& next_line, const std::string& name,
                                const VerifyingKey& key, uint64_t expected_last_seq = 0);

// The signed strings (docs/audit-format.md).
std::string checkpoint_signed_text(uint64_t seq, std::string_view prev, std::string_view time);
std::string head_signed_text(uint64_t seq, std::string_view hash, std::string_view time);

}  // namespace promptwall::audit
