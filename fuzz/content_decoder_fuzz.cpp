// libFuzzer target for adapters/content_decoder: decode_content(), which undoes a request body's
// Content-Encoding (gzip, deflate raw or zlib-wrapped, br, chains of them) under a decoded-size
// limit before the body is scanned; a body it misreads is text that leaves unscanned, and a limit
// it overruns is a zip bomb. zlib and brotli do the decoding; the chain, the member loop, the
// trailing-data check and the bound are ours.
// Input: the first byte picks the Content-Encoding (byte % 12, kEncodings), the second the limit
// (byte % 8, kLimits: 0..64 KiB, small so that bombs meet it in microseconds, as RE2's fuzzer
// bounds its inputs); the rest is the body. Beyond "no crash, no sanitizer report", it checks the
// invariants content_decoder.h states:
//   - the decoded body never holds more than the limit; a refusal holds no body and says why, in
//     printable ASCII, naming the coding or the limit, never quoting the body (a body of 16+ bytes
//     with a byte no library message holds, a control or 8-bit one, is not found in the error);
//   - no coding listed (identity, empty): ok with the body itself exactly when it fits;
//   - an unknown coding is unsupported whatever the body and limit;
//   - the limit is exact and monotonic: ok under a limit stays ok, with the same body, under the
//     largest one; corrupt stays corrupt under the largest one (it was met before the limit); and
//     for one coding, ok means the limit equal to the output's size is ok too and one byte less is
//     too_large (decoding stops at the first byte over it, not a chunk later or earlier).
// Inputs are bounded at 64 KiB.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/adapters/content_decoder.h"

namespace {

using promptwall::gateway::decode_content;
using promptwall::gateway::DecodedBody;
using Status = DecodedBody::Status;

void require(bool ok) {
  if (!ok) std::abort();
}

constexpr std::string_view kEncodings[] = {
    "gzip", "deflate", "br", "x-gzip", "", "identity", "gzip, br", "br, gzip", " GZip ,deflate", "deflate, identity, br",
    "compress", "gzip, zstd",
};
// Which of kEncodings name exactly one coding (the exact-limit check), and which an unknown one.
constexpr bool kSingle[] = {true, true, true, true, false, false, false, false, false, false, false, false};
constexpr bool kUnknown[] = {false, false, false, false, false, false, false, false, false, false, true, true};
constexpr size_t kLimits[] = {0, 1, 16, 255, 1024, 4096, 16384, 65536};
constexpr size_t kLargestLimit = 65536;

void check_alone(const DecodedBody& d, std::string_view body, size_t limit) {
  require(d.body.size() <= limit);
  if (d.status == Status::ok) {
    require(d.error.empty());
    return;
  }
  require(d.body.empty() && !d.error.empty() && d.error.size() < 256);
  for (char c : d.error) require(c >= ' ' && c < 0x7f);
  require(d.error.starts_with("gzip: ") || d.error.starts_with("deflate: ") || d.error.starts_with("br: ") ||
          d.error.starts_with("unsupported content encoding '") || d.error.starts_with("decoded body over "));
  const bool unprintable = std::any_of(body.begin(), body.end(), [](char c) { return c < ' ' || c >= 0x7f; });
  if (body.size() >= 16 && unprintable) require(d.error.find(body) == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > 65536) return 0;
  const size_t which = data[0] % std::size(kEncodings);
  const std::string_view encoding = kEncodings[which];
  const size_t limit = kLimits[data[1] % std::size(kLimits)];
  const std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);

  const DecodedBody d = decode_content(encoding, body, limit);
  check_alone(d, body, limit);
  if (kUnknown[which]) require(d.status == Status::unsupported);
  if (encoding.empty() || encoding == "identity") {
    require(body.size() <= limit ? d.status == Status::ok && d.body == body : d.status == Status::too_large);
  }

  if (limit != kLargestLimit && (d.status == Status::ok || d.status == Status::corrupt)) {
    const DecodedBody larger = decode_content(encoding, body, kLargestLimit);
    check_alone(larger, body, kLargestLimit);
    require(larger.status == d.status && larger.body == d.body);
  }
  if (kSingle[which] && d.status == Status::ok) {
    const DecodedBody exact = decode_content(encoding, body, d.body.size());
    require(exact.status == Status::ok && exact.body == d.body);
    if (!d.body.empty()) require(decode_content(encoding, body, d.body.size() - 1).status == Status::too_large);
  }
  return 0;
}
