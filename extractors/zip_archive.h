// ZipArchive: the entries of a zip held in memory (OOXML, ODF and plain archives), read through
// libzip with every size counted as it is inflated. A zip is the one container a hostile client can
// make cheaply explode, so opening refuses what no honest tool writes and reading refuses what
// inflates past the limits:
//
//   opening   more than max_entries entries                        → too_many_entries
//             two entries whose local data ranges overlap (David
//             Fifield's non-recursive bomb) or the same name twice  → zip_bomb
//             an encrypted entry                                    → encrypted
//             no central directory, an inconsistent one (libzip's
//             ZIP_CHECKCONS), offsets outside the file              → truncated
//   reading   an entry declared or inflating over max_file_bytes    → too_big
//             (declared over it at a ratio over max_ratio            → zip_bomb)
//             the top file's inflated bytes (ReadBudget, shared with
//             nested archives) over max_inflated_bytes, or one
//             entry's ratio over max_ratio past 1 MiB inflated       → zip_bomb
//             a CRC or data error                                   → truncated
//             a compression method libzip does not build with       → extractor_failed
//
// Sizes in the file (declared sizes, counts) decide nothing alone: bytes are counted as libzip
// hands them over. libzip 1.7's ZIP_CHECKCONS compares each local header with its central entry
// but not the ranges between entries, so the central directory is also walked here (bounded by
// max_entries and the file's size) to find overlaps.
//
// Details name entries by index only: entry names are document text (extracted_document.h).
// The bytes given to the constructor are not copied and must outlive the archive. Not
// thread-safe (libzip's handle has a cursor); one per file being read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "extractors/format_reader.h"

struct zip;

namespace promptwall::extractors {

class ZipArchive {
 public:
  struct Entry {
    std::string name;              // UTF-8 (libzip converts CP437 names that are not flagged UTF-8)
    uint64_t size = 0;             // declared: a hint, never a bound
    uint64_t compressed_size = 0;  // declared; the ratio check's denominator
    bool directory = false;        // the name ends with '/'
  };

  // Opens and checks the archive; opened() tells whether it may be read.
  ZipArchive(std::string_view bytes, const ExtractionLimits& limits, ReadBudget& budget);
  ~ZipArchive();
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;

  // ok() when the archive opened and passed every check; else the refusal (entries() is empty).
  const ReadOutcome& opened() const { return opened_; }
  const std::vector<Entry>& entries() const { return entries_; }
  // The entry of exactly that name.
  std::optional<size_t> find(std::string_view name) const;

  // Inflates entry `index` into `out` (replaced), counting against the limits above. On a refusal
  // `out` holds nothing useful and the budget keeps what was counted.
  ReadOutcome read(size_t index, std::string& out);

 private:
  ReadOutcome check_layout(std::string_view bytes) const;

  const ExtractionLimits& limits_;
  ReadBudget& budget_;
  ::zip* zip_ = nullptr;
  ReadOutcome opened_;
  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t> by_name_;
};

}  // namespace promptwall::extractors
