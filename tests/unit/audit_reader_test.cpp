#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "audit/trail_reader.h"
#include "trail_builder.h"

using namespace promptwall::audit;
using namespace promptwall::test;
namespace fs = std::filesystem;

namespace {

std::string small_object(int n) { return "{\"type\":\"checkpoint\",\"n\":" + std::to_string(n) + "}"; }

std::vector<TrailRecord> read_all(TrailReader& reader) {
  std::vector<TrailRecord> out;
  while (auto r = reader.next()) out.push_back(std::move(*r));
  return out;
}

std::string bytes_at(const fs::path& file, uint64_t offset, size_t size) {
  std::ifstream in(file, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string s(size, '\0');
  in.read(s.data(), static_cast<std::streamsize>(size));
  return s;
}

}  // namespace

TEST_CASE("the reader returns every record in chain order across files, with where it lies", "[audit][reader]") {
  TempDir tmp;
  TrailBuilder trail(tmp.path(), 4);
  std::vector<std::string> lines;
  for (int i = 1; i <= 11; ++i) lines.push_back(trail.append(small_object(i)));
  REQUIRE(list_trail_files(tmp.path()).size() == 3);
  // Not a trail file: ignored.
  std::ofstream(tmp.path() / "index.sqlite") << "not records\n";

  TrailReader reader(tmp.path());
  const auto records = read_all(reader);
  REQUIRE(records.size() == 11);
  for (size_t i = 0; i < records.size(); ++i) {
    CHECK(records[i].seq == i + 1);
    CHECK(records[i].line == lines[i]);
    CHECK(records[i].prev == (i == 0 ? std::string(kGenesisHash) : record_hash(lines[i - 1])));
    CHECK(bytes_at(records[i].file, records[i].offset, lines[i].size() + 1) == lines[i] + "\n");
  }
  CHECK(records[3].file != records[4].file);
  CHECK(records[4].offset == 0);
}

TEST_CASE("the reader picks up records appended and files created after it reached the end", "[audit][reader]") {
  TempDir tmp;
  TrailBuilder trail(tmp.path());
  trail.append(small_object(1));
  trail.append(small_object(2));
  TrailReader reader(tmp.path());
  CHECK(read_all(reader).size() == 2);
  CHECK_FALSE(reader.next());

  trail.append(small_object(3));
  auto r = reader.next();
  REQUIRE(r);
  CHECK(r->seq == 3);
  CHECK_FALSE(reader.next());

  trail.rotate();
  trail.append(small_object(4));
  trail.append(small_object(5));
  const auto more = read_all(reader);
  REQUIRE(more.size() == 2);
  CHECK(more[0].seq == 4);
  CHECK(more[0].file == trail.current_file());
  CHECK(more[1].seq == 5);
}

TEST_CASE("a trail with no file yet, or an empty file, has no record yet", "[audit][reader]") {
  TempDir tmp;
  TrailReader reader(tmp.path());
  CHECK_FALSE(reader.next());
  TrailBuilder trail(tmp.path());
  trail.append(small_object(1));
  auto r = reader.next();
  REQUIRE(r);
  CHECK(r->seq == 1);
}

TEST_CASE("a partial last line is not a record yet, and is one once its newline arrives", "[audit][reader]") {
  TempDir tmp;
  TrailBuilder trail(tmp.path());
  trail.append(small_object(1));
  const std::string line = trail.append_torn(small_object(2), 20);
  TrailReader reader(tmp.path());
  REQUIRE(reader.next());
  CHECK_FALSE(reader.next());
  CHECK_FALSE(reader.next());  // asked again: still not whole

  trail.finish_torn();
  auto r = reader.next();
  REQUIRE(r);
  CHECK(r->seq == 2);
  CHECK(r->line == line);
}

TEST_CASE("a torn tail cut off and rewritten is read afresh, not glued to the stale bytes", "[audit][reader]") {
  TempDir tmp;
  TrailBuilder trail(tmp.path());
  const std::string first = trail.append(small_object(1));
  trail.append_torn(small_object(2), 30);
  TrailReader reader(tmp.path());
  REQUIRE(reader.next());
  CHECK_FALSE(reader.next());
  // The writer restarts: it truncates the torn bytes and writes a different record 2.
  fs::resize_file(trail.current_file(), first.size() + 1);
  const std::string replacement = compose_record(2, record_hash(first), "{\"type\":\"repair\",\"bytes_removed\":30}");
  std::ofstream(trail.current_file(), std::ios::binary | std::ios::app) << replacement << "\n";
  auto r = reader.next();
  REQUIRE(r);
  CHECK(r->line == replacement);
}

TEST_CASE("the reader seeks by seq, skipping whole files by their names", "[audit][reader]") {
  TempDir tmp;
  TrailBuilder trail(tmp.path(), 5);
  for (int i = 1; i <= 14; ++i) trail.append(small_object(i));

  for (uint64_t from : {1u, 5u, 6u, 7u, 14u}) {
    TrailReader reader(tmp.path(), from);
    const auto records = read_all(reader);
    REQUIRE(records.size() == 14 - from + 1);
    CHECK(records.front().seq == from);
    CHECK(records.back().seq == 14);
  }
  TrailReader past(tmp.path(), 15);
  CHECK_FALSE(past.next());
  trail.append(small_object(15));
  auto r = past.next();
  REQUIRE(r);
  CHECK(r->seq == 15);

  // Files before the one holding from_seq are not read at all: garbage in the first is not seen.
  std::ofstream(list_trail_files(tmp.path()).front().path, std::ios::binary | std::ios::app) << "garbage\n";
  TrailReader skipping(tmp.path(), 6);
  CHECK(read_all(skipping).size() == 10);
  TrailReader reading(tmp.path(), 1);
  CHECK_THROWS(read_all(reading));

  // A first file that was removed (retention) does not hide the rest when seeking past it.
  fs::remove(list_trail_files(tmp.path()).front().path);
  TrailReader after_removal(tmp.path(), 8);
  auto first = after_removal.next();
  REQUIRE(first);
  CHECK(first->seq == 8);
}

TEST_CASE("the reader resumes at a byte offset in a file without reading its start", "[audit][reader]") {
  TempDir tmp;
  TrailBuilder trail(tmp.path(), 3);
  for (int i = 1; i <= 7; ++i) trail.append(small_object(i));
  TrailReader full(tmp.path());
  const auto records = read_all(full);
  const auto& fifth = records[4];

  TrailReader resumed(tmp.path(), fifth.file, fifth.offset + fifth.line.size() + 1);
  const auto rest = read_all(resumed);
  REQUIRE(rest.size() == 2);
  CHECK(rest[0].seq == 6);
  CHECK(rest[1].seq == 7);

  TrailReader unknown(tmp.path(), tmp.path() / "audit-20261126-000000000099.jsonl", 0);
  CHECK_THROWS_WITH(unknown.next(), Catch::Contains("not a file of the trail"));
}

TEST_CASE("a whole line that is not a record is an error naming its file and offset", "[audit][reader]") {
  TempDir tmp;
  TrailBuilder trail(tmp.path());
  const std::string first = trail.append(small_object(1));
  std::ofstream(trail.current_file(), std::ios::binary | std::ios::app) << "{\"seq\":2}\n";
  TrailReader reader(tmp.path());
  REQUIRE(reader.next());
  CHECK_THROWS_WITH(reader.next(), Catch::Contains(trail.current_file().filename().string() + ":" +
                                                   std::to_string(first.size() + 1)));
}

TEST_CASE("a partial line in a file that another file follows is an error, not a wait", "[audit][reader]") {
  TempDir tmp;
  TrailBuilder trail(tmp.path());
  trail.append(small_object(1));
  trail.append_torn(small_object(2), 25);
  const fs::path torn_file = trail.current_file();
  // A later file appears (its name says it starts at 3) while the torn bytes stay.
  std::ofstream(tmp.path() / trail_file_name("20261127", 3)) << compose_record(3, std::string(kGenesisHash), small_object(3)) << "\n";
  TrailReader reader(tmp.path());
  REQUIRE(reader.next());
  CHECK_THROWS_WITH(reader.next(), Catch::Contains("incomplete"));
}

TEST_CASE("a moved reader keeps its place", "[audit][reader]") {
  TempDir tmp;
  TrailBuilder trail(tmp.path());
  for (int i = 1; i <= 3; ++i) trail.append(small_object(i));
  TrailReader a(tmp.path());
  REQUIRE(a.next());
  TrailReader b = std::move(a);
  auto r = b.next();
  REQUIRE(r);
  CHECK(r->seq == 2);
}
