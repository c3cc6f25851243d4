// CompoundFile: the streams of an OLE2 compound file ([MS-CFB]: legacy Office documents, the
// container of a password-protected OOXML package), read from memory.
//
// Only what the readers need: the names of the streams in the directory, and a stream's bytes by
// name (regular sectors through the FAT, small streams through the mini FAT and mini stream).
// Every sector number is checked against the file, every chain is bounded by the file's sector
// count (a loop ends the walk), a stream's declared size is capped by what its chain holds; a
// file that lies gets a shorter stream or none, never a read outside it.
//
// A view over the caller's bytes, which must outlive it. No exceptions beyond std::bad_alloc.
// Immutable after construction; safe to share between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace promptwall::extractors {

class CompoundFile {
 public:
  // Reads the header, the FAT and the directory. valid() is false when `bytes` is not a compound
  // file (signature, sector size) or its directory cannot be read.
  explicit CompoundFile(std::string_view bytes);

  bool valid() const { return valid_; }

  struct Entry {
    std::u16string name;
    uint8_t type = 0;         // 1 storage, 2 stream, 5 root
    uint32_t start = 0;       // first sector (mini sector for a small stream)
    uint64_t size = 0;        // as declared
  };
  const std::vector<Entry>& entries() const { return entries_; }

  // The stream named `name` (the first stream entry with that name, in any storage), or nullopt.
  // At most `max_bytes` are returned (a stream larger than that: nullopt).
  std::optional<std::string> stream(std::u16string_view name, uint64_t max_bytes) const;

 private:
  size_t offset(uint32_t sector) const;  // 0 when outside the file
  uint32_t next(uint32_t sector) const;
  uint32_t next_mini(uint32_t sector) const;
  std::string chain(uint32_t start, uint64_t size) const;

  std::string_view b_;
  bool valid_ = false;
  size_t sector_size_ = 512;
  size_t sectors_ = 0;
  uint32_t mini_cutoff_ = 4096;
  std::vector<uint32_t> fat_sectors_;
  std::string mini_fat_;     // the mini FAT's bytes
  std::string mini_stream_;  // the root entry's stream, where small streams live
  std::vector<Entry> entries_;
};

}  // namespace promptwall::extractors
