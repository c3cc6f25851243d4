// libFuzzer target for extractors/mime_message_reader: the MIME structure parser written by hand
// (boundaries, headers, encoded-words, RFC 2231 parameters, base64 and quoted-printable). Inner
// files (attachments) are not read further here; each one's name and bytes are checked as the
// dispatch would receive them. Beyond "no crash" (document_invariants.h):
//   - parts valid UTF-8, anchors ordered inside their text, text within max_text_bytes;
//   - a stop carries a detail; at most kMimeMaxParts attachments are handed on;
//   - every attachment's bytes and name are a decoding of the message (no larger than 4/3 of a
//     base64 source: they cannot exceed the message's own size).
#include <cstdint>
#include <string>
#include <string_view>

#include "extractors/mime_message_reader.h"
#include "extractors/text_collector.h"
#include "fuzz/document_invariants.h"

using namespace promptwall::extractors;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256 * 1024) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const ExtractionLimits limits = promptwall::fuzz::fuzz_limits();
  ReadBudget budget;
  TextCollector collector(limits.max_text_bytes);
  size_t inner = 0;
  ReadContext ctx{limits, budget, [&](std::string_view file, std::string_view name) {
                    ++inner;
                    FUZZ_REQUIRE(file.size() <= size);
                    FUZZ_REQUIRE(!name.empty());  // "attachment-N" when unnamed
                    return ReadOutcome::ok();
                  }};
  const ReadOutcome outcome = read_mime_message(bytes, collector, ctx);
  promptwall::fuzz::require_outcome_holds(outcome);
  FUZZ_REQUIRE(inner <= kMimeMaxParts);
  promptwall::fuzz::require_parts_hold(collector.take(), limits.max_text_bytes);
  return 0;
}
