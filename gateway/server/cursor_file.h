// CursorFile: a shipper's place in the trail (siem.cursor, central.cursor): the last seq its
// destination has taken, one decimal line in the trail directory, replaced atomically (temporary
// file, fsync, rename, fsync of the directory), so a crash leaves the old cursor or the new one.
// No state beyond the path; one shipper thread uses it. Errors: std::runtime_error naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <utility>

namespace promptwall::gateway::server {

class CursorFile {
 public:
  explicit CursorFile(std::filesystem::path path) : path_(std::move(path)) {}
  const std::filesystem::path& path() const { return path_; }

  // 0 when there is no cursor yet (everything in the trail is to be sent); throws when the file
  // does not hold a record number.
  uint64_t load() const;
  // Throws when the new cursor cannot be made durable.
  void store(uint64_t seq) const;

 private:
  std::filesystem::path path_;
};

}  // namespace promptwall::gateway::server
