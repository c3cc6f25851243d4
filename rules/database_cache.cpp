#include "rules/database_cache.h"

#include <hs/hs.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "rules/sha256.h"

namespace promptwall {
namespace {

// Version 2 added the widths, version 3 the literal databases (kinds kViewKinds and up); an
// older entry is a miss and is compiled again.
constexpr std::string_view kMagic = "PWHSDB3\n";

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

bool get_u64(std::string_view& in, uint64_t& v) {
  if (in.size() < 8) return false;
  v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(static_cast<unsigned char>(in[i])) << (8 * i);
  in.remove_prefix(8);
  return true;
}

void free_all(CachedDatabases& entry) {
  for (auto* dbs : {&entry.databases, &entry.literals})
    for (auto& db : *dbs) {
      if (db) hs_free_database(db);
      db = nullptr;
    }
}

}  // namespace

std::string DatabaseCache::engine_fingerprint() {
  hs_platform_info_t platform{};
  hs_populate_platform(&platform);
  std::ostringstream out;
  out << "hyperscan " << hs_version() << " tune " << platform.tune << " features " << platform.cpu_features;
  return out.str();
}

std::string DatabaseCache::path_for(const std::string& key) const { return dir_ + "/" + key + ".hsdb"; }

std::optional<CachedDatabases> DatabaseCache::load(const std::string& key, ViewMask views, ViewMask literal_views,
                                                   size_t patterns) const {
  std::ifstream in(path_for(key), std::ios::binary);
  if (!in) return std::nullopt;
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (data.size() < kMagic.size() + 32 || data.compare(0, kMagic.size(), kMagic) != 0) return std::nullopt;
  std::string_view body(data.data(), data.size() - 32);
  Sha256 check;
  check.update(body);
  auto digest = check.digest();
  if (std::memcmp(digest.data(), data.data() + body.size(), 32) != 0) return std::nullopt;

  body.remove_prefix(kMagic.size());
  CachedDatabases entry;
  uint64_t widths = 0;
  if (!get_u64(body, widths) || widths != patterns || widths > body.size() / 4) return std::nullopt;
  entry.max_widths.reserve(widths);
  for (uint64_t i = 0; i < widths; ++i) {
    uint32_t w = 0;
    for (int b = 0; b < 4; ++b) w |= uint32_t(static_cast<unsigned char>(body[b])) << (8 * b);
    entry.max_widths.push_back(w);
    body.remove_prefix(4);
  }
  ViewMask seen = 0, seen_literals = 0;
  while (!body.empty()) {
    uint64_t kind = 0, len = 0;
    if (!get_u64(body, kind) || !get_u64(body, len) || kind >= 2 * kViewKinds || len > body.size()) {
      free_all(entry);
      return std::nullopt;
    }
    const bool literal = kind >= kViewKinds;
    const size_t view = literal ? kind - kViewKinds : kind;
    hs_database*& db = (literal ? entry.literals : entry.databases)[view];
    if (db != nullptr) {  // one kind twice
      free_all(entry);
      return std::nullopt;
    }
    if (hs_deserialize_database(body.data(), len, &db) != HS_SUCCESS) {
      db = nullptr;
      free_all(entry);
      return std::nullopt;
    }
    (literal ? seen_literals : seen) |= view_bit(static_cast<ViewKind>(view));
    body.remove_prefix(len);
  }
  if (seen != views || seen_literals != literal_views) {
    free_all(entry);
    return std::nullopt;
  }
  return entry;
}

bool DatabaseCache::store(const std::string& key, const CachedDatabases& entry) const {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  std::string data(kMagic);
  put_u64(data, entry.max_widths.size());
  for (uint32_t w : entry.max_widths)
    for (int b = 0; b < 4; ++b) data.push_back(static_cast<char>(w >> (8 * b)));
  for (size_t kind = 0; kind < 2 * kViewKinds; ++kind) {
    const hs_database* db = kind < kViewKinds ? entry.databases[kind] : entry.literals[kind - kViewKinds];
    if (!db) continue;
    char* bytes = nullptr;
    size_t len = 0;
    if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS) return false;
    put_u64(data, kind);
    put_u64(data, len);
    data.append(bytes, len);
    free(bytes);
  }
  Sha256 check;
  check.update(data);
  auto digest = check.digest();
  data.append(reinterpret_cast<const char*>(digest.data()), digest.size());

  const std::string final_path = path_for(key);
  const std::string tmp = final_path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.flush();
    if (!out) {
      std::filesystem::remove(tmp, ec);
      return false;
    }
  }
  std::filesystem::rename(tmp, final_path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return false;
  }
  return true;
}

}  // namespace promptwall
