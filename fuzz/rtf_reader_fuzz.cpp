// libFuzzer target for extractors/rtf_reader: the hand-written RTF reader (groups, control words
// and their parameters, destinations, \'hh in ICU code pages, \uN with \ucN fallbacks, \binN).
// Objects embedded in the RTF are not read further here. Beyond "no crash"
// (document_invariants.h):
//   - parts valid UTF-8, anchors ordered inside their text, text within max_text_bytes;
//   - a stop carries a detail;
//   - the reader is linear: plain text in a group is never multiplied (the text it writes is at
//     most 4 bytes of UTF-8 per input byte, plus one paragraph or cell break per input byte).
#include <cstdint>
#include <string>
#include <string_view>

#include "extractors/rtf_reader.h"
#include "extractors/text_collector.h"
#include "fuzz/document_invariants.h"

using namespace promptwall::extractors;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256 * 1024) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const ExtractionLimits limits = promptwall::fuzz::fuzz_limits();
  ReadBudget budget;
  TextCollector collector(limits.max_text_bytes);
  ReadContext ctx{limits, budget, [&](std::string_view file, std::string_view) {
                    FUZZ_REQUIRE(file.size() <= size);
                    return ReadOutcome::ok();
                  }};
  const ReadOutcome outcome = read_rtf(bytes, collector, ctx);
  promptwall::fuzz::require_outcome_holds(outcome);
  const auto parts = collector.take();
  uint64_t text = 0;
  for (const auto& p : parts) text += p.text.size();
  FUZZ_REQUIRE(text <= 5 * static_cast<uint64_t>(size) + 16);
  promptwall::fuzz::require_parts_hold(parts, limits.max_text_bytes);
  return 0;
}
