#include "rules/rule_bundle.h"

#include <zip.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "audit/signing_key.h"
#include "extractors/zip_archive.h"
#include "rules/sha256.h"

namespace promptwall {

namespace {

constexpr std::string_view kManifest = "manifest.json";
constexpr std::string_view kSignature = "manifest.sig";
constexpr uint64_t kMaxSignatureBytes = 4096;
// 2026-01-01T00:00:00Z: every entry's time, so a bundle's bytes depend on its contents alone.
constexpr time_t kEntryTime = 1767225600;

std::string sha256_hex(std::string_view bytes) { return Sha256().update(bytes).hex_digest(); }

bool safe_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
}

struct ZipFree {
  void operator()(zip_t* z) const { zip_discard(z); }
};

// An entry name for a message: printable ASCII only, at most 80 bytes.
std::string printable(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

std::string libzip_error(zip_error_t* error) { return std::string("libzip: ") + zip_error_strerror(error); }

// Adds `bytes` (copied by libzip) as `name`, deflated, at the fixed time.
void add_entry(zip_t* z, const std::string& name, std::string_view bytes) {
  void* copy = nullptr;
  if (!bytes.empty()) {
    copy = std::malloc(bytes.size());
    if (copy == nullptr) throw std::bad_alloc();
    std::memcpy(copy, bytes.data(), bytes.size());
  }
  zip_source_t* source = zip_source_buffer(z, copy, bytes.size(), 1);  // libzip frees `copy`
  if (source == nullptr) {
    std::free(copy);
    throw std::runtime_error(libzip_error(zip_get_error(z)));
  }
  const zip_int64_t index = zip_file_add(z, name.c_str(), source, ZIP_FL_ENC_UTF_8);
  if (index < 0) {
    zip_source_free(source);
    throw std::runtime_error(libzip_error(zip_get_error(z)));
  }
  if (zip_set_file_compression(z, static_cast<zip_uint64_t>(index), ZIP_CM_DEFLATE, 9) != 0 ||
      zip_file_set_mtime(z, static_cast<zip_uint64_t>(index), kEntryTime, 0) != 0)
    throw std::runtime_error(libzip_error(zip_get_error(z)));
}

}  // namespace

bool valid_bundle_version(std::string_view version) {
  if (version.empty() || version.size() > 64 || version.front() == '.') return false;
  for (char c : version)
    if (!safe_name_char(c)) return false;
  return true;
}

bool valid_bundle_pack_path(std::string_view path) {
  constexpr std::string_view kDir = "packs/", kExt = ".yaml";
  if (path.size() > 128 || path.size() <= kDir.size() + kExt.size()) return false;
  if (path.substr(0, kDir.size()) != kDir || path.substr(path.size() - kExt.size()) != kExt) return false;
  const std::string_view name = path.substr(kDir.size(), path.size() - kDir.size() - kExt.size());
  if (name.front() == '.') return false;
  for (char c : name)
    if (!safe_name_char(c)) return false;
  return true;
}

int compare_bundle_versions(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      size_t ie = i, je = j;
      while (ie < a.size() && digit(a[ie])) ++ie;
      while (je < b.size() && digit(b[je])) ++je;
      // Leading zeros do not count; then the longer run is the bigger number.
      size_t is = i, js = j;
      while (is + 1 < ie && a[is] == '0') ++is;
      while (js + 1 < je && b[js] == '0') ++js;
      if (ie - is != je - js) return ie - is < je - js ? -1 : 1;
      if (const int c = a.substr(is, ie - is).compare(b.substr(js, je - js)); c != 0) return c < 0 ? -1 : 1;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]) ? -1 : 1;
      ++i;
      ++j;
    }
  }
  if (i == a.size() && j == b.size()) return 0;
  return i == a.size() ? -1 : 1;
}

std::string make_bundle(const BundleContents& contents, const audit::SigningKey& key) {
  if (!valid_bundle_version(contents.version))
    throw std::invalid_argument("bundle version '" + contents.version + "': use 1 to 64 of A-Z a-z 0-9 . _ -");
  nlohmann::ordered_json packs = nlohmann::ordered_json::array();
  std::set<std::string, std::less<>> seen;
  for (const auto& pack : contents.packs) {
    if (!valid_bundle_pack_path(pack.path))
      throw std::invalid_argument("pack path '" + pack.path + "': must be packs/NAME.yaml, NAME of A-Z a-z 0-9 . _ -");
    if (!seen.insert(pack.path).second) throw std::invalid_argument("pack path '" + pack.path + "' given twice");
    packs.push_back({{"path", pack.path}, {"sha256", sha256_hex(pack.content)}, {"scoped", pack.scoped}});
  }
  nlohmann::ordered_json manifest;
  manifest["format"] = 1;
  manifest["version"] = contents.version;
  manifest["created"] = contents.created;
  manifest["signed_by"] = key.key_id();
  manifest["packs"] = std::move(packs);
  manifest["dictionaries"] = nlohmann::ordered_json::array();
  manifest["fingerprints"] = nlohmann::ordered_json::array();
  const std::string manifest_bytes = manifest.dump(2) + "\n";
  const std::string signature = key.sign(manifest_bytes) + "\n";

  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (buffer == nullptr) {
    const std::string why = libzip_error(&error);
    zip_error_fini(&error);
    throw std::runtime_error(why);
  }
  zip_source_keep(buffer);  // read back after zip_close
  std::unique_ptr<zip_t, ZipFree> z(zip_open_from_source(buffer, ZIP_TRUNCATE, &error));
  if (!z) {
    const std::string why = libzip_error(&error);
    zip_error_fini(&error);
    zip_source_free(buffer);
    throw std::runtime_error(why);
  }
  zip_error_fini(&error);
  std::string out;
  try {
    add_entry(z.get(), std::string(kManifest), manifest_bytes);
    add_entry(z.get(), std::string(kSignature), signature);
    for (const auto& pack : contents.packs) add_entry(z.get(), pack.path, pack.content);
    if (zip_close(z.get()) != 0) throw std::runtime_error(libzip_error(zip_get_error(z.get())));
    z.release();  // closed: freed by zip_close
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_source_stat(buffer, &st) != 0 || zip_source_open(buffer) != 0)
      throw std::runtime_error(libzip_error(zip_source_error(buffer)));
    out.resize(static_cast<size_t>(st.size));
    const zip_int64_t n = zip_source_read(buffer, out.data(), out.size());
    zip_source_close(buffer);
    if (n < 0 || static_cast<uint64_t>(n) != st.size) throw std::runtime_error(libzip_error(zip_source_error(buffer)));
  } catch (...) {
    zip_source_free(buffer);
    throw;
  }
  zip_source_free(buffer);
  return out;
}

BundleRead read_bundle(std::string_view bytes, const audit::VerifyingKey& key, const BundleLimits& limits) {
  BundleRead out;
  auto refuse = [&out](std::string why) {
    out.error = std::move(why);
    return out;
  };
  if (bytes.size() > limits.max_bundle_bytes)
    return refuse("the bundle is " + std::to_string(bytes.size()) + " bytes, over the limit of " +
                  std::to_string(limits.max_bundle_bytes));

  extractors::ExtractionLimits zip_limits;
  zip_limits.max_file_bytes = limits.max_file_bytes;
  zip_limits.max_inflated_bytes = limits.max_inflated_bytes;
  zip_limits.max_entries = limits.max_entries;
  zip_limits.max_ratio = limits.max_ratio;
  extractors::ReadBudget budget;
  try {
    extractors::ZipArchive zip(bytes, zip_limits, budget);
    if (!zip.opened().good()) return refuse("not a readable bundle (zip): " + zip.opened().detail);

    auto read_entry = [&](std::string_view name, uint64_t max, std::string& text) -> std::string {
      const auto index = zip.find(name);
      if (!index) return "no " + std::string(name) + " in the bundle";
      if (zip.entries()[*index].size > max) return std::string(name) + " is over " + std::to_string(max) + " bytes";
      if (auto outcome = zip.read(*index, text); !outcome.good()) return std::string(name) + ": " + outcome.detail;
      if (text.size() > max) return std::string(name) + " is over " + std::to_string(max) + " bytes";
      return {};
    };

    // The signature first: nothing the manifest says is believed before it verifies.
    std::string manifest_bytes, signature;
    if (auto why = read_entry(kManifest, limits.max_manifest_bytes, manifest_bytes); !why.empty()) return refuse(why);
    if (auto why = read_entry(kSignature, kMaxSignatureBytes, signature); !why.empty()) return refuse(why);
    while (!signature.empty() && (signature.back() == '\n' || signature.back() == '\r')) signature.pop_back();
    if (!key.verify(manifest_bytes, signature))
      return refuse("the signature does not verify with the configured public key (key " + key.key_id() +
                    "): not signed by it, or the manifest was changed");

    nlohmann::json manifest = nlohmann::json::parse(manifest_bytes, nullptr, false);
    if (!manifest.is_object()) return refuse("manifest.json is not a JSON object");
    auto string_field = [&](const char* name, std::string& into) {
      const auto it = manifest.find(name);
      if (it == manifest.end() || !it->is_string()) return false;
      into = it->get<std::string>();
      return true;
    };
    if (!manifest.contains("format") || manifest["format"] != 1) return refuse("manifest.json: format is not 1");
    RuleBundle bundle;
    if (!string_field("version", bundle.version) || !valid_bundle_version(bundle.version))
      return refuse("manifest.json: version missing or not 1 to 64 of A-Z a-z 0-9 . _ -");
    if (!string_field("created", bundle.created)) return refuse("manifest.json: created missing");
    string_field("signed_by", bundle.signed_by);
    for (const char* reserved : {"dictionaries", "fingerprints"}) {
      const auto it = manifest.find(reserved);
      if (it != manifest.end() && !(it->is_array() && it->empty()))
        return refuse(std::string("manifest.json: ") + reserved + " is reserved and must be empty in format 1");
    }
    const auto packs = manifest.find("packs");
    if (packs == manifest.end() || !packs->is_array() || packs->empty())
      return refuse("manifest.json: packs missing or empty");
    std::set<std::string, std::less<>> listed{std::string(kManifest), std::string(kSignature)};
    for (const auto& p : *packs) {
      if (!p.is_object() || !p.contains("path") || !p["path"].is_string() || !p.contains("sha256") ||
          !p["sha256"].is_string() || (p.contains("scoped") && !p["scoped"].is_boolean()))
        return refuse("manifest.json: a pack needs path and sha256 strings (and scoped true or false)");
      BundlePack pack;
      pack.path = p["path"].get<std::string>();
      pack.scoped = p.value("scoped", false);
      if (!valid_bundle_pack_path(pack.path))
        return refuse("manifest.json: pack path '" + pack.path + "' is not packs/NAME.yaml (no directories, no ..)");
      if (!listed.insert(pack.path).second) return refuse("manifest.json: pack " + pack.path + " listed twice");
      if (auto why = read_entry(pack.path, limits.max_file_bytes, pack.content); !why.empty()) return refuse(why);
      if (sha256_hex(pack.content) != p["sha256"].get<std::string>())
        return refuse(pack.path + ": its SHA-256 does not match the manifest (changed after signing)");
      bundle.packs.push_back(std::move(pack));
    }
    for (const auto& entry : zip.entries())
      if (!listed.contains(entry.name))
        return refuse("the bundle holds an entry the manifest does not list: '" + printable(entry.name) + "'");
    bundle.sha256 = sha256_hex(bytes);
    out.bundle = std::move(bundle);
    return out;
  } catch (const std::exception& e) {
    return refuse(std::string("the bundle cannot be read: ") + e.what());
  }
}

}  // namespace promptwall
