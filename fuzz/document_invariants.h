// What every extraction must hold whatever the bytes were (extracted_document.h's invariants),
// checked by the document fuzz targets on every input: a broken invariant aborts, so libFuzzer
// keeps the input as a crash like any sanitizer report.
//   - every part's text is valid UTF-8 (checked here with ICU, apart from the readers' repair);
//   - anchors in ascending offset order, inside [0, text.size()], the first at 0;
//   - the text of all parts within max_text_bytes;
//   - a stop's detail is set (a refusal without a reason cannot be audited); a complete read has
//     no detail that calls it a stop.
// Header-only so each target stays one .cpp plus the parser's own sources.
#pragma once

#include <unicode/utf8.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "extractors/extracted_document.h"
#include "extractors/format_reader.h"

namespace promptwall::fuzz {

// Names the broken invariant before aborting, so a crash file's log says which one (a macro:
// clang 14 has no std::source_location).
#define FUZZ_REQUIRE(condition) ::promptwall::fuzz::require_at((condition), #condition, __FILE__, __LINE__)

inline void require_at(bool ok, const char* condition, const char* file, int line) {
  if (ok) return;
  std::fprintf(stderr, "invariant failed at %s:%d: %s\n", file, line, condition);
  std::abort();
}

inline bool valid_utf8(const std::string& s) {
  int32_t i = 0;
  const auto n = static_cast<int32_t>(s.size());
  while (i < n) {
    UChar32 c;
    U8_NEXT(s.data(), i, n, c);
    if (c < 0) return false;
  }
  return true;
}

inline void require_parts_hold(const std::vector<extractors::TextPart>& parts, uint64_t max_text_bytes) {
  uint64_t total = 0;
  for (const auto& part : parts) {
    FUZZ_REQUIRE(valid_utf8(part.text));
    FUZZ_REQUIRE(valid_utf8(part.place.inner) && valid_utf8(part.place.cell));
    total += part.text.size();
    if (!part.anchors.empty()) FUZZ_REQUIRE(part.anchors.front().offset == 0);
    uint32_t previous = 0;
    for (const auto& anchor : part.anchors) {
      FUZZ_REQUIRE(anchor.offset >= previous && anchor.offset <= part.text.size());
      previous = anchor.offset;
    }
    // place_at() on every boundary: the last anchor at or before it, never past the text.
    (void)part.place_at(0);
    (void)part.place_at(part.text.size());
  }
  FUZZ_REQUIRE(total <= max_text_bytes);
}

inline void require_outcome_holds(const extractors::ReadOutcome& outcome) {
  if (outcome.good()) return;
  FUZZ_REQUIRE(!outcome.detail.empty());
  // A cause the policy has a key for (unscannable_from_string takes no "none").
  FUZZ_REQUIRE(extractors::unscannable_from_string(extractors::to_string(outcome.cause)) == outcome.cause);
}

// Limits small enough that a fuzzer spends its time on structure, not on inflating megabytes:
// the same code paths as the defaults, reached sooner.
inline extractors::ExtractionLimits fuzz_limits() {
  extractors::ExtractionLimits limits;
  limits.max_file_bytes = 4u << 20;
  limits.max_text_bytes = 1u << 20;
  limits.max_entries = 256;
  limits.max_inflated_bytes = 8u << 20;
  limits.time_per_file = std::chrono::milliseconds(2'000);
  return limits;
}

}  // namespace promptwall::fuzz
