// RuleBundle (rules/rule_bundle.h): a signed bundle verifies whole or not at all. Each refusal
// below is a way an attacker or an accident could change what gateways enforce.
#include <catch2/catch.hpp>

#include <zip.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "../support/temp_dir.h"
#include "audit/signing_key.h"
#include "rules/rule_bundle.h"
#include "rules/ruleset_loader.h"
#include "rules/sha256.h"

using namespace promptwall;
using promptwall::test::TempDir;

namespace {

const std::string kCache = PROMPTWALL_TEST_CACHE_DIR;

std::string pack_text(const std::string& name, const std::string& word) {
  return "pack: " + name +
         "\nversion: '1'\nrules:\n"
         "  - id: custom." + word + "\n    description: d\n    category: custom_term\n    severity: low\n"
         "    action: block\n    patterns: ['(?i){b}" + word + "{b}']\n    message: {vi: 'a', en: 'b'}\n"
         "    examples:\n      match: ['" + word + "', 'a " + word + " here']\n      ignore: ['" + word + "s']\n";
}

struct Keys {
  TempDir dir{"bundle-keys"};
  audit::SigningKey signer = audit::SigningKey::load_or_create(dir / "signing.pem");
  audit::VerifyingKey verifier = audit::VerifyingKey::from_pem(signer.public_pem());
};

BundleContents contents(std::string version = "2026.12.07-1") {
  return BundleContents{std::move(version), "2026-12-07T08:00:00Z",
                        {{"packs/falcon.yaml", pack_text("falcon", "falcon"), false},
                         {"packs/legal-strict.yaml", pack_text("legal-strict", "heron"), true}}};
}

// A zip of exactly these entries (stored), for bundles no honest tool would write.
std::string zip_of(const std::vector<std::pair<std::string, std::string>>& entries) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  zip_source_keep(buffer);
  zip_t* z = zip_open_from_source(buffer, ZIP_TRUNCATE, &error);
  for (const auto& [name, bytes] : entries) {
    void* copy = std::malloc(bytes.size() + 1);
    std::memcpy(copy, bytes.data(), bytes.size());
    zip_source_t* s = zip_source_buffer(z, copy, bytes.size(), 1);
    const auto index = zip_file_add(z, name.c_str(), s, ZIP_FL_ENC_UTF_8);
    zip_set_file_compression(z, static_cast<zip_uint64_t>(index), ZIP_CM_DEFLATE, 9);
  }
  zip_close(z);
  zip_stat_t st;
  zip_stat_init(&st);
  zip_source_stat(buffer, &st);
  zip_source_open(buffer);
  std::string out(st.size, '\0');
  zip_source_read(buffer, out.data(), out.size());
  zip_source_close(buffer);
  zip_source_free(buffer);
  zip_error_fini(&error);
  return out;
}

std::string manifest_for(const std::vector<std::pair<std::string, std::string>>& packs, const std::string& version = "2026.12.07-1") {
  nlohmann::ordered_json m;
  m["format"] = 1;
  m["version"] = version;
  m["created"] = "2026-12-07T08:00:00Z";
  m["packs"] = nlohmann::ordered_json::array();
  for (const auto& [path, content] : packs)
    m["packs"].push_back({{"path", path}, {"sha256", Sha256().update(content).hex_digest()}, {"scoped", false}});
  return m.dump(2) + "\n";
}

}  // namespace

TEST_CASE("a bundle made and read back verifies with its key", "[rule_bundle]") {
  Keys keys;
  const std::string bytes = make_bundle(contents(), keys.signer);
  const BundleRead read = read_bundle(bytes, keys.verifier);
  INFO(read.error);
  REQUIRE(read.ok());
  CHECK(read.bundle->version == "2026.12.07-1");
  CHECK(read.bundle->created == "2026-12-07T08:00:00Z");
  CHECK(read.bundle->signed_by == keys.signer.key_id());
  CHECK(read.bundle->sha256 == Sha256().update(bytes).hex_digest());
  REQUIRE(read.bundle->packs.size() == 2);
  CHECK(read.bundle->packs[0].path == "packs/falcon.yaml");
  CHECK_FALSE(read.bundle->packs[0].scoped);
  CHECK(read.bundle->packs[1].scoped);
  CHECK(read.bundle->packs[1].content == pack_text("legal-strict", "heron"));
  // The same contents and key give the same bytes (fixed entry times), so a rebuild is no new bundle.
  CHECK(make_bundle(contents(), keys.signer) == bytes);
}

TEST_CASE("a bundle is refused with another key, without its signature, or with a changed manifest", "[rule_bundle]") {
  Keys keys, other;
  const std::string bytes = make_bundle(contents(), keys.signer);
  const BundleRead wrong = read_bundle(bytes, other.verifier);
  CHECK_FALSE(wrong.ok());
  CHECK(wrong.error.find("signature does not verify") != std::string::npos);

  const auto packs = std::vector<std::pair<std::string, std::string>>{{"packs/falcon.yaml", pack_text("falcon", "falcon")}};
  const std::string manifest = manifest_for(packs);
  const std::string sig = keys.signer.sign(manifest) + "\n";
  const BundleRead good = read_bundle(zip_of({{"manifest.json", manifest}, {"manifest.sig", sig}, packs[0]}), keys.verifier);
  INFO(good.error);
  CHECK(good.ok());

  const BundleRead unsigned_ = read_bundle(zip_of({{"manifest.json", manifest}, packs[0]}), keys.verifier);
  CHECK_FALSE(unsigned_.ok());
  CHECK(unsigned_.error == "no manifest.sig in the bundle");

  // The manifest says another version (a replay under a new name) but keeps the old signature.
  std::string changed = manifest;
  changed.replace(changed.find("2026.12.07-1"), 12, "2026.12.09-1");
  const BundleRead tampered = read_bundle(zip_of({{"manifest.json", changed}, {"manifest.sig", sig}, packs[0]}), keys.verifier);
  CHECK_FALSE(tampered.ok());
  CHECK(tampered.error.find("signature does not verify") != std::string::npos);

  const BundleRead garbage_sig = read_bundle(zip_of({{"manifest.json", manifest}, {"manifest.sig", "not base64!"}, packs[0]}), keys.verifier);
  CHECK_FALSE(garbage_sig.ok());
}

TEST_CASE("a changed pack, an extra file, a missing pack or a path outside packs/ is refused", "[rule_bundle]") {
  Keys keys;
  const auto packs = std::vector<std::pair<std::string, std::string>>{{"packs/falcon.yaml", pack_text("falcon", "falcon")}};
  const std::string manifest = manifest_for(packs);
  const std::string sig = keys.signer.sign(manifest);

  // A rule weakened after signing: its bytes no longer match the manifest's hash.
  const BundleRead changed = read_bundle(
      zip_of({{"manifest.json", manifest}, {"manifest.sig", sig}, {"packs/falcon.yaml", pack_text("falcon", "sparrow")}}),
      keys.verifier);
  CHECK_FALSE(changed.ok());
  CHECK(changed.error == "packs/falcon.yaml: its SHA-256 does not match the manifest (changed after signing)");

  const BundleRead extra = read_bundle(
      zip_of({{"manifest.json", manifest}, {"manifest.sig", sig}, packs[0], {"packs/extra.yaml", pack_text("extra", "owl")}}),
      keys.verifier);
  CHECK_FALSE(extra.ok());
  CHECK(extra.error == "the bundle holds an entry the manifest does not list: 'packs/extra.yaml'");

  const BundleRead escaping = read_bundle(
      zip_of({{"manifest.json", manifest}, {"manifest.sig", sig}, packs[0], {"../../etc/cron.d/x", "x"}}), keys.verifier);
  CHECK_FALSE(escaping.ok());
  CHECK(escaping.error.find("does not list") != std::string::npos);

  const BundleRead missing = read_bundle(zip_of({{"manifest.json", manifest}, {"manifest.sig", sig}}), keys.verifier);
  CHECK_FALSE(missing.ok());
  CHECK(missing.error == "no packs/falcon.yaml in the bundle");

  // A signed manifest that names a path out of packs/ is refused before anything is read there.
  for (const std::string path : {"packs/../x.yaml", "../x.yaml", "/etc/x.yaml", "packs/sub/x.yaml", "packs/.hidden.yaml", "packs/x.yml"}) {
    const auto listed = std::vector<std::pair<std::string, std::string>>{{path, "x"}};
    const std::string m = manifest_for(listed);
    const BundleRead r = read_bundle(zip_of({{"manifest.json", m}, {"manifest.sig", keys.signer.sign(m)}, listed[0]}), keys.verifier);
    INFO(path);
    CHECK_FALSE(r.ok());
    CHECK(r.error.find("is not packs/NAME.yaml") != std::string::npos);
  }
}

TEST_CASE("a zip bomb, an oversized bundle or a file that is no zip is refused", "[rule_bundle]") {
  Keys keys;
  BundleLimits limits;
  limits.max_file_bytes = 1 << 20;
  const std::string zeros(3 << 20, 'a');  // deflates ~1000:1
  const auto packs = std::vector<std::pair<std::string, std::string>>{{"packs/bomb.yaml", zeros}};
  const std::string manifest = manifest_for(packs);
  const BundleRead bomb = read_bundle(zip_of({{"manifest.json", manifest}, {"manifest.sig", keys.signer.sign(manifest)}, packs[0]}),
                                      keys.verifier, limits);
  CHECK_FALSE(bomb.ok());
  CHECK(bomb.error.find("packs/bomb.yaml") != std::string::npos);

  const std::string bytes = make_bundle(contents(), keys.signer);
  BundleLimits small;
  small.max_bundle_bytes = bytes.size() - 1;
  const BundleRead big = read_bundle(bytes, keys.verifier, small);
  CHECK_FALSE(big.ok());
  CHECK(big.error.find("over the limit") != std::string::npos);

  CHECK_FALSE(read_bundle("not a zip at all", keys.verifier).ok());
  CHECK_FALSE(read_bundle(bytes.substr(0, bytes.size() / 2), keys.verifier).ok());
  CHECK_FALSE(read_bundle("", keys.verifier).ok());
}

TEST_CASE("bundle versions order like sort -V and are safe names", "[rule_bundle]") {
  CHECK(compare_bundle_versions("2026.12.10-1", "2026.12.9-3") > 0);
  CHECK(compare_bundle_versions("2026.12.07-2", "2026.12.07-10") < 0);
  CHECK(compare_bundle_versions("2026.12.07-1", "2026.12.07-1") == 0);
  CHECK(compare_bundle_versions("2026.12.07", "2026.12.07-1") < 0);
  CHECK(compare_bundle_versions("007", "7") == 0);
  CHECK(valid_bundle_version("2026.12.07-1"));
  CHECK_FALSE(valid_bundle_version(""));
  CHECK_FALSE(valid_bundle_version("../x"));
  CHECK_FALSE(valid_bundle_version(".hidden"));
  CHECK_FALSE(valid_bundle_version("v 1"));
  CHECK_FALSE(valid_bundle_version("v\"1"));
  CHECK_FALSE(valid_bundle_version(std::string(65, 'a')));
  Keys keys;
  CHECK_THROWS_AS(make_bundle(contents("bad version"), keys.signer), std::invalid_argument);
}

TEST_CASE("a verified bundle's packs load in memory and the set names the bundle", "[rule_bundle]") {
  Keys keys;
  const BundleRead read = read_bundle(make_bundle(contents(), keys.signer), keys.verifier);
  REQUIRE(read.ok());
  std::vector<PackText> texts;
  for (const auto& p : read.bundle->packs) texts.push_back({"bundle:" + read.bundle->version + "/" + p.path, p.content, p.scoped});
  const RuleLoad load = RuleSetLoader::from_texts(texts, read.bundle->version, kCache).load();
  INFO(load.error_text());
  REQUIRE(load.ok());
  CHECK(load.ruleset->bundle() == "2026.12.07-1");
  CHECK(load.ruleset->rules().size() == 2);
  CHECK(load.examples_run == 6);
  // The packs' contents decide the ruleset version, not where they came from.
  const RuleLoad same = RuleSetLoader::from_texts(texts, "other", kCache).load();
  CHECK(same.ruleset->version() == load.ruleset->version());
  // A scoped pack whose name is not its file's is refused, as from files.
  texts[1].content = pack_text("misnamed", "heron");
  const RuleLoad bad = RuleSetLoader::from_texts(texts, "x", kCache).load();
  CHECK_FALSE(bad.ok());
  CHECK(bad.error_text().find("scoped pack 'misnamed' must be named 'legal-strict'") != std::string::npos);
}
