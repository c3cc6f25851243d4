#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "audit/signing_key.h"
#include "audit/trail_format.h"
#include "audit_trail_support.h"

using namespace promptwall::audit;
using promptwall::test::TempDir;

TEST_CASE("record_hash is the hex SHA-256 of the line's bytes", "[audit][trail_format]") {
  CHECK(record_hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(record_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("compose_record puts the chain fields first and read_record_head reads them back", "[audit][trail_format]") {
  const std::string prev = record_hash("previous");
  const std::string line = compose_record(42, prev, R"({"type":"decision","x":1})");
  CHECK(line == R"({"v":1,"seq":42,"prev":")" + prev + R"(","type":"decision","x":1})");
  const auto head = read_record_head(line);
  REQUIRE(head);
  CHECK(head->version == 1);
  CHECK(head->seq == 42);
  CHECK(head->prev == prev);

  const auto first = read_record_head(compose_record(1, kGenesisHash, R"({"type":"t"})"));
  REQUIRE(first);
  CHECK(first->seq == 1);
  CHECK(first->prev == kGenesisHash);

  CHECK_THROWS_AS(compose_record(1, prev, "{}"), std::invalid_argument);
  CHECK_THROWS_AS(compose_record(1, prev, "[1]"), std::invalid_argument);
}

TEST_CASE("read_record_head rejects anything not exactly as compose_record writes it", "[audit][trail_format]") {
  const std::string hex(64, 'a');
  CHECK(read_record_head(R"({"v":1,"seq":7,"prev":")" + hex + R"(","type":"x"})"));
  const std::vector<std::string> bad = {
      "",
      "{}",
      R"({"seq":7,"v":1,"prev":")" + hex + R"(","type":"x"})",       // order
      R"({ "v":1,"seq":7,"prev":")" + hex + R"(","type":"x"})",      // space
      R"({"v":1,"seq":07,"prev":")" + hex + R"(","type":"x"})",      // leading zero
      R"({"v":1,"seq":0,"prev":")" + hex + R"(","type":"x"})",       // seq counts from 1
      R"({"v":1,"seq":-7,"prev":")" + hex + R"(","type":"x"})",      // sign
      R"({"v":1,"seq":7,"prev":")" + std::string(64, 'A') + R"(","type":"x"})",  // uppercase hex
      R"({"v":1,"seq":7,"prev":")" + std::string(63, 'a') + R"(","type":"x"})",  // short
      R"({"v":1,"seq":7,"prev":")" + std::string(65, 'a') + R"(","type":"x"})",  // long
      R"({"v":1,"seq":7,"prev":")" + std::string(63, 'a') + R"(g","type":"x"})", // not hex
      R"({"v":1,"seq":7,"prev":")" + hex + R"("})",                  // nothing after the chain fields
      R"({"v":"1","seq":7,"prev":")" + hex + R"(","type":"x"})",     // quoted number
      R"({"v":1,"seq":99999999999999999999999,"prev":")" + hex + R"(","type":"x"})",  // overflow
  };
  for (const auto& line : bad) {
    INFO(line);
    CHECK_FALSE(read_record_head(line));
  }
}

TEST_CASE("trail files are listed in chain order and other files are ignored", "[audit][trail_format]") {
  CHECK(trail_file_name("20261126", 1) == "audit-20261126-000000000001.jsonl");
  CHECK(trail_file_name("20261127", 123456) == "audit-20261127-000000123456.jsonl");
  TempDir dir;
  for (const char* name : {"audit-20261127-000000000101.jsonl", "audit-20261126-000000000001.jsonl",
                           "audit-20261126-000000000020.jsonl", "trail.head", "trail.pub", "index.sqlite",
                           "audit-2026112-000000000001.jsonl", "audit-20261126-000000000000.jsonl",
                           "audit-20261126-00000000001x.jsonl", "audit-20261126-000000000005.jsonl.tmp"})
    promptwall::test::spit(dir.path() / name, "");
  const auto files = list_trail_files(dir.path());
  REQUIRE(files.size() == 3);
  CHECK(files[0].first_seq == 1);
  CHECK(files[0].day == "20261126");
  CHECK(files[1].first_seq == 20);
  CHECK(files[2].first_seq == 101);
  CHECK(files[2].day == "20261127");
  CHECK(files[2].path.filename() == "audit-20261127-000000000101.jsonl");
  CHECK_THROWS_AS(list_trail_files(dir.path() / "missing"), std::filesystem::filesystem_error);
}

TEST_CASE("a signing key is created once (0600, PKCS#8) and its signatures verify with the public half",
          "[audit][signing_key]") {
  TempDir dir;
  const auto pem = dir.path() / "keys" / "audit.key";
  const SigningKey key = SigningKey::load_or_create(pem);
  struct stat st {};
  REQUIRE(::stat(pem.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(promptwall::test::slurp(pem).rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
  CHECK(key.key_id().size() == 16);

  const SigningKey again = SigningKey::load_or_create(pem);
  CHECK(again.key_id() == key.key_id());  // loaded, not regenerated
  CHECK(SigningKey::load(pem).public_pem() == key.public_pem());

  const VerifyingKey verifier = VerifyingKey::from_pem(key.public_pem());
  CHECK(verifier.key_id() == key.key_id());
  const std::string sig = key.sign("promptwall-audit-checkpoint\n1\n5\nabc\n2026-11-26T08:00:00.000Z");
  CHECK(verifier.verify("promptwall-audit-checkpoint\n1\n5\nabc\n2026-11-26T08:00:00.000Z", sig));
  CHECK_FALSE(verifier.verify("promptwall-audit-checkpoint\n1\n6\nabc\n2026-11-26T08:00:00.000Z", sig));
  CHECK_FALSE(verifier.verify("x", "not base64!"));
  CHECK_FALSE(verifier.verify("x", ""));
  std::string flipped = sig;
  flipped[3] = flipped[3] == 'A' ? 'B' : 'A';
  CHECK_FALSE(verifier.verify("promptwall-audit-checkpoint\n1\n5\nabc\n2026-11-26T08:00:00.000Z", flipped));

  const SigningKey other = SigningKey::load_or_create(dir.path() / "other.key");
  CHECK(other.key_id() != key.key_id());
  CHECK_FALSE(VerifyingKey::from_pem(other.public_pem()).verify("x", key.sign("x")));

  promptwall::test::spit(dir.path() / "pub.pem", key.public_pem());
  CHECK(VerifyingKey::load(dir.path() / "pub.pem").key_id() == key.key_id());
  promptwall::test::spit(dir.path() / "junk.pem", "not a key");
  std::filesystem::permissions(dir.path() / "junk.pem", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  CHECK_THROWS_WITH(SigningKey::load(dir.path() / "junk.pem"), Catch::Contains("junk.pem"));
  CHECK_THROWS_WITH(VerifyingKey::load(dir.path() / "nope.pem"), Catch::Contains("nope.pem"));
}
