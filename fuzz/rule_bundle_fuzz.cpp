// libFuzzer target for rules/rule_bundle (+ extractors/zip_archive, audit/signing_key): a gateway
// reads bundles from a URL or a directory that others can write, so every byte of one is hostile
// until its signature and hashes say otherwise. The input is a bundle file, read with a fixed
// public key A (the seeds hold bundles signed with A: corpus/rule_bundle/) under small limits.
// Invariants:
//  - read_bundle never throws, and the same bytes give the same answer (pure);
//  - a refusal has a reason, short and printable;
//  - an accepted bundle is what read_bundle's contract says: a valid version, one or more packs,
//    each at a unique packs/NAME.yaml within max_file_bytes, sha256 the file's hash; and it was
//    signed by A alone: the same bytes read with key B are refused;
//  - make_bundle of what was read, signed with A, reads back to the same version and packs.
// Inputs are bounded at 256 KiB.
//
// The keys are fixed (below) so the seeds stay valid: made with `promptwall rules bundle --key`
// over a file holding kKeyA.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include "audit/signing_key.h"
#include "rules/rule_bundle.h"
#include "rules/sha256.h"

namespace {

using promptwall::BundleLimits;
using promptwall::BundleRead;

constexpr std::string_view kKeyA =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJw0SPA9YADUjELK9Dy5jKif3tPU+2j3BS05Dpwmiiq0\n"
    "-----END PRIVATE KEY-----\n";
constexpr std::string_view kKeyB =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJbPAFOJVZmcVEMdYJhAq56KdEPMSt1AC2BI6MOIZn+R\n"
    "-----END PRIVATE KEY-----\n";

// SigningKey loads from a private file only: write the fixed PEM to one (mkstemp: 0600) and load it.
promptwall::audit::SigningKey load_key(std::string_view pem) {
  char path[] = "/tmp/promptwall-bundle-fuzz-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp");
  const bool written = ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size());
  ::close(fd);
  if (!written) throw std::runtime_error("write");
  auto key = promptwall::audit::SigningKey::load(path);
  ::unlink(path);
  return key;
}

struct Keys {
  promptwall::audit::SigningKey a = load_key(kKeyA), b = load_key(kKeyB);
  promptwall::audit::VerifyingKey verify_a = promptwall::audit::VerifyingKey::from_pem(a.public_pem());
  promptwall::audit::VerifyingKey verify_b = promptwall::audit::VerifyingKey::from_pem(b.public_pem());
};

BundleLimits limits() {
  BundleLimits l;
  l.max_bundle_bytes = 256 << 10;
  l.max_file_bytes = 64 << 10;
  l.max_inflated_bytes = 1 << 20;
  l.max_entries = 64;
  return l;
}

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "rule_bundle invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (256 << 10)) return 0;
  static const Keys keys;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const BundleRead read = promptwall::read_bundle(bytes, keys.verify_a, limits());
  const BundleRead again = promptwall::read_bundle(bytes, keys.verify_a, limits());
  require(read.ok() == again.ok() && read.error == again.error, "the same bytes gave another answer");
  if (!read.ok()) {
    require(!read.error.empty() && read.error.size() < 512, "a refusal without a short reason");
    for (char c : read.error) require(static_cast<unsigned char>(c) >= 0x20, "a control character in a refusal");
    return 0;
  }
  const promptwall::RuleBundle& b = *read.bundle;
  require(promptwall::valid_bundle_version(b.version), "an accepted bundle with an invalid version");
  require(!b.packs.empty(), "an accepted bundle without packs");
  std::set<std::string> paths;
  for (const auto& p : b.packs) {
    require(promptwall::valid_bundle_pack_path(p.path), "an accepted pack path outside packs/NAME.yaml");
    require(paths.insert(p.path).second, "a pack accepted twice");
    require(p.content.size() <= limits().max_file_bytes, "a pack over max_file_bytes");
  }
  require(b.sha256 == promptwall::Sha256().update(bytes).hex_digest(), "sha256 is not the file's");
  require(!promptwall::read_bundle(bytes, keys.verify_b, limits()).ok(), "a bundle signed by A verified with B");

  promptwall::BundleContents contents{b.version, b.created, b.packs};
  const BundleRead remade = promptwall::read_bundle(promptwall::make_bundle(contents, keys.a), keys.verify_a);
  require(remade.ok(), "a bundle remade from an accepted one is refused");
  require(remade.bundle->version == b.version && remade.bundle->packs.size() == b.packs.size(), "the remade bundle differs");
  for (size_t i = 0; i < b.packs.size(); ++i)
    require(remade.bundle->packs[i].path == b.packs[i].path && remade.bundle->packs[i].content == b.packs[i].content &&
                remade.bundle->packs[i].scoped == b.packs[i].scoped,
            "a remade pack differs");
  return 0;
}
