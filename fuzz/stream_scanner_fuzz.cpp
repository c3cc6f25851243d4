// libFuzzer target for classifiers/stream_scanner: any bytes, cut into chunks at the smallest size
// the rules allow and pushed in slices of a size the input picks, against one whole-text scan.
// The rules are a small pack of raw-view patterns with boundaries on both sides and no context
// words, so the margins are small (chunks of ~1.5 KB: a 4 KB input has several edges) and none of
// what stream_scanner.h lists as decided per chunk applies (no structure, no legacy view, no
// folding). Beyond "no crash, no sanitizer report", it checks:
//   - the pieces tile the input in order, each text the input's bytes there;
//   - every finding lies inside its piece; no (rule, span) is reported twice;
//   - the findings are exactly the whole-text scan's (rule, span, confidence, view), and so is the
//     first byte that is not UTF-8;
//   - the chunk scanned for a piece holds it.
// Input: byte 0 picks the push slice (1..256 bytes), the rest is the stream (at most 16 KiB).
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "classifiers/normalizer.h"
#include "classifiers/scanner.h"
#include "classifiers/stream_scanner.h"
#include "rules/pack_loader.h"
#include "rules/ruleset.h"

namespace {

using namespace promptwall;

void require(bool ok) {
  if (!ok) std::abort();
}

constexpr std::string_view kPack = R"(pack: fuzz
version: '1'
rules:
  - id: f.id12
    description: twelve digits
    category: national_id
    severity: high
    action: redact
    patterns: ['{b}(\d{12}){b}', '{b}(\d{3}[ .]\d{3}[ .]\d{3}[ .]\d{3}){b}']
    message: {vi: 'Số', en: 'Number'}
    examples: {match: ['x 001203012345 y'], ignore: ['x 00120301234 y']}
  - id: f.phone
    description: a phone number
    category: phone
    severity: medium
    action: redact
    patterns: ['{b}(0\d{2,3}[ .-]?\d{3,4}[ .-]?\d{3,4}){b}']
    message: {vi: 'Số', en: 'Number'}
    examples: {match: ['gọi 0912 345 678 nhé'], ignore: ['gọi 12 nhé']}
  - id: f.stamp
    description: a stamp word
    category: classification_marking
    severity: critical
    action: block
    patterns: ['{b}(MẬT|TỐI MẬT|TUYỆT MẬT){b}']
    message: {vi: 'Mật', en: 'Secret'}
    examples: {match: ['TỐI MẬT'], ignore: ['mật ong']}
)";

const std::shared_ptr<const RuleSet>& rules() {
  static const std::shared_ptr<const RuleSet> set = [] {
    LoadedPack loaded = PackLoader::load_text("fuzz.yaml", std::string(kPack));
    require(loaded.pack.has_value());
    CompileResult compiled = RuleSetCompiler(std::make_shared<const Normalizer>()).compile({*loaded.pack});
    require(compiled.ruleset != nullptr);
    return compiled.ruleset;
  }();
  return set;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  rules();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 16 * 1024 + 1) return 0;
  static Scanner scanner(rules());
  const size_t slice = 1 + data[0];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  StreamScanner streamer(scanner, StreamScanner::minimum_chunk_bytes(*rules()));
  using Key = std::tuple<std::string, uint64_t, uint64_t, double, ViewKind>;
  std::vector<Key> streamed;
  std::set<std::tuple<std::string, uint64_t, uint64_t>> seen;
  std::optional<uint64_t> invalid;
  uint64_t tiled = 0;
  auto sink = [&](const StreamPiece& piece) {
    require(piece.offset == tiled);
    require(piece.offset + piece.text.size() <= text.size());
    require(piece.text == text.substr(piece.offset, piece.text.size()));
    require(piece.scanned_begin <= piece.offset && piece.offset + piece.text.size() <= piece.scanned_end);
    tiled += piece.text.size();
    for (const Finding& f : piece.findings) {
      require(f.span.begin < f.span.end && f.span.end <= piece.text.size());
      const uint64_t b = piece.offset + f.span.begin, e = piece.offset + f.span.end;
      require(seen.emplace(f.rule_id, b, e).second);
      streamed.emplace_back(f.rule_id, b, e, f.confidence, f.view);
    }
    if (piece.invalid_utf8_at) {
      require(!invalid);
      invalid = piece.offset + *piece.invalid_utf8_at;
    }
  };
  for (size_t at = 0; at < text.size(); at += slice) streamer.push(text.substr(at, slice), sink);
  streamer.finish(sink);
  require(tiled == text.size());

  const ScanResult whole = scanner.scan(text);
  std::vector<Key> expected;
  for (const Finding& f : whole.findings)
    expected.emplace_back(f.rule_id, f.span.begin, f.span.end, f.confidence, f.view);
  require(streamed == expected);
  require(invalid.has_value() == whole.invalid_utf8_at.has_value());
  if (invalid) require(*invalid == *whole.invalid_utf8_at);
  return 0;
}
