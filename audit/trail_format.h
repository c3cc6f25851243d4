// The on-disk form of the trail (docs/audit-format.md). Pure functions; no I/O except listing a
// directory.
//
// A trail is a directory of JSON Lines files named "audit-YYYYMMDD-SSSSSSSSSSSS.jsonl", where the
// date is the UTC day the file was opened and S the zero-padded seq of its first record. Every
// line is one record, a JSON object whose first three members are, in this order and spelled
// exactly so:
//     {"v":1,"seq":N,"prev":"<64 hex>",...the event's own members, "type" first...}
// seq counts from 1 across the whole trail with no gaps; prev is the SHA-256 (hex) of the previous
// record's line bytes (without its '\n'), and kGenesisHash for seq 1. Files follow each other: the
// first record of a file chains to the last record of the file before it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace promptwall::audit {

inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// hex SHA-256 of a record line (without its '\n').
std::string record_hash(std::string_view line);

// The line for `object_json` ("{...}" with "type" first, as to_json_object makes) as record `seq`
// chained to `prev`. Does not append '\n'.
std::string compose_record(uint64_t seq, std::string_view prev, std::string_view object_json);

// The chain fields of a line, read without parsing the rest; nullopt when the line does not start
// exactly as compose_record makes it.
struct RecordHead {
  int version = 0;
  uint64_t seq = 0;
  std::string prev;
};
std::optional<RecordHead> read_record_head(std::string_view line);

struct TrailFile {
  std::filesystem::path path;
  uint64_t first_seq = 0;  // from the name
  std::string day;         // "YYYYMMDD" from the name
};
// The trail's files in chain order (by first_seq); other files in `dir` are ignored. Throws
// std::filesystem::filesystem_error when the directory cannot be listed.
std::vector<TrailFile> list_trail_files(const std::filesystem::path& dir);
std::string trail_file_name(std::string_view day, uint64_t first_seq);

// Files that live in the trail directory beside the records.
inline constexpr std::string_view kHeadFileName = "trail.head";     // signed head, see AuditWriter
inline constexpr std::string_view kPublicKeyFileName = "trail.pub"; // the checkpoint key's public half

}  // namespace promptwall::audit
