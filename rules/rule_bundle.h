// RuleBundle: one signed, versioned file that carries every rule pack a gateway serves, so rule
// authors publish once and every gateway of the fleet runs the same rules (docs/rule-bundles.md).
//
// The file is a zip (written and read through libzip; read with extractors/ZipArchive's limits):
//   manifest.json   {"format":1, "version":"2026.12.07-1", "created":"<ISO UTC>", "signed_by":"<key id>",
//                    "packs":[{"path":"packs/x.yaml","sha256":"<hex>","scoped":false}, ...],
//                    "dictionaries":[], "fingerprints":[]}   (the last two reserved: must be empty)
//   manifest.sig    the Ed25519 signature (base64) over the exact bytes of manifest.json
//   packs/*.yaml    the packs, each listed once in the manifest with its SHA-256
//
// read_bundle() checks, in this order, and refuses at the first failure (nothing is half-read):
//   the file's size; the zip's layout (ZipArchive: entry count, overlapping entries, encryption,
//   per-entry and total inflated size, ratio); manifest.json and manifest.sig present and small;
//   the signature over the manifest's bytes, BEFORE the manifest is parsed; the manifest's schema
//   (format 1, a version of [A-Za-z0-9._-]{1,64}, unique safe paths "packs/NAME.yaml" with NAME of
//   [A-Za-z0-9._-], no "..", reserved lists empty); no entry the manifest does not list; every
//   listed entry present and matching its SHA-256.
// A bundle that passes is authentic and complete; whether its packs compile and their examples
// pass is RuleSetLoader's question (the caller asks it before serving the bundle).
//
// Pure functions over bytes: no files, no network, no global state; any thread. Errors are values
// (BundleRead::error, English; callers add the Vietnamese where staff read it). make_bundle throws
// std::invalid_argument for a bad version or pack path, std::runtime_error when libzip fails.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace promptwall::audit {
class SigningKey;
class VerifyingKey;
}  // namespace promptwall::audit

namespace promptwall {

struct BundleLimits {
  uint64_t max_bundle_bytes = 64ull << 20;     // the zip file itself (a download is cut there too)
  uint64_t max_file_bytes = 16ull << 20;       // one pack, inflated
  uint64_t max_inflated_bytes = 256ull << 20;  // every entry inflated, together
  uint32_t max_entries = 1'000;                // entries in the zip
  uint32_t max_ratio = 200;                    // inflated / compressed of one entry past 1 MiB
  uint64_t max_manifest_bytes = 1ull << 20;    // manifest.json (and manifest.sig: 4 KiB)
};

struct BundlePack {
  std::string path;     // "packs/NAME.yaml"
  std::string content;  // the YAML, verified against the manifest's SHA-256
  bool scoped = false;  // counts only for requesters whose policy scope names it (NAME)
};

struct RuleBundle {
  std::string version;        // the author's, e.g. "2026.12.07-1"
  std::string created;        // ISO 8601 UTC, as the author's tool wrote it
  std::string signed_by;      // the signing key's id (audit::SigningKey::key_id)
  std::string sha256;         // of the whole file: tells two files of one version apart
  std::vector<BundlePack> packs;
};

struct BundleRead {
  std::optional<RuleBundle> bundle;  // set only when every check passed
  std::string error;                 // why not, naming the check (never the packs' text)
  bool ok() const { return bundle.has_value(); }
};

// What make_bundle packs: `packs` keep their order; paths as in BundlePack.
struct BundleContents {
  std::string version;
  std::string created;  // ISO 8601 UTC
  std::vector<BundlePack> packs;
};

// Writes the zip: manifest.json, manifest.sig, then the packs (deflated, fixed timestamps, so the
// same contents and key give the same bytes).
std::string make_bundle(const BundleContents& contents, const audit::SigningKey& key);

// Verifies `bytes` against `key` (above). Never throws for any input.
BundleRead read_bundle(std::string_view bytes, const audit::VerifyingKey& key, const BundleLimits& limits = {});

// [A-Za-z0-9._-]{1,64}, not starting with '.': a version is a file and directory name, a metric
// label and an audit field.
bool valid_bundle_version(std::string_view version);
// "packs/NAME.yaml" with NAME of [A-Za-z0-9_-] and '.' (not leading), at most 128 bytes.
bool valid_bundle_pack_path(std::string_view path);

// Orders versions as `sort -V` does: runs of digits compare as numbers, other runs as bytes
// ("2026.12.10-1" > "2026.12.9-3"). Negative, zero or positive like strcmp.
int compare_bundle_versions(std::string_view a, std::string_view b);

}  // namespace promptwall
