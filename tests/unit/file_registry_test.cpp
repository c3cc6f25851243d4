// FileRegistry (gateway/uploads/file_registry.h): a file's verdict under the id the upstream gave
// it, every spelling of that id one key, bounded and expiring; ChatGPT web's announce → blob PUT.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gateway/uploads/file_registry.h"

using promptwall::gateway::FileRecord;
using promptwall::gateway::FileRegistry;
using promptwall::gateway::FileRegistryLimits;
using promptwall::gateway::normalise_file_id;
using promptwall::gateway::Schema;
using promptwall::extractors::FileType;
using promptwall::extractors::Unscannable;

namespace {

struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  FileRegistry::Clock fn() {
    return [this] { return now; };
  }
};

FileRecord stamped_docx() {
  FileRecord r;
  r.sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  r.name = "Quyết định 12-QĐ-UBND.docx";
  r.type = FileType::docx;
  r.size = 18342;
  r.verdict = FileRecord::Verdict::findings;
  r.note = "1 finding: stamp";
  return r;
}

FileRecord encrypted_pdf() {
  FileRecord r;
  r.type = FileType::pdf;
  r.verdict = FileRecord::Verdict::unscannable;
  r.cause = Unscannable::encrypted;
  return r;
}

}  // namespace

TEST_CASE("file ids are normalised per API", "[uploads][file_registry]") {
  CHECK(normalise_file_id(Schema::gemini, "files/abc123") == "files/abc123");
  CHECK(normalise_file_id(Schema::gemini, "abc123") == "files/abc123");
  CHECK(normalise_file_id(Schema::gemini, "https://generativelanguage.googleapis.com/v1beta/files/abc123") == "files/abc123");
  CHECK(normalise_file_id(Schema::gemini, "https://generativelanguage.googleapis.com/v1/files/my-file-1?alt=media") ==
        "files/my-file-1");
  // Not a Files API file: a web URL, a bucket, another host, a name outside [a-z0-9-].
  CHECK(normalise_file_id(Schema::gemini, "https://www.youtube.com/watch?v=9hE5-98ZeCg") == "");
  CHECK(normalise_file_id(Schema::gemini, "gs://bucket/files/abc") == "");
  CHECK(normalise_file_id(Schema::gemini, "https://example.com/v1beta/files/abc") == "");
  CHECK(normalise_file_id(Schema::gemini, "files/ABC") == "");
  CHECK(normalise_file_id(Schema::gemini, "files/abc/extra") == "");

  CHECK(normalise_file_id(Schema::chatgpt_web, "file-service://file-7yXvA2pQ") == "file-7yXvA2pQ");
  CHECK(normalise_file_id(Schema::chatgpt_web, "sediment://file_00000000142872305d4f0105872b4749") ==
        "file_00000000142872305d4f0105872b4749");
  CHECK(normalise_file_id(Schema::chatgpt_web, "file-7yXvA2pQ") == "file-7yXvA2pQ");

  CHECK(normalise_file_id(Schema::openai, "file-abc") == "file-abc");
  CHECK(normalise_file_id(Schema::anthropic, "file_011CNha8iCJcU1wXNR6q4V8w") == "file_011CNha8iCJcU1wXNR6q4V8w");
  CHECK(normalise_file_id(Schema::openai, "") == "");
  CHECK(normalise_file_id(Schema::openai, "file abc") == "");
  CHECK(normalise_file_id(Schema::openai, std::string(513, 'f')) == "");
}

TEST_CASE("a recorded file is found by any spelling of its id, in its own schema", "[uploads][file_registry]") {
  FileRegistry registry;
  REQUIRE(registry.record(Schema::gemini, "files/abc123", stamped_docx()));
  const auto found = registry.find(Schema::gemini, "https://generativelanguage.googleapis.com/v1beta/files/abc123");
  REQUIRE(found);
  CHECK(found->verdict == FileRecord::Verdict::findings);
  CHECK(found->name == "Quyết định 12-QĐ-UBND.docx");
  CHECK(found->type == FileType::docx);
  CHECK(found->size == 18342);
  CHECK(found->note == "1 finding: stamp");
  CHECK(registry.find(Schema::gemini, "abc123"));
  CHECK_FALSE(registry.find(Schema::gemini, "abc1234"));
  CHECK_FALSE(registry.find(Schema::openai, "files/abc123"));  // per schema

  REQUIRE(registry.record(Schema::openai, "file-XYZ", encrypted_pdf()));
  const auto enc = registry.find(Schema::openai, "file-XYZ");
  REQUIRE(enc);
  CHECK(enc->verdict == FileRecord::Verdict::unscannable);
  CHECK(enc->cause == Unscannable::encrypted);
  CHECK_FALSE(registry.find(Schema::openai, "file-xyz"));  // ids are case-sensitive

  CHECK_FALSE(registry.record(Schema::gemini, "gs://bucket/x", stamped_docx()));
  CHECK(registry.forget(Schema::openai, "file-XYZ"));
  CHECK_FALSE(registry.find(Schema::openai, "file-XYZ"));
  CHECK(registry.size() == 1);
}

TEST_CASE("the oldest insertion goes first when full, and entries expire", "[uploads][file_registry]") {
  FakeClock clock;
  FileRegistryLimits limits;
  limits.max_files = 3;
  limits.ttl = std::chrono::seconds(100);
  FileRegistry registry(limits, clock.fn());
  FileRecord clean;
  REQUIRE(registry.record(Schema::openai, "file-1", clean));
  clock.now += std::chrono::seconds(10);
  REQUIRE(registry.record(Schema::openai, "file-2", clean));
  REQUIRE(registry.record(Schema::openai, "file-3", clean));
  // Finding an id does not refresh it (LRU by insertion)...
  CHECK(registry.find(Schema::openai, "file-1"));
  REQUIRE(registry.record(Schema::openai, "file-4", clean));
  CHECK_FALSE(registry.find(Schema::openai, "file-1"));
  // ...recording it again does.
  REQUIRE(registry.record(Schema::openai, "file-2", encrypted_pdf()));
  REQUIRE(registry.record(Schema::openai, "file-5", clean));
  CHECK_FALSE(registry.find(Schema::openai, "file-3"));
  CHECK(registry.find(Schema::openai, "file-2")->verdict == FileRecord::Verdict::unscannable);
  CHECK(registry.size() == 3);

  clock.now += std::chrono::seconds(99);
  CHECK(registry.find(Schema::openai, "file-4"));
  clock.now += std::chrono::seconds(1);  // 100 s after file-2, -4, -5 were recorded
  CHECK_FALSE(registry.find(Schema::openai, "file-4"));
  CHECK(registry.size() == 0);
}

TEST_CASE("ChatGPT web: the announced blob's scan becomes the file id's verdict", "[uploads][file_registry]") {
  FakeClock clock;
  FileRegistryLimits limits;
  limits.max_pending = 2;
  limits.pending_ttl = std::chrono::seconds(3600);
  FileRegistry registry(limits, clock.fn());
  const std::string blob = "/files/00000000-2554-7230-b9ed-e110f49fccb5/raw";
  REQUIRE(registry.announce(blob, "file_00000000142872305d4f0105872b4749"));
  CHECK(registry.pending() == 1);

  const auto id = registry.settle_blob(blob, stamped_docx());
  REQUIRE(id);
  CHECK(*id == "file_00000000142872305d4f0105872b4749");
  CHECK(registry.pending() == 0);
  const auto found = registry.find(Schema::chatgpt_web, "sediment://file_00000000142872305d4f0105872b4749");
  REQUIRE(found);
  CHECK(found->verdict == FileRecord::Verdict::findings);

  // A blob nobody announced (or announced too long ago) names no file.
  CHECK_FALSE(registry.settle_blob("/files/never/raw", stamped_docx()));
  REQUIRE(registry.announce("/files/a/raw", "file-a"));
  clock.now += std::chrono::seconds(3600);
  CHECK_FALSE(registry.settle_blob("/files/a/raw", stamped_docx()));
  CHECK_FALSE(registry.find(Schema::chatgpt_web, "file-a"));

  // Bounded: the oldest announcement goes first.
  REQUIRE(registry.announce("/files/1/raw", "file-1"));
  REQUIRE(registry.announce("/files/2/raw", "file-2"));
  REQUIRE(registry.announce("/files/3/raw", "file-3"));
  CHECK(registry.pending() == 2);
  CHECK_FALSE(registry.settle_blob("/files/1/raw", FileRecord{}));
  CHECK(registry.settle_blob("/files/3/raw", FileRecord{}) == std::optional<std::string>("file-3"));
  CHECK_FALSE(registry.announce("/files/4/raw", ""));
}

TEST_CASE("threads share one registry", "[uploads][file_registry]") {
  FileRegistryLimits limits;
  limits.max_files = 1000;
  FileRegistry registry(limits);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        const std::string id = "file-" + std::to_string(t) + "-" + std::to_string(i);
        if (!registry.record(Schema::openai, id, FileRecord{})) ++failures;
        (void)registry.find(Schema::openai, id);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(registry.size() == 1000);
}
