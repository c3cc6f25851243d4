// `promptwall rules bundle-key | bundle | verify-bundle` as rule authors and operators run them:
// the key pair's files and modes, a bundle made only from packs whose examples pass, and a bundle
// that verifies only untouched and with its own key.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "process.h"

using promptwall::test::run_promptwall;
using promptwall::test::shell_quote;
using promptwall::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::string pack(const std::string& name, const std::string& ignore) {
  return "pack: " + name +
         "\nversion: '1'\nrules:\n"
         "  - id: custom.falcon\n    description: d\n    category: custom_term\n    severity: high\n"
         "    action: block\n    patterns: ['(?i){b}falcon{b}']\n    message: {vi: 'a', en: 'b'}\n"
         "    examples:\n      match: ['falcon', 'a falcon here', 'FALCON']\n      ignore: ['" + ignore + "', 'eagle', 'fal con']\n";
}

std::string q(const fs::path& p) { return shell_quote(p.string()); }

}  // namespace

TEST_CASE("rules bundle-key makes a private key only its owner reads, and never overwrites it", "[cli][bundles]") {
  TempDir dir;
  auto made = run_promptwall("rules bundle-key --out " + q(dir / "keys"));
  INFO(made.out << made.err);
  REQUIRE(made.status == 0);
  CHECK(made.out.find("bundle signing key ") == 0);
  struct stat st {};
  REQUIRE(::stat((dir / "keys" / "bundle-signing.pem").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(fs::exists(dir / "keys" / "bundle-signing.pub"));
  const auto again = run_promptwall("rules bundle-key --out " + q(dir / "keys"));
  CHECK(again.status == 2);
  CHECK(again.err.find("never overwritten") != std::string::npos);
}

TEST_CASE("rules bundle signs packs whose examples pass, verify-bundle checks key and contents", "[cli][bundles]") {
  TempDir dir;
  REQUIRE(run_promptwall("rules bundle-key --out " + q(dir / "keys")).status == 0);
  REQUIRE(run_promptwall("rules bundle-key --out " + q(dir / "other")).status == 0);
  fs::create_directories(dir / "good");
  fs::create_directories(dir / "bad");
  dir.file("good/falcon.yaml", pack("falcon", "falcons"));
  dir.file("bad/falcon.yaml", pack("falcon", "falcon"));  // an ignore example the rule matches
  const std::string key = " --key " + q(dir / "keys" / "bundle-signing.pem");

  const auto refused = run_promptwall("rules bundle" + key + " --version 1 --out " + q(dir / "bad.bundle") + " " + q(dir / "bad"));
  CHECK(refused.status == 1);
  CHECK(refused.err.find("ignore example matched") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "bad.bundle"));

  const auto bad_version = run_promptwall("rules bundle" + key + " --version ../1 --out " + q(dir / "x.bundle") + " " + q(dir / "good"));
  CHECK(bad_version.status == 2);

  const auto made = run_promptwall("rules bundle" + key + " --version 2026.12.07-1 --out " + q(dir / "r.bundle") + " " + q(dir / "good"));
  INFO(made.out << made.err);
  REQUIRE(made.status == 0);
  CHECK(made.out.find("bundle 2026.12.07-1: 1 pack(s), 1 rule(s), 6 example(s) passed") == 0);

  const std::string pub = " --public-key " + q(dir / "keys" / "bundle-signing.pub");
  const auto verified = run_promptwall("rules verify-bundle" + pub + " " + q(dir / "r.bundle"));
  INFO(verified.out << verified.err);
  CHECK(verified.status == 0);
  CHECK(verified.out.find("bundle 2026.12.07-1 (created ") == 0);
  CHECK(verified.out.find("packs/falcon.yaml") != std::string::npos);

  const auto stranger = run_promptwall("rules verify-bundle --public-key " + q(dir / "other" / "bundle-signing.pub") + " " +
                                       q(dir / "r.bundle"));
  CHECK(stranger.status == 1);
  CHECK(stranger.out.find("refused: the signature does not verify") != std::string::npos);

  // One byte changed anywhere in the file: refused.
  std::string bytes;
  {
    std::ifstream in(dir / "r.bundle", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  for (size_t at : {size_t{40}, bytes.size() / 2, bytes.size() - 30}) {
    std::string changed = bytes;
    changed[at] = static_cast<char>(changed[at] ^ 0x20);
    dir.file("changed.bundle", changed);
    const auto r = run_promptwall("rules verify-bundle" + pub + " " + q(dir / "changed.bundle"));
    INFO("byte " << at << ": " << r.out << r.err);
    CHECK(r.status == 1);
  }
  CHECK(run_promptwall("rules verify-bundle" + pub).status == 2);
  CHECK(run_promptwall("rules bundle --help").out.find("rules bundle-key") != std::string::npos);
}

TEST_CASE("serve --check with rules.bundle checks the public key, not packs", "[cli][bundles]") {
  TempDir dir;
  REQUIRE(run_promptwall("rules bundle-key --out " + q(dir / "keys")).status == 0);
  auto config = [&](const std::string& key) {
    return dir.file("gateway.yaml", "listen: {gateway: 127.0.0.1:18080, admin: off}\n"
                                    "rules: {bundle: {dir: " + (dir / "incoming").string() + ", public_key: " + key + "}}\n"
                                    "audit: {dir: " + (dir / "audit").string() + ", signing_key: " + (dir / "s.pem").string() +
                                    ", evidence_key: " + (dir / "e.key").string() + "}\n");
  };
  const auto ok = run_promptwall("serve --check --config " + shell_quote(config((dir / "keys" / "bundle-signing.pub").string())));
  INFO(ok.out << ok.err);
  CHECK(ok.status == 0);
  CHECK(ok.out.find("rules from signed bundles at " + (dir / "incoming").string()) != std::string::npos);
  const auto missing = run_promptwall("serve --check --config " + shell_quote(config((dir / "nope.pub").string())));
  CHECK(missing.status == 2);
  CHECK(missing.err.find("rules.bundle.public_key") != std::string::npos);
  // A private key where the public one belongs is no public key.
  const auto wrong = run_promptwall("serve --check --config " + shell_quote(config((dir / "keys" / "bundle-signing.pem").string())));
  CHECK(wrong.status == 2);
}
