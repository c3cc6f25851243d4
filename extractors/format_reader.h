// The contract every format reader (ooxml_reader.h, odf_reader.h, pdf_reader.h, ...) keeps:
//
//   ReadOutcome read_<format>(bytes, collector, context)
//
// A reader is pure and synchronous: bytes in, text into the TextCollector, an outcome out. It
// trusts nothing in the file (sizes, offsets, counts, nesting) and never throws for a bad file:
// a file it cannot read completely is an outcome with its cause. It does no I/O beyond what its
// library needs (legacy_office_reader.h runs Debian's antiword/catdoc as child processes); the
// sandbox (sandbox/) bounds memory and time around all of them.
//
// Files inside a file (zip entries, e-mail attachments, an OLE-embedded package) are handed back
// to DocumentExtractor through ReadContext::read_inner, which detects their type, counts nesting
// and prefixes their places.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "extractors/extracted_document.h"
#include "extractors/extraction_limits.h"
#include "extractors/text_collector.h"

namespace promptwall::extractors {

struct ReadOutcome {
  Unscannable cause = Unscannable::none;
  std::string detail;  // English, no document text (see extracted_document.h)

  static ReadOutcome ok() { return {}; }
  static ReadOutcome stop(Unscannable cause, std::string detail) { return {cause, std::move(detail)}; }
  bool good() const { return cause == Unscannable::none; }
};

// Budget shared by everything read for one top file (inner files included).
struct ReadBudget {
  uint64_t inflated_bytes = 0;  // counted by ZipArchive against limits.max_inflated_bytes
};

struct ReadContext {
  const ExtractionLimits& limits;
  ReadBudget& budget;
  // Reads a file found inside the current one (type from its bytes), its text into the same
  // collector under `name`. Returns its outcome; a reader stops at the first bad one.
  std::function<ReadOutcome(std::string_view bytes, std::string_view name)> read_inner;
};

}  // namespace promptwall::extractors
