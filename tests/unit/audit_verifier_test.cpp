#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>

#include "audit/trail_verifier.h"
#include "audit_trail_support.h"

using namespace promptwall::audit;
using namespace promptwall::test;
namespace fs = std::filesystem;

namespace {
TrailReport verify_with_trail_key(const fs::path& dir) {
  const VerifyingKey key = VerifyingKey::load(dir / kPublicKeyFileName);
  return TrailVerifier(dir, key).verify();
}
}  // namespace

TEST_CASE("the verifier names the first problem of each kind of tampering", "[audit][verifier]") {
  TempDir tmp;
  const fs::path original = tmp.path() / "original";
  make_trail(original, tmp.path() / "audit.key", 100, 4096);
  REQUIRE(list_trail_files(original).size() >= 4);
  int n = 0;
  for (const auto& tamper : tampers()) {
    const fs::path copy = tmp.path() / ("copy" + std::to_string(n++));
    copy_trail(original, copy);
    tamper.apply(copy);
    const auto report = verify_with_trail_key(copy);
    INFO(tamper.name << ": " << (report.problem ? report.problem->message : "intact"));
    if (tamper.kind.empty()) {
      CHECK(report.intact());
    } else {
      REQUIRE(report.problem);
      CHECK(report.problem->kind == tamper.kind);
      CHECK_FALSE(report.problem->message.empty());
    }
    CHECK(report.warning.has_value() == tamper.warning);
  }
}

TEST_CASE("the verifier locates the problem: file, line and seq", "[audit][verifier]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "trail";
  make_trail(dir, tmp.path() / "audit.key", 30, 1 << 20);  // one file: line n holds seq n
  auto lines = file_lines(list_trail_files(dir)[0].path);
  const fs::path file = list_trail_files(dir)[0].path;

  SECTION("an edited record is named, not the record after it") {
    lines[9].replace(lines[9].find("\"n\":10"), 6, "\"n\":11");
    write_lines(file, lines);
    const auto r = verify_with_trail_key(dir);
    REQUIRE(r.problem);
    CHECK(r.problem->kind == "edited");
    CHECK(r.problem->seq == 10);
    CHECK(r.problem->line == 10);
    CHECK(r.problem->file == file);
    CHECK(r.records == 10);  // stopped at the first problem
  }
  SECTION("deleted records: the seq gap") {
    lines.erase(lines.begin() + 4, lines.begin() + 7);  // seq 5..7
    write_lines(file, lines);
    const auto r = verify_with_trail_key(dir);
    REQUIRE(r.problem);
    CHECK(r.problem->kind == "deleted");
    CHECK(r.problem->seq == 8);
    CHECK(r.problem->line == 5);
    CHECK_THAT(r.problem->message, Catch::Contains("from 4 to 8"));
  }
  SECTION("a record moved backwards") {
    std::rotate(lines.begin() + 3, lines.begin() + 4, lines.begin() + 12);  // seq 4 moved after seq 12
    write_lines(file, lines);
    const auto r = verify_with_trail_key(dir);
    REQUIRE(r.problem);
    CHECK((r.problem->kind == "reordered" || r.problem->kind == "deleted"));
  }
  SECTION("a line that is not a record") {
    lines[4] = "{\"seq\":5}";
    write_lines(file, lines);
    const auto r = verify_with_trail_key(dir);
    REQUIRE(r.problem);
    CHECK(r.problem->kind == "malformed");
    CHECK(r.problem->line == 5);
  }
  SECTION("the signed head itself") {
    auto head = nlohmann::json::parse(slurp(dir / kHeadFileName));
    head["seq"] = head["seq"].get<uint64_t>() + 1;
    spit(dir / kHeadFileName, head.dump());
    const auto r = verify_with_trail_key(dir);
    REQUIRE(r.problem);
    CHECK(r.problem->kind == "bad_signature");
    CHECK(r.problem->file.filename() == kHeadFileName);
  }
  SECTION("an intact trail: the summary") {
    const auto r = verify_with_trail_key(dir);
    CHECK(r.intact());
    CHECK(r.files == 1);
    CHECK(r.records == 31);
    CHECK(r.last_seq == 31);
    CHECK(r.checkpoints == 1);
    CHECK(r.head_verified);
    CHECK(r.head_seq == 31);
  }
}

TEST_CASE("the verifier streams a large trail in one pass", "[audit][verifier]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "trail";
  fs::create_directories(dir);
  const auto key = SigningKey::load_or_create(tmp.path() / "audit.key");
  spit(dir / kPublicKeyFileName, key.public_pem());
  constexpr uint64_t kRecords = 300'000;
  {
    std::ofstream out(dir / trail_file_name("20261126", 1), std::ios::binary);
    std::string prev(kGenesisHash);
    for (uint64_t seq = 1; seq <= kRecords; ++seq) {
      const std::string line = compose_record(seq, prev, test_event(seq, std::string(200, 'p')));
      prev = record_hash(line);
      out << line << '\n';
    }
  }
  const auto r = verify_with_trail_key(dir);
  CHECK(r.intact());
  CHECK(r.records == kRecords);
  CHECK(r.unsigned_tail == kRecords);
  // How fast is bench/audit_bench's business (verify per million events), not a test's.
}
