// libFuzzer target for gateway/pseudonyms/reply_restorer: an upstream's reply (outside input)
// restored with a fixed set of issued labels ([CCCD-1], [SĐT-2], [TÊN-1], whose value holds a
// quote and a backslash). Input: byte 0 picks the framing (SSE, JSON, text), byte 1 seeds the
// split, the rest is the reply. Beyond "no crash, no sanitizer report" it checks:
//   - the reply fed in pieces cut where the seed says gives exactly what it gives fed in one piece
//     (what the client reads does not depend on how TCP cut the upstream's bytes);
//   - at byte level (JSON streamed, text) the output holds no spelling of a label: every label is
//     restored, so none was ever emitted in two parts (with the first check, a label cut by a
//     piece boundary would show whole, unrestored, in the joined output); for input that is valid
//     UTF-8 every piece push() returns is valid UTF-8 on its own;
//   - ReplyRestorer::restore_whole() never throws, whatever the body.
// Inputs are bounded at 64 KiB.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/pseudonyms/reply_restorer.h"

namespace {

using promptwall::gateway::Pseudonym;
using promptwall::gateway::PseudonymSpellings;
using promptwall::gateway::ReplyRestorer;

void require(bool ok) {
  if (!ok) std::abort();
}

const std::shared_ptr<const PseudonymSpellings>& spellings() {
  static const std::vector<Pseudonym> issued = {
      {"[CCCD-1]", "066087004913"}, {"[SĐT-2]", "0912 345 678"}, {"[TÊN-1]", "Nguyễn \"Văn\" A\\B"}};
  static const auto s = std::make_shared<const PseudonymSpellings>(issued);
  return s;
}

bool holds_label(std::string_view text) {
  for (const auto& s : spellings()->spellings())
    if (text.find(s.text) != std::string_view::npos) return true;
  return false;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > (64 << 10) + 2) return 0;
  const auto framing = static_cast<ReplyRestorer::Framing>(data[0] % 3);
  uint32_t seed = data[1] * 2654435761u + 1;
  const std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);

  ReplyRestorer whole(spellings(), framing);
  std::string once = whole.push(body);
  once += whole.finish();

  ReplyRestorer pieces(spellings(), framing);
  const bool byte_level = framing != ReplyRestorer::Framing::sse;
  const bool utf8 = valid_utf8(body);
  std::string split;
  for (size_t at = 0; at < body.size();) {
    seed = seed * 1103515245u + 12345u;
    const size_t n = 1 + (seed >> 16) % 17;
    const std::string got = pieces.push(body.substr(at, n));
    if (byte_level && utf8) require(valid_utf8(got));
    split += got;
    at += n;
  }
  split += pieces.finish();
  require(split == once);
  if (byte_level) require(!holds_label(split));

  (void)ReplyRestorer::restore_whole(*spellings(), framing, body);
  return 0;
}
