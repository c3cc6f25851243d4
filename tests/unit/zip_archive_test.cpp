// ZipArchive: entries listed and inflated, and each refusal with its own cause, on zips made by
// tests/data/documents/make_office_documents.py (office/) and make_hostile_documents.py (hostile/).
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>

#include "extractors/zip_archive.h"

using namespace promptwall::extractors;

namespace {

std::string fixture(const std::string& relative) {
  std::ifstream in(std::string(PROMPTWALL_SOURCE_DIR) + "/tests/data/documents/" + relative, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Opens `bytes` and reads every entry; the first refusal, or ok.
ReadOutcome open_and_read_all(const std::string& bytes, const ExtractionLimits& limits, ReadBudget& budget) {
  ZipArchive zip(bytes, limits, budget);
  if (!zip.opened().good()) return zip.opened();
  std::string out;
  for (size_t i = 0; i < zip.entries().size(); ++i) {
    ReadOutcome r = zip.read(i, out);
    if (!r.good()) return r;
  }
  return ReadOutcome::ok();
}

}  // namespace

TEST_CASE("zip archive lists entries with their UTF-8 names and inflates them", "[extractors][zip]") {
  const std::string bytes = fixture("office/plain.zip");
  ExtractionLimits limits;
  ReadBudget budget;
  ZipArchive zip(bytes, limits, budget);
  REQUIRE(zip.opened().good());
  REQUIRE(zip.entries().size() == 3);
  CHECK(zip.entries()[0].name == "ghi chú/biên bản.txt");
  CHECK_FALSE(zip.entries()[0].directory);
  CHECK(zip.entries()[1].name == "ghi chú/");
  CHECK(zip.entries()[1].directory);
  REQUIRE(zip.find("ghi chú/biên bản.txt") == std::optional<size_t>(0));
  CHECK_FALSE(zip.find("Ghi chú/biên bản.txt").has_value());
  std::string text;
  REQUIRE(zip.read(0, text).good());
  CHECK(text == "Biên bản họp\nTỐI MẬT\n");
  CHECK(budget.inflated_bytes == text.size());
  std::string empty = "left over";
  REQUIRE(zip.read(2, empty).good());
  CHECK(empty.empty());
  CHECK(zip.read(3, text).cause == Unscannable::extractor_failed);
}

TEST_CASE("zip archive refuses a damaged archive as truncated", "[extractors][zip]") {
  ExtractionLimits limits;
  ReadBudget budget;
  SECTION("cut before its central directory") {
    const std::string bytes = fixture("office/cut.zip");
    ZipArchive zip(bytes, limits, budget);
    CHECK(zip.opened().cause == Unscannable::truncated);
    CHECK(zip.entries().empty());
  }
  SECTION("a CRC error while reading") {
    const std::string bytes = fixture("office/crc_error.zip");
    ZipArchive zip(bytes, limits, budget);
    REQUIRE(zip.opened().good());
    std::string out;
    const ReadOutcome r = zip.read(0, out);
    CHECK(r.cause == Unscannable::truncated);
    CHECK(out.empty());
  }
  SECTION("not a zip at all") {
    const std::string bytes = "PK\x03\x04 and nothing more";
    ZipArchive zip(bytes, limits, budget);
    CHECK(zip.opened().cause == Unscannable::truncated);
  }
  SECTION("a docx cut in half") {
    CHECK(open_and_read_all(fixture("hostile/truncated.docx"), limits, budget).cause == Unscannable::truncated);
  }
}

TEST_CASE("zip archive counts inflated bytes against each limit", "[extractors][zip]") {
  const std::string bytes = fixture("office/two_mib.zip");  // 2 MiB of 'a' in ~2 KB
  ReadBudget budget;
  SECTION("the default ratio limit stops it past 1 MiB") {
    ExtractionLimits limits;
    const ReadOutcome r = open_and_read_all(bytes, limits, budget);
    CHECK(r.cause == Unscannable::zip_bomb);
    CHECK(r.detail.find("ratio") != std::string::npos);
    CHECK(budget.inflated_bytes > (1u << 20));
    CHECK(budget.inflated_bytes < (2u << 20));
  }
  SECTION("a ratio limit above its ratio reads it whole") {
    ExtractionLimits limits;
    limits.max_ratio = 5000;
    ZipArchive zip(bytes, limits, budget);
    REQUIRE(zip.opened().good());
    std::string out;
    REQUIRE(zip.read(0, out).good());
    CHECK(out == std::string(2u << 20, 'a'));
    CHECK(budget.inflated_bytes == (2u << 20));
  }
  SECTION("its declared size over max_file_bytes") {
    ExtractionLimits limits;
    limits.max_ratio = 5000;
    limits.max_file_bytes = 1u << 20;
    const ReadOutcome r = open_and_read_all(bytes, limits, budget);
    CHECK(r.cause == Unscannable::too_big);
    CHECK(budget.inflated_bytes == 0);  // refused before inflating anything
  }
  SECTION("the top file's inflated budget, shared across archives") {
    ExtractionLimits limits;
    limits.max_ratio = 5000;
    limits.max_inflated_bytes = 3u << 20;
    CHECK(open_and_read_all(bytes, limits, budget).good());
    // A second archive read for the same top file (a nested zip) draws on the same budget.
    const ReadOutcome r = open_and_read_all(bytes, limits, budget);
    CHECK(r.cause == Unscannable::zip_bomb);
    CHECK(r.detail.find("inflated over 3 MiB") != std::string::npos);
  }
}

TEST_CASE("zip archive refuses hostile archives with their causes", "[extractors][zip]") {
  ExtractionLimits limits;
  ReadBudget budget;
  SECTION("Fifield's overlapping entries, refused before inflating") {
    const std::string bytes = fixture("hostile/overlap_bomb.zip");
    ZipArchive zip(bytes, limits, budget);
    CHECK(zip.opened().cause == Unscannable::zip_bomb);
    CHECK(zip.opened().detail.find("overlap") != std::string::npos);
    CHECK(budget.inflated_bytes == 0);
  }
  SECTION("overlapping entries whose ratio and total are harmless") {
    const std::string bytes = fixture("hostile/overlap_low_ratio.zip");
    ZipArchive zip(bytes, limits, budget);
    CHECK(zip.opened().cause == Unscannable::zip_bomb);
  }
  SECTION("the same name twice") {
    CHECK(ZipArchive(fixture("hostile/duplicate_names.zip"), limits, budget).opened().cause == Unscannable::zip_bomb);
    CHECK(ZipArchive(fixture("hostile/duplicate_document.docx"), limits, budget).opened().cause ==
          Unscannable::zip_bomb);
  }
  SECTION("an encrypted entry") {
    CHECK(ZipArchive(fixture("hostile/encrypted_entry.zip"), limits, budget).opened().cause == Unscannable::encrypted);
  }
  SECTION("entry counts at and over max_entries") {
    CHECK(open_and_read_all(fixture("hostile/entries_10000.zip"), limits, budget).good());
    const std::string over = fixture("hostile/entries_10001.zip");
    ZipArchive zip(over, limits, budget);
    CHECK(zip.opened().cause == Unscannable::too_many_entries);
    CHECK(zip.opened().detail == "10001 entries over the limit of 10000");
  }
  SECTION("a flat bomb") {
    CHECK(open_and_read_all(fixture("hostile/flat_bomb.zip"), limits, budget).cause == Unscannable::zip_bomb);
  }
  SECTION("a docx whose document part inflates 32 MiB from little") {
    CHECK(open_and_read_all(fixture("hostile/ratio_bomb.docx"), limits, budget).cause == Unscannable::zip_bomb);
  }
}
