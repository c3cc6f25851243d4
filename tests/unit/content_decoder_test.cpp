#include <catch2/catch.hpp>

#include <brotli/encode.h>
#include <zlib.h>

#include <chrono>
#include <memory>
#include <string>

#include "gateway/adapters/content_decoder.h"

using promptwall::gateway::decode_content;
using promptwall::gateway::DecodedBody;
using Status = DecodedBody::Status;

namespace {

constexpr size_t kLimit = 32 * 1024 * 1024;

// window_bits: 15 + 16 gzip, 15 zlib, -15 raw deflate. `copies` repeats `data` without
// materialising the whole input, so the bomb below costs no 100 MB buffer.
std::string zlib_compress(const std::string& data, int window_bits, size_t copies = 1) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out;
  char buf[16384];
  for (size_t i = 0; i < copies; ++i) {
    const bool last = i + 1 == copies;
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    int rc;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof buf;
      rc = deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
      out.append(buf, sizeof buf - zs.avail_out);
    } while (zs.avail_out == 0 || (last && rc != Z_STREAM_END));
  }
  deflateEnd(&zs);
  return out;
}

std::string gzip(const std::string& data) { return zlib_compress(data, 15 + 16); }
std::string zlib(const std::string& data) { return zlib_compress(data, 15); }
std::string raw_deflate(const std::string& data) { return zlib_compress(data, -15); }

std::string brotli(const std::string& data, size_t copies = 1, int quality = 9) {
  std::unique_ptr<BrotliEncoderState, void (*)(BrotliEncoderState*)> st(
      BrotliEncoderCreateInstance(nullptr, nullptr, nullptr), BrotliEncoderDestroyInstance);
  BrotliEncoderSetParameter(st.get(), BROTLI_PARAM_QUALITY, static_cast<uint32_t>(quality));
  std::string out;
  uint8_t buf[16384];
  for (size_t i = 0; i < copies; ++i) {
    const bool last = i + 1 == copies;
    size_t avail_in = data.size();
    const auto* next_in = reinterpret_cast<const uint8_t*>(data.data());
    do {
      size_t avail_out = sizeof buf;
      uint8_t* next_out = buf;
      REQUIRE(BrotliEncoderCompressStream(st.get(), last ? BROTLI_OPERATION_FINISH : BROTLI_OPERATION_PROCESS,
                                          &avail_in, &next_in, &avail_out, &next_out, nullptr));
      out.append(reinterpret_cast<char*>(buf), sizeof buf - avail_out);
    } while (avail_in > 0 || BrotliEncoderHasMoreOutput(st.get()) || (last && !BrotliEncoderIsFinished(st.get())));
  }
  return out;
}

const std::string kText =
    "{\"messages\":[{\"role\":\"user\",\"content\":\"Tài liệu TỐI MẬT: hợp đồng số 12/2024 với khách hàng "
    "Nguyễn Văn A, CCCD 001099012345. Please summarise.\"}]}";

}  // namespace

TEST_CASE("identity and empty encodings pass the body through", "[content_decoder]") {
  for (const char* enc : {"", "identity", " Identity ", "identity, identity"}) {
    const DecodedBody d = decode_content(enc, kText, kLimit);
    CHECK(d.status == Status::ok);
    CHECK(d.body == kText);
    CHECK(d.error.empty());
  }
  const DecodedBody big = decode_content("", kText, 10);
  CHECK(big.status == Status::too_large);
  CHECK(big.error == "decoded body over 10 bytes");
}

TEST_CASE("gzip, zlib-wrapped and raw deflate, and brotli round-trip", "[content_decoder]") {
  CHECK(decode_content("gzip", gzip(kText), kLimit).body == kText);
  CHECK(decode_content("x-gzip", gzip(kText), kLimit).body == kText);
  CHECK(decode_content("GZIP", gzip(kText), kLimit).body == kText);
  CHECK(decode_content("deflate", zlib(kText), kLimit).body == kText);
  CHECK(decode_content("deflate", raw_deflate(kText), kLimit).body == kText);
  CHECK(decode_content(" Br ", brotli(kText), kLimit).body == kText);
  // An empty payload compresses to a valid, non-empty stream.
  const DecodedBody empty = decode_content("gzip", gzip(""), kLimit);
  CHECK(empty.status == Status::ok);
  CHECK(empty.body.empty());
}

TEST_CASE("a body larger than one output chunk decodes whole", "[content_decoder]") {
  std::string big;
  for (int i = 0; big.size() < 1'000'000; ++i) big += std::to_string(i * 7919) + " dòng " + kText + "\n";
  CHECK(decode_content("gzip", gzip(big), kLimit).body == big);
  CHECK(decode_content("br", brotli(big), kLimit).body == big);
  CHECK(decode_content("deflate", raw_deflate(big), kLimit).body == big);
}

TEST_CASE("a chain is undone from the last coding to the first", "[content_decoder]") {
  const std::string gz_then_br = brotli(gzip(kText));
  const DecodedBody d = decode_content("gzip, br", gz_then_br, kLimit);
  CHECK(d.status == Status::ok);
  CHECK(d.body == kText);
  CHECK(decode_content("gzip,br", gz_then_br, kLimit).body == kText);
  // The opposite order reads brotli data as gzip.
  CHECK(decode_content("br, gzip", gz_then_br, kLimit).status == Status::corrupt);
  CHECK(decode_content("deflate, gzip, identity", gzip(zlib(kText)), kLimit).body == kText);
}

TEST_CASE("gzip members are concatenated, other trailing bytes are corrupt", "[content_decoder]") {
  const DecodedBody two = decode_content("gzip", gzip("first ") + gzip("second"), kLimit);
  CHECK(two.status == Status::ok);
  CHECK(two.body == "first second");

  const DecodedBody garbage = decode_content("gzip", gzip(kText) + "xyz", kLimit);
  CHECK(garbage.status == Status::corrupt);
  CHECK(garbage.error == "gzip: data after the end of the compressed stream");
  CHECK(decode_content("deflate", zlib(kText) + "x", kLimit).status == Status::corrupt);
  CHECK(decode_content("br", brotli(kText) + "x", kLimit).status == Status::corrupt);
}

TEST_CASE("corrupt and truncated streams are refused", "[content_decoder]") {
  const std::string gz = gzip(kText);
  const DecodedBody truncated = decode_content("gzip", gz.substr(0, gz.size() / 2), kLimit);
  CHECK(truncated.status == Status::corrupt);
  CHECK(truncated.error == "gzip: unexpected end of data");
  CHECK(truncated.body.empty());

  const DecodedBody not_gzip = decode_content("gzip", kText, kLimit);
  CHECK(not_gzip.status == Status::corrupt);
  CHECK(not_gzip.error == "gzip: incorrect header check");

  // A stored block whose length and its complement disagree.
  const std::string bad_stored("\x00\x05\x00\x00\x00hello", 10);
  const DecodedBody stored = decode_content("deflate", bad_stored, kLimit);
  CHECK(stored.status == Status::corrupt);
  CHECK(stored.error == "deflate: invalid stored block lengths");

  std::string flipped = gzip(kText);
  flipped[flipped.size() - 6] ^= 0x55;  // the CRC-32 trailer
  CHECK(decode_content("gzip", flipped, kLimit).error == "gzip: incorrect data check");

  const std::string br = brotli(kText);
  const DecodedBody br_truncated = decode_content("br", br.substr(0, br.size() - 3), kLimit);
  CHECK(br_truncated.status == Status::corrupt);
  CHECK(br_truncated.error == "br: unexpected end of data");
  const DecodedBody br_garbage = decode_content("br", std::string(64, '\xff'), kLimit);
  CHECK(br_garbage.status == Status::corrupt);
  CHECK(br_garbage.error.rfind("br: invalid data (", 0) == 0);
}

TEST_CASE("unknown encodings are unsupported", "[content_decoder]") {
  for (const char* enc : {"zstd", "compress", "gzip, zstd", "x-custom"}) {
    const DecodedBody d = decode_content(enc, kText, kLimit);
    CHECK(d.status == Status::unsupported);
    CHECK(d.body.empty());
  }
  CHECK(decode_content("gzip, ZSTD", kText, kLimit).error == "unsupported content encoding 'zstd'");
}

TEST_CASE("a 100 MB bomb stops at the limit", "[content_decoder]") {
  const std::string megabyte(1 << 20, '\0');
  const std::string gz_bomb = zlib_compress(megabyte, 15 + 16, 100);
  const std::string br_bomb = brotli(megabyte, 100, 1);
  REQUIRE(gz_bomb.size() < 200'000);
  REQUIRE(br_bomb.size() < 200'000);

  const DecodedBody gz = decode_content("gzip", gz_bomb, 1 << 20);
  const DecodedBody br = decode_content("br", br_bomb, 1 << 20);
  const DecodedBody chained = decode_content("gzip, br", brotli(gz_bomb), 1 << 20);

  for (const DecodedBody* d : {&gz, &br, &chained}) {
    CHECK(d->status == Status::too_large);
    CHECK(d->error == "decoded body over 1048576 bytes");
    CHECK(d->body.empty());
  }

  // At exactly the limit the body is accepted.
  const DecodedBody exact = decode_content("gzip", zlib_compress(megabyte, 15 + 16, 2), 2 << 20);
  CHECK(exact.status == Status::ok);
  CHECK(exact.body.size() == size_t{2} << 20);
}
