// UploadStore (gateway/uploads/upload_store.h): pieces of uploads held until the file is whole,
// assembled in the order each API defines, bounded, expiring, and shared by threads.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gateway/uploads/upload_store.h"

using promptwall::gateway::Schema;
using promptwall::gateway::UploadKey;
using promptwall::gateway::UploadStore;
using promptwall::gateway::UploadStoreLimits;
using Refusal = promptwall::gateway::UploadStore::Refusal;

namespace {

struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  UploadStore::Clock fn() {
    return [this] { return now; };
  }
};

const UploadKey kOpenAi{Schema::openai, "upload_abc"};
const UploadKey kGemini{Schema::gemini, "AHxI1nM-Zq_8"};

}  // namespace

TEST_CASE("OpenAI parts are assembled in the order complete lists them", "[uploads][upload_store]") {
  UploadStore store;
  // Parts may arrive in any order (the SDK allows parallel parts); complete decides the order.
  REQUIRE(store.add_part(kOpenAi, "part_2", "Số: 12/QĐ-UBND\n").ok());
  REQUIRE(store.add_part(kOpenAi, "part_1", "TỐI MẬT\n").ok());
  REQUIRE(store.add_part(kOpenAi, "part_3", "CCCD 001099012345\n").ok());
  CHECK(store.bytes_held() == std::string("Số: 12/QĐ-UBND\nTỐI MẬT\nCCCD 001099012345\n").size());

  const auto a = store.assemble_parts(kOpenAi, {"part_1", "part_2", "part_3"});
  REQUIRE(a.ok());
  CHECK(a.bytes == "TỐI MẬT\nSố: 12/QĐ-UBND\nCCCD 001099012345\n");
  CHECK(a.pieces == 3);
  // Assembled: freed.
  CHECK(store.sessions() == 0);
  CHECK(store.bytes_held() == 0);
  CHECK(store.assemble_parts(kOpenAi, {"part_1"}).refusal == Refusal::unknown_upload);
}

TEST_CASE("OpenAI: a missing or repeated part refuses the complete and keeps the parts", "[uploads][upload_store]") {
  UploadStore store;
  REQUIRE(store.add_part(kOpenAi, "part_1", "mật khẩu: ").ok());
  const auto missing = store.assemble_parts(kOpenAi, {"part_1", "part_2"});
  CHECK(missing.refusal == Refusal::part_missing);
  CHECK(missing.error == "upload part missing (position 2 of 2)");
  CHECK(missing.bytes.empty());
  CHECK(store.sessions() == 1);  // the client may add part_2 and complete again

  const auto twice = store.assemble_parts(kOpenAi, {"part_1", "part_1"});
  CHECK(twice.refusal == Refusal::part_listed_twice);

  REQUIRE(store.add_part(kOpenAi, "part_2", "hunter2").ok());
  const auto a = store.assemble_parts(kOpenAi, {"part_1", "part_2"});
  REQUIRE(a.ok());
  CHECK(a.bytes == "mật khẩu: hunter2");

  // Parts of another upload, or of the same id under another schema, are not this upload's.
  REQUIRE(store.add_part({Schema::openai, "upload_other"}, "part_1", "x").ok());
  CHECK(store.assemble_parts({Schema::anthropic, "upload_other"}, {"part_1"}).refusal == Refusal::unknown_upload);
}

TEST_CASE("OpenAI: the same part id again replaces its bytes", "[uploads][upload_store]") {
  UploadStore store;
  REQUIRE(store.add_part(kOpenAi, "part_1", "aaaa").ok());
  REQUIRE(store.add_part(kOpenAi, "part_1", "bb").ok());
  CHECK(store.bytes_held() == 2);
  CHECK(store.assemble_parts(kOpenAi, {"part_1"}).bytes == "bb");
}

TEST_CASE("Gemini chunks must tile the file from offset 0", "[uploads][upload_store]") {
  UploadStore store;
  REQUIRE(store.add_chunk(kGemini, 8, "CCCD 001099012345").ok());
  REQUIRE(store.add_chunk(kGemini, 0, "TỐI").ok());  // 5 bytes: 0..5, so 8 leaves a gap
  const auto gap = store.assemble_chunks(kGemini);
  CHECK(gap.refusal == Refusal::offsets_not_contiguous);
  CHECK(gap.error == "offsets not contiguous: a chunk at 8 where 5 was due");
  CHECK(store.sessions() == 1);

  UploadStore ok_store;
  const std::string first = "TỐI MẬT";  // 11 bytes of UTF-8
  REQUIRE(ok_store.add_chunk(kGemini, 0, first).ok());
  REQUIRE(ok_store.add_chunk(kGemini, 11, "\nCCCD 001099012345").ok());
  const auto a = ok_store.assemble_chunks(kGemini);
  REQUIRE(a.ok());
  CHECK(a.bytes == "TỐI MẬT\nCCCD 001099012345");
  CHECK(a.pieces == 2);
  CHECK(ok_store.bytes_held() == 0);
}

TEST_CASE("Gemini: overlap, first chunk not at 0, retries and conflicts", "[uploads][upload_store]") {
  UploadStore store;
  REQUIRE(store.add_chunk(kGemini, 0, "0123456789").ok());
  REQUIRE(store.add_chunk(kGemini, 5, "56789abcde").ok());
  CHECK(store.assemble_chunks(kGemini).refusal == Refusal::offsets_not_contiguous);

  UploadStore late;
  REQUIRE(late.add_chunk(kGemini, 4, "abcd").ok());
  CHECK(late.assemble_chunks(kGemini).error == "offsets not contiguous: a chunk at 4 where 0 was due");

  // The SDK resends a chunk whose answer had no status header: the same bytes are one chunk.
  UploadStore retry;
  REQUIRE(retry.add_chunk(kGemini, 0, "abcd").ok());
  REQUIRE(retry.add_chunk(kGemini, 0, "abcd").ok());
  CHECK(retry.bytes_held() == 4);
  const auto conflict = retry.add_chunk(kGemini, 0, "abce");
  CHECK(conflict.refusal == Refusal::chunk_conflict);
  CHECK(conflict.error == "chunk at offset 0 differs from the one already received");
  REQUIRE(retry.add_chunk(kGemini, 4, "").ok());  // a finalize with no bytes
  CHECK(retry.assemble_chunks(kGemini).bytes == "abcd");
}

TEST_CASE("bounds: per upload, total, sessions and pieces", "[uploads][upload_store]") {
  UploadStoreLimits limits;
  limits.max_upload_bytes = 10;
  limits.max_total_bytes = 15;
  limits.max_sessions = 2;
  limits.max_pieces = 3;
  UploadStore store(limits);

  REQUIRE(store.add_part({Schema::openai, "u1"}, "p1", "123456").ok());
  const auto big = store.add_part({Schema::openai, "u1"}, "p2", "12345");
  CHECK(big.refusal == Refusal::upload_too_big);
  CHECK(big.error == "upload over the 10-byte limit");
  CHECK(store.bytes_held() == 6);  // the refused part is not kept

  REQUIRE(store.add_part({Schema::openai, "u2"}, "p1", "12345678").ok());
  const auto full = store.add_part({Schema::openai, "u2"}, "p2", "12");
  CHECK(full.refusal == Refusal::store_full);
  CHECK(full.error == "upload store full (14 bytes held)");

  const auto sessions = store.add_part({Schema::openai, "u3"}, "p1", "1");
  CHECK(sessions.refusal == Refusal::store_full);
  CHECK(sessions.error == "upload store full (2 uploads held)");
  CHECK(store.sessions() == 2);

  REQUIRE(store.add_part({Schema::openai, "u1"}, "p2", "1").ok());
  REQUIRE(store.add_part({Schema::openai, "u1"}, "p3", "").ok());
  CHECK(store.add_part({Schema::openai, "u1"}, "p4", "").refusal == Refusal::too_many_pieces);
  // Replacing a part is no new piece, and gives its bytes back first.
  CHECK(store.add_part({Schema::openai, "u1"}, "p1", "1234").ok());
  CHECK(store.bytes_held() == 13);

  // Cancelling frees the upload's bytes and its session.
  CHECK(store.cancel({Schema::openai, "u2"}));
  CHECK_FALSE(store.cancel({Schema::openai, "u2"}));
  CHECK(store.bytes_held() == 5);
  CHECK(store.add_part({Schema::openai, "u3"}, "p1", "1234567890").ok());
}

TEST_CASE("sessions expire ttl after their last piece", "[uploads][upload_store]") {
  FakeClock clock;
  UploadStoreLimits limits;
  limits.ttl = std::chrono::seconds(60);
  UploadStore store(limits, clock.fn());
  REQUIRE(store.add_chunk(kGemini, 0, "abc").ok());
  clock.now += std::chrono::seconds(50);
  REQUIRE(store.add_chunk(kGemini, 3, "def").ok());  // touches the session
  clock.now += std::chrono::seconds(50);             // 100 s after the first chunk, 50 after the last
  REQUIRE(store.add_part(kOpenAi, "part_1", "x").ok());
  CHECK(store.sessions() == 2);
  clock.now += std::chrono::seconds(10);  // 60 s after the last chunk
  CHECK(store.assemble_chunks(kGemini).refusal == Refusal::unknown_upload);
  CHECK(store.bytes_held() == 1);
}

TEST_CASE("threads share one store", "[uploads][upload_store]") {
  UploadStore store;
  std::atomic<int> failures{0};  // Catch2 v2's assertions are not thread-safe: count, check after
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&store, &failures, t] {
      const UploadKey key{Schema::openai, "upload_" + std::to_string(t)};
      std::vector<std::string> ids;
      for (int p = 0; p < 200; ++p) {
        ids.push_back("part_" + std::to_string(p));
        if (!store.add_part(key, ids.back(), std::string(1, static_cast<char>('a' + p % 26))).ok()) ++failures;
      }
      const auto a = store.assemble_parts(key, ids);
      if (!a.ok() || a.bytes.size() != 200 || a.bytes[27] != 'b') ++failures;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(store.sessions() == 0);
  CHECK(store.bytes_held() == 0);
}
