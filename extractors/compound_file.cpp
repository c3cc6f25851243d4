#include "extractors/compound_file.h"

#include <algorithm>

namespace promptwall::extractors {

namespace {

constexpr uint32_t kMaxRegularSector = 0xFFFFFFFA;
constexpr uint32_t kEndOfChain = 0xFFFFFFFE;
constexpr size_t kMiniSectorSize = 64;
// Streams the readers ask for are small next to this; a root (mini) stream past it is a lie.
constexpr uint64_t kMaxMiniStream = 64ull << 20;

uint16_t le16(std::string_view b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) | static_cast<uint8_t>(b[at + 1]) << 8);
}
uint32_t le32(std::string_view b, size_t at) {
  return static_cast<uint32_t>(le16(b, at)) | static_cast<uint32_t>(le16(b, at + 2)) << 16;
}

}  // namespace

CompoundFile::CompoundFile(std::string_view bytes) : b_(bytes) {
  if (b_.size() < 512 || b_.substr(0, 8) != std::string_view("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8)) return;
  const uint16_t shift = le16(b_, 30);
  if (shift != 9 && shift != 12) return;
  sector_size_ = size_t{1} << shift;
  sectors_ = b_.size() / sector_size_;  // the header takes the first sector-sized slot
  if (sectors_ < 2) return;
  sectors_ -= 1;
  mini_cutoff_ = le32(b_, 56);

  // The FAT's sectors: 109 in the header, the rest in the DIFAT chain.
  for (size_t i = 0; i < 109; ++i) {
    const uint32_t s = le32(b_, 76 + 4 * i);
    if (s > kMaxRegularSector) break;
    fat_sectors_.push_back(s);
  }
  uint32_t s = le32(b_, 68);
  const size_t per = sector_size_ / 4 - 1;
  for (size_t walked = 0; s <= kMaxRegularSector && walked < sectors_; ++walked) {
    const size_t at = offset(s);
    if (at == 0) break;
    for (size_t i = 0; i < per; ++i) {
      const uint32_t f = le32(b_, at + 4 * i);
      if (f <= kMaxRegularSector) fat_sectors_.push_back(f);
    }
    s = le32(b_, at + 4 * per);
  }

  // The directory: 128-byte entries along its chain.
  const std::string dir = chain(le32(b_, 48), uint64_t{sectors_} * sector_size_);
  for (size_t e = 0; e + 128 <= dir.size(); e += 128) {
    const std::string_view entry = std::string_view(dir).substr(e, 128);
    Entry out;
    out.type = static_cast<uint8_t>(entry[66]);
    if (out.type != 1 && out.type != 2 && out.type != 5) continue;
    const uint16_t name_bytes = std::min<uint16_t>(le16(entry, 64), 64);
    for (size_t k = 0; k + 2 < name_bytes; k += 2) out.name += static_cast<char16_t>(le16(entry, k));
    out.start = le32(entry, 116);
    out.size = static_cast<uint64_t>(le32(entry, 120)) | (sector_size_ == 4096 ? uint64_t{le32(entry, 124)} << 32 : 0);
    entries_.push_back(std::move(out));
  }
  if (entries_.empty()) return;
  valid_ = true;

  // The mini stream (the root entry's) and the mini FAT, for streams under the cutoff.
  for (const auto& e : entries_) {
    if (e.type != 5) continue;
    if (e.size <= kMaxMiniStream) mini_stream_ = chain(e.start, e.size);
    break;
  }
  mini_fat_ = chain(le32(b_, 60), uint64_t{le32(b_, 64)} * sector_size_);
}

size_t CompoundFile::offset(uint32_t sector) const {
  if (sector >= sectors_) return 0;
  return (static_cast<size_t>(sector) + 1) * sector_size_;
}

uint32_t CompoundFile::next(uint32_t sector) const {
  const size_t per = sector_size_ / 4;
  const size_t index = sector / per;
  if (index >= fat_sectors_.size()) return kEndOfChain;
  const size_t at = offset(fat_sectors_[index]);
  if (at == 0) return kEndOfChain;
  return le32(b_, at + 4 * (sector % per));
}

uint32_t CompoundFile::next_mini(uint32_t sector) const {
  const size_t at = static_cast<size_t>(sector) * 4;
  if (at + 4 > mini_fat_.size()) return kEndOfChain;
  return le32(mini_fat_, at);
}

// Up to `size` bytes along the regular chain from `start`.
std::string CompoundFile::chain(uint32_t start, uint64_t size) const {
  std::string out;
  uint32_t s = start;
  for (size_t walked = 0; s <= kMaxRegularSector && walked < sectors_ && out.size() < size; ++walked) {
    const size_t at = offset(s);
    if (at == 0) break;
    out.append(b_.substr(at, std::min<uint64_t>(sector_size_, size - out.size())));
    s = next(s);
  }
  return out;
}

std::optional<std::string> CompoundFile::stream(std::u16string_view name, uint64_t max_bytes) const {
  for (const auto& e : entries_) {
    if (e.type != 2 || e.name != name) continue;
    if (e.size > max_bytes) return std::nullopt;
    if (e.size >= mini_cutoff_) return chain(e.start, e.size);
    std::string out;
    uint32_t s = e.start;
    const size_t mini_sectors = mini_stream_.size() / kMiniSectorSize;
    for (size_t walked = 0; s <= kMaxRegularSector && walked <= mini_sectors && out.size() < e.size; ++walked) {
      const size_t at = static_cast<size_t>(s) * kMiniSectorSize;
      if (at + kMiniSectorSize > mini_stream_.size()) break;
      out.append(mini_stream_.substr(at, std::min<uint64_t>(kMiniSectorSize, e.size - out.size())));
      s = next_mini(s);
    }
    return out;
  }
  return std::nullopt;
}

}  // namespace promptwall::extractors
