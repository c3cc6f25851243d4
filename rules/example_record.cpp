#include "rules/example_record.h"

#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "rules/database_cache.h"
#include "rules/sha256.h"

namespace promptwall {
namespace {

constexpr std::string_view kMagic = "promptwall examples passed v1: ";

// The GNU build ID of one loaded object, in hex, or "".
std::string build_id_of(const dl_phdr_info& info) {
  for (int i = 0; i < info.dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info.dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const auto* p = reinterpret_cast<const unsigned char*>(info.dlpi_addr + ph.p_vaddr);
    const unsigned char* const end = p + ph.p_memsz;
    // Notes: header, name and descriptor, each padded to 4 bytes.
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      ElfW(Nhdr) note;
      std::memcpy(&note, p, sizeof note);
      const unsigned char* name = p + sizeof note;
      const unsigned char* desc = name + ((note.n_namesz + 3) & ~3u);
      const unsigned char* next = desc + ((note.n_descsz + 3) & ~3u);
      if (next > end) break;
      if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0)
        return Sha256::hex(std::string_view(reinterpret_cast<const char*>(desc), note.n_descsz));
      p = next;
    }
  }
  return {};
}

// The build IDs of the executable (dl_iterate_phdr reports it first) and of the engines' shared
// libraries: Debian updating ICU, RE2 or Hyperscan under an unchanged promptwall changes the key
// too. Only those: libraries loaded later (name service modules) would change it in mid-life.
int collect_build_ids(dl_phdr_info* info, size_t /*size*/, void* out) {
  auto& ids = *static_cast<std::vector<std::string>*>(out);
  const std::string_view name = info->dlpi_name ? info->dlpi_name : "";
  const std::string_view file = name.substr(name.rfind('/') == std::string_view::npos ? 0 : name.rfind('/') + 1);
  if (ids.empty() || file.starts_with("libre2.") || file.starts_with("libhs.") || file.starts_with("libicu"))
    ids.push_back(build_id_of(*info));
  return 0;
}

// The build IDs of the executable, then of the libraries collect_build_ids looks for.
std::vector<std::string> loaded_build_ids() {
  std::vector<std::string> ids;
  dl_iterate_phdr(collect_build_ids, &ids);
  return ids;
}

}  // namespace

ExampleRecord::ExampleRecord(std::string cache_dir) : dir_(std::move(cache_dir)) {
  const std::vector<std::string> ids = loaded_build_ids();
  if (dir_.empty() || ids.empty() || ids.front().empty()) return;  // nothing can be remembered
  Sha256 key;
  key.field(DatabaseCache::engine_fingerprint());
  for (const auto& id : ids) key.field(id);
  build_key_ = key.hex_digest();
}

std::string ExampleRecord::build_id() {
  const std::vector<std::string> ids = loaded_build_ids();
  return ids.empty() ? std::string() : ids.front();
}

std::string ExampleRecord::path_for(const RuleSet& set) const {
  if (build_key_.empty()) return {};
  Sha256 key;
  key.field("examples").field(set.version()).field(set.bundle()).field(build_key_);
  return dir_ + "/" + key.hex_digest() + ".examples";
}

std::optional<size_t> ExampleRecord::passed(const RuleSet& set) const {
  const std::string path = path_for(set);
  if (path.empty()) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!text.starts_with(kMagic) || !text.ends_with('\n')) return std::nullopt;
  const std::string_view count(text.data() + kMagic.size(), text.size() - kMagic.size() - 1);
  size_t n = 0;
  const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
  if (ec != std::errc() || end != count.data() + count.size()) return std::nullopt;
  return n;
}

void ExampleRecord::remember(const RuleSet& set, size_t examples_run) const {
  const std::string path = path_for(set);
  if (path.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << kMagic << examples_run << '\n';
    out.flush();
    if (!out) {
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

}  // namespace promptwall
