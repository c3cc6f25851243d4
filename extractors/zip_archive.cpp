#include "extractors/zip_archive.h"

#include <zip.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <unordered_set>

namespace promptwall::extractors {
namespace {

constexpr uint64_t kRatioFloor = 1ull << 20;  // the ratio is judged only past 1 MiB inflated
constexpr size_t kChunk = 64 * 1024;

uint16_t le16(std::string_view b, uint64_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) | static_cast<uint8_t>(b[at + 1]) << 8);
}
uint32_t le32(std::string_view b, uint64_t at) {
  return static_cast<uint32_t>(le16(b, at)) | static_cast<uint32_t>(le16(b, at + 2)) << 16;
}
uint64_t le64(std::string_view b, uint64_t at) {
  return static_cast<uint64_t>(le32(b, at)) | static_cast<uint64_t>(le32(b, at + 4)) << 32;
}
bool has(std::string_view b, uint64_t at, uint64_t n) { return at <= b.size() && n <= b.size() - at; }
bool signature(std::string_view b, uint64_t at, const char (&sig)[5]) {
  return has(b, at, 4) && std::memcmp(b.data() + at, sig, 4) == 0;
}

ReadOutcome damaged(std::string detail) { return ReadOutcome::stop(Unscannable::truncated, std::move(detail)); }

std::string mib(uint64_t bytes) {
  return std::to_string(bytes >> 20) + " MiB";
}

// The end-of-central-directory record: the last signature within the 64 KiB comment window whose
// directory lies inside the file.
struct Directory {
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t count = 0;
};

std::optional<Directory> find_directory(std::string_view b) {
  if (b.size() < 22) return std::nullopt;
  const uint64_t last = b.size() - 22;
  const uint64_t first = last > 0xFFFF ? last - 0xFFFF : 0;
  for (uint64_t at = last + 1; at-- > first;) {
    if (!signature(b, at, "PK\x05\x06")) continue;
    Directory d{le32(b, at + 16), le32(b, at + 12), le16(b, at + 10)};
    const bool zip64 = d.offset == 0xFFFFFFFF || d.size == 0xFFFFFFFF || d.count == 0xFFFF;
    if (zip64 && at >= 20 && signature(b, at - 20, "PK\x06\x07")) {
      const uint64_t record = le64(b, at - 20 + 8);
      if (!signature(b, record, "PK\x06\x06") || !has(b, record, 56)) continue;
      d = Directory{le64(b, record + 48), le64(b, record + 40), le64(b, record + 32)};
    }
    if (has(b, d.offset, d.size)) return d;
  }
  return std::nullopt;
}

}  // namespace

ZipArchive::ZipArchive(std::string_view bytes, const ExtractionLimits& limits, ReadBudget& budget)
    : limits_(limits), budget_(budget) {
  opened_ = check_layout(bytes);
  if (!opened_.good()) return;

  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (source == nullptr) {
    opened_ = ReadOutcome::stop(Unscannable::extractor_failed, std::string("libzip: ") + zip_error_strerror(&error));
    zip_error_fini(&error);
    return;
  }
  zip_ = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (zip_ == nullptr) {
    zip_source_free(source);
    const int code = zip_error_code_zip(&error);
    std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    if (code == ZIP_ER_EXISTS) {
      opened_ = ReadOutcome::stop(Unscannable::zip_bomb, "two entries with the same name");
    } else if (code == ZIP_ER_MEMORY) {
      opened_ = ReadOutcome::stop(Unscannable::extractor_failed, "libzip: " + why);
    } else {
      opened_ = damaged("zip archive does not open: " + why);
    }
    return;
  }
  zip_error_fini(&error);

  const zip_int64_t count = zip_get_num_entries(zip_, 0);
  if (count < 0 || static_cast<uint64_t>(count) > limits_.max_entries) {
    opened_ = ReadOutcome::stop(Unscannable::too_many_entries,
                                std::to_string(count) + " entries over the limit of " + std::to_string(limits_.max_entries));
    return;
  }
  entries_.reserve(static_cast<size_t>(count));
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip_, static_cast<zip_uint64_t>(i), 0, &st) != 0 || st.name == nullptr) {
      opened_ = damaged("entry " + std::to_string(i) + " has no readable header");
      entries_.clear();
      return;
    }
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
      opened_ = ReadOutcome::stop(Unscannable::encrypted, "entry " + std::to_string(i) + " is encrypted");
      entries_.clear();
      return;
    }
    Entry e;
    e.name = st.name;
    e.size = (st.valid & ZIP_STAT_SIZE) ? st.size : 0;
    e.compressed_size = (st.valid & ZIP_STAT_COMP_SIZE) ? st.comp_size : 0;
    e.directory = !e.name.empty() && e.name.back() == '/';
    if (!by_name_.emplace(e.name, entries_.size()).second) {
      // libzip converts CP437 names, so two raw names may meet here.
      opened_ = ReadOutcome::stop(Unscannable::zip_bomb, "two entries with the same name");
      entries_.clear();
      return;
    }
    entries_.push_back(std::move(e));
  }
}

ZipArchive::~ZipArchive() {
  if (zip_ != nullptr) zip_discard(zip_);
}

// Walks the central directory without libzip: its count (before libzip allocates for it), names
// (duplicates) and each entry's local range [local header, end of data) (overlaps).
ReadOutcome ZipArchive::check_layout(std::string_view b) const {
  const std::optional<Directory> dir = find_directory(b);
  if (!dir) return damaged("no zip central directory");
  if (dir->count > limits_.max_entries) {
    return ReadOutcome::stop(Unscannable::too_many_entries, std::to_string(dir->count) + " entries over the limit of " +
                                                                std::to_string(limits_.max_entries));
  }
  struct Range {
    uint64_t begin;
    uint64_t end;
  };
  std::vector<Range> ranges;
  ranges.reserve(static_cast<size_t>(dir->count));
  std::unordered_set<std::string_view> names;
  uint64_t at = dir->offset;
  for (uint64_t i = 0; i < dir->count; ++i) {
    const std::string index = "entry " + std::to_string(i);
    if (!signature(b, at, "PK\x01\x02") || !has(b, at, 46)) return damaged(index + ": central directory cut short");
    uint64_t compressed = le32(b, at + 20);
    uint64_t size = le32(b, at + 24);
    const uint16_t name_len = le16(b, at + 28);
    const uint16_t extra_len = le16(b, at + 30);
    const uint16_t comment_len = le16(b, at + 32);
    uint64_t local = le32(b, at + 42);
    if (!has(b, at + 46, uint64_t{name_len} + extra_len + comment_len)) return damaged(index + ": central directory cut short");
    const std::string_view name = b.substr(at + 46, name_len);
    // Zip64: the extra field holds, in this order, whichever of the three overflowed.
    uint64_t x = at + 46 + name_len;
    const uint64_t x_end = x + extra_len;
    while (x + 4 <= x_end) {
      const uint16_t id = le16(b, x);
      const uint16_t len = le16(b, x + 2);
      if (x + 4 + len > x_end) break;
      if (id == 0x0001) {
        uint64_t f = x + 4;
        const uint64_t f_end = f + len;
        auto take = [&](uint64_t& v) {
          if (v == 0xFFFFFFFF && f + 8 <= f_end) {
            v = le64(b, f);
            f += 8;
          }
        };
        take(size);
        take(compressed);
        take(local);
      }
      x += 4 + uint64_t{len};
    }
    if (!names.insert(name).second) return ReadOutcome::stop(Unscannable::zip_bomb, "two entries with the same name");
    if (!signature(b, local, "PK\x03\x04") || !has(b, local, 30)) return damaged(index + ": no local header where the directory says");
    const uint64_t header = 30 + uint64_t{le16(b, local + 26)} + le16(b, local + 28);
    if (!has(b, local, header) || !has(b, local + header, compressed)) return damaged(index + ": data past the end of the file");
    ranges.push_back({local, local + header + compressed});
    at += 46 + uint64_t{name_len} + extra_len + comment_len;
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& l, const Range& r) { return l.begin < r.begin; });
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].begin < ranges[i - 1].end) {
      return ReadOutcome::stop(Unscannable::zip_bomb, "entries overlap (one file's data inside another's)");
    }
  }
  return ReadOutcome::ok();
}

std::optional<size_t> ZipArchive::find(std::string_view name) const {
  const auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

ReadOutcome ZipArchive::read(size_t index, std::string& out) {
  out.clear();
  if (!opened_.good() || index >= entries_.size()) {
    return ReadOutcome::stop(Unscannable::extractor_failed, "read of an entry that does not exist");
  }
  const Entry& entry = entries_[index];
  const std::string label = "entry " + std::to_string(index);
  const uint64_t compressed = std::max<uint64_t>(entry.compressed_size, 1);
  if (entry.size > limits_.max_file_bytes) {
    // Declared past the limit and past the ratio too: a bomb by its own account, not a big file.
    if (static_cast<unsigned __int128>(compressed) * limits_.max_ratio < entry.size) {
      return ReadOutcome::stop(Unscannable::zip_bomb, label + " declares " + mib(entry.size) + " from " +
                                                          std::to_string(compressed) + " bytes, over the ratio limit");
    }
    return ReadOutcome::stop(Unscannable::too_big, label + " declares " + mib(entry.size) + " over the " +
                                                       mib(limits_.max_file_bytes) + " file limit");
  }
  zip_file_t* file = zip_fopen_index(zip_, index, 0);
  if (file == nullptr) {
    const int code = zip_error_code_zip(zip_get_error(zip_));
    std::string why = zip_error_strerror(zip_get_error(zip_));
    zip_error_clear(zip_);
    if (code == ZIP_ER_ENCRNOTSUPP || code == ZIP_ER_NOPASSWD || code == ZIP_ER_WRONGPASSWD) {
      return ReadOutcome::stop(Unscannable::encrypted, label + " is encrypted");
    }
    if (code == ZIP_ER_COMPNOTSUPP) return ReadOutcome::stop(Unscannable::extractor_failed, label + ": " + why);
    return damaged(label + " does not open: " + why);
  }
  std::array<char, kChunk> chunk;
  ReadOutcome outcome;
  for (;;) {
    const zip_int64_t n = zip_fread(file, chunk.data(), chunk.size());
    if (n < 0) {
      zip_error_t* error = zip_file_get_error(file);
      outcome = damaged(label + " is damaged: " + zip_error_strerror(error));
      break;
    }
    if (n == 0) break;
    const auto got = static_cast<uint64_t>(n);
    budget_.inflated_bytes += got;
    if (budget_.inflated_bytes > limits_.max_inflated_bytes) {
      outcome = ReadOutcome::stop(Unscannable::zip_bomb, "inflated over " + mib(limits_.max_inflated_bytes) +
                                                             " from one file");
      break;
    }
    if (out.size() + got > limits_.max_file_bytes) {
      outcome = ReadOutcome::stop(Unscannable::too_big, label + " inflates over the " + mib(limits_.max_file_bytes) +
                                                            " file limit");
      break;
    }
    out.append(chunk.data(), got);
    if (out.size() > kRatioFloor &&
        static_cast<unsigned __int128>(compressed) * limits_.max_ratio < out.size()) {
      outcome = ReadOutcome::stop(Unscannable::zip_bomb, label + " inflates " + std::to_string(out.size() / compressed) +
                                                             " times its size, over the ratio limit of " +
                                                             std::to_string(limits_.max_ratio));
      break;
    }
  }
  zip_fclose(file);
  if (!outcome.good()) out.clear();
  return outcome;
}

}  // namespace promptwall::extractors
