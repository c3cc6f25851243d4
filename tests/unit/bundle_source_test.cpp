// BundleSource (gateway/bundles/): which bundle may replace the one served, from a watched
// directory or a URL, and the last good bundle kept for a restart without the source.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "../support/temp_dir.h"
#include "audit/signing_key.h"
#include "gateway/bundles/bundle_source.h"

using namespace promptwall;
using namespace promptwall::gateway;
using promptwall::test::TempDir;

namespace {

std::string pack_text(const std::string& name, const std::string& word) {
  return "pack: " + name +
         "\nversion: '1'\nrules:\n"
         "  - id: custom." + word + "\n    description: d\n    category: custom_term\n    severity: low\n"
         "    action: block\n    patterns: ['(?i){b}" + word + "{b}']\n    message: {vi: 'a', en: 'b'}\n"
         "    examples:\n      match: ['" + word + "', 'a " + word + " here']\n      ignore: ['" + word + "s']\n";
}

struct Fixture {
  TempDir dir{"bundle-source"};
  std::filesystem::path incoming = dir / "incoming", state = dir / "state", pub = dir / "bundle.pub";
  audit::SigningKey signer = audit::SigningKey::load_or_create(dir / "signing.pem");
  audit::SigningKey stranger = audit::SigningKey::load_or_create(dir / "stranger.pem");
  Fixture() {
    std::filesystem::create_directories(incoming);
    std::ofstream(pub) << signer.public_pem();
  }
  std::string bundle(const std::string& version, const audit::SigningKey& key, bool scoped = false) const {
    BundleContents c{version, "2026-12-07T08:00:00Z", {{"packs/falcon.yaml", pack_text("falcon", "falcon"), false}}};
    if (scoped) c.packs.push_back({"packs/legal-strict.yaml", pack_text("legal-strict", "heron"), true});
    return make_bundle(c, key);
  }
  void drop(const std::string& name, const std::string& bytes) const { std::ofstream(incoming / name, std::ios::binary) << bytes; }
  BundleSource dir_source(std::set<std::string> scoped = {}) const {
    BundleSource::Options o;
    o.dir = incoming;
    o.state_dir = state;
    o.scoped_pack_names = std::move(scoped);
    return BundleSource(std::move(o), pub);
  }
};

class FakeDownload final : public BundleDownload {
 public:
  explicit FakeDownload(Result* next) : next_(next) {}
  Result fetch() override { return *next_; }
  std::string where() const override { return "https://rules.example.vn/promptwall.bundle"; }

 private:
  Result* next_;
};

}  // namespace

TEST_CASE("a watched directory gives its newest valid bundle, once, and only when newer", "[bundle_source]") {
  Fixture f;
  BundleSource source = f.dir_source();
  BundlePoll empty = source.poll();
  CHECK_FALSE(empty.candidate);
  CHECK(empty.refusals.empty());
  CHECK(source.problem().find("no rule bundle verified yet") != std::string::npos);

  f.drop("a.bundle", f.bundle("2026.12.07-1", f.signer));
  f.drop("b.bundle", f.bundle("2026.12.07-2", f.signer));
  f.drop("c.bundle.part", "half a bundle");  // not *.bundle: not looked at
  BundlePoll first = source.poll();
  REQUIRE(first.candidate);
  CHECK(first.refusals.empty());
  CHECK(first.candidate->bundle.version == "2026.12.07-2");
  source.accept(*first.candidate);
  CHECK(source.served_version() == "2026.12.07-2");
  CHECK(source.problem().empty());
  CHECK(std::filesystem::exists(f.state / "current.bundle"));
  CHECK_FALSE(source.poll().candidate);

  // A newer version signed by someone else: refused, reported once, the served one stays.
  f.drop("d.bundle", f.bundle("2026.12.08-1", f.stranger));
  BundlePoll forged = source.poll();
  CHECK_FALSE(forged.candidate);
  REQUIRE(forged.refusals.size() == 1);
  CHECK(forged.refusals[0].find("d.bundle: the signature does not verify") != std::string::npos);
  CHECK(source.poll().refusals.empty());
  CHECK(source.served_version() == "2026.12.07-2");

  f.drop("e.bundle", f.bundle("2026.12.09-1", f.signer));
  BundlePoll next = source.poll();
  REQUIRE(next.candidate);
  CHECK(next.candidate->bundle.version == "2026.12.09-1");
  // Its examples failed on the server (say): refused once, never tried again.
  CHECK(source.refuse(*next.candidate, "examples failed").find("bundle 2026.12.09-1 refused: examples failed") !=
        std::string::npos);
  CHECK_FALSE(source.poll().candidate);
}

TEST_CASE("the last good bundle serves a restart and is verified again", "[bundle_source]") {
  Fixture f;
  {
    BundleSource source = f.dir_source();
    CHECK_FALSE(source.last_good());
    f.drop("a.bundle", f.bundle("2026.12.07-1", f.signer));
    BundlePoll poll = source.poll();
    REQUIRE(poll.candidate);
    source.accept(*poll.candidate);
  }
  std::filesystem::remove(f.incoming / "a.bundle");
  BundleSource restarted = f.dir_source();
  std::optional<BundleCandidate> kept = restarted.last_good();
  REQUIRE(kept);
  CHECK(kept->bundle.version == "2026.12.07-1");
  restarted.accept(*kept);
  CHECK(restarted.served_version() == "2026.12.07-1");

  // The kept copy changed on disk: refused like any other bundle, and /readyz says why.
  std::ofstream(f.state / "current.bundle", std::ios::binary) << f.bundle("2026.12.07-1", f.stranger);
  BundleSource tampered = f.dir_source();
  CHECK_FALSE(tampered.last_good());
  CHECK(tampered.problem().find("the last good bundle") != std::string::npos);
  CHECK(tampered.problem().find("signature does not verify") != std::string::npos);
}

TEST_CASE("a URL's bundle: not modified, unreachable, an older replay, a new one", "[bundle_source]") {
  Fixture f;
  BundleDownload::Result next;
  BundleSource::Options o;
  o.download = std::make_unique<FakeDownload>(&next);
  o.state_dir = f.state;
  BundleSource source(std::move(o), f.pub);

  next = {BundleDownload::Result::Kind::failed, {}, "cannot connect: Connection refused"};
  BundlePoll down = source.poll();
  CHECK_FALSE(down.candidate);
  CHECK(down.refusals.empty());
  CHECK(down.unreachable == "https://rules.example.vn/promptwall.bundle: cannot connect: Connection refused");

  next = {BundleDownload::Result::Kind::bytes, f.bundle("2026.12.07-2", f.signer), {}};
  BundlePoll got = source.poll();
  REQUIRE(got.candidate);
  source.accept(*got.candidate);
  CHECK(source.poll().candidate == std::nullopt);  // the same bytes again

  next = {BundleDownload::Result::Kind::not_modified, {}, {}};
  CHECK_FALSE(source.poll().candidate);

  // An older signed bundle served again (a rollback by replay) is refused, once.
  next = {BundleDownload::Result::Kind::bytes, f.bundle("2026.12.07-1", f.signer), {}};
  BundlePoll replay = source.poll();
  CHECK_FALSE(replay.candidate);
  REQUIRE(replay.refusals.size() == 1);
  CHECK(replay.refusals[0].find("version 2026.12.07-1 is not newer than 2026.12.07-2") != std::string::npos);
  CHECK(source.poll().refusals.empty());
}

TEST_CASE("a bundle must carry exactly the scoped packs the policy scopes name", "[bundle_source]") {
  Fixture f;
  BundleSource wants = f.dir_source({"legal-strict"});
  f.drop("a.bundle", f.bundle("1", f.signer, false));
  BundlePoll missing = wants.poll();
  CHECK_FALSE(missing.candidate);
  REQUIRE(missing.refusals.size() == 1);
  CHECK(missing.refusals[0].find("the policy scopes name pack 'legal-strict'") != std::string::npos);
  f.drop("b.bundle", f.bundle("2", f.signer, true));
  CHECK(wants.poll().candidate);

  BundleSource names_none = f.dir_source();
  std::filesystem::remove(f.incoming / "a.bundle");
  BundlePoll extra = names_none.poll();
  CHECK_FALSE(extra.candidate);
  REQUIRE(extra.refusals.size() == 1);
  CHECK(extra.refusals[0].find("scoped pack 'legal-strict' is named by no policy scope") != std::string::npos);
}

TEST_CASE("a public key that does not load stops the source from being made", "[bundle_source]") {
  Fixture f;
  BundleSource::Options o;
  o.dir = f.incoming;
  o.state_dir = f.state;
  CHECK_THROWS_WITH(BundleSource(std::move(o), f.dir / "missing.pub"), Catch::Contains("rules.bundle.public_key"));
}
