// libFuzzer target for the zip formats: extractors/zip_archive (libzip with the overlap, name,
// count, ratio and budget checks around it), ooxml_reader and odf_reader (expat, entities refused),
// on bytes a client chose. The input is opened as a zip; a docx/xlsx/pptx or odt/ods/odp (by
// file_type's rules) goes to its reader, any other zip has each entry read. Inner files
// (embeddings) are not read further: their bytes are checked against the budget instead.
// Beyond "no crash" (document_invariants.h):
//   - parts valid UTF-8, anchors ordered inside their text, text within max_text_bytes;
//   - a stop carries a detail;
//   - the inflated bytes counted never pass max_inflated_bytes by more than one read's worth
//     (the budget is checked as bytes come), and no entry read is larger than max_file_bytes;
//   - a refused archive lists no entries.
#include <cstdint>
#include <string>
#include <string_view>

#include "extractors/file_type.h"
#include "extractors/odf_reader.h"
#include "extractors/ooxml_reader.h"
#include "extractors/text_collector.h"
#include "extractors/zip_archive.h"
#include "fuzz/document_invariants.h"

using namespace promptwall::extractors;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 512 * 1024) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const ExtractionLimits limits = promptwall::fuzz::fuzz_limits();
  ReadBudget budget;
  TextCollector collector(limits.max_text_bytes);
  ReadContext ctx{limits, budget, [&](std::string_view file, std::string_view) {
                    FUZZ_REQUIRE(file.size() <= limits.max_file_bytes);
                    return ReadOutcome::ok();
                  }};
  ZipArchive zip(bytes, limits, budget);
  promptwall::fuzz::require_outcome_holds(zip.opened());
  if (!zip.opened().good()) {
    FUZZ_REQUIRE(zip.entries().empty());
    return 0;
  }
  FUZZ_REQUIRE(zip.entries().size() <= limits.max_entries);
  const FileType type = detect_file_type(bytes).type;
  ReadOutcome outcome;
  if (type == FileType::docx || type == FileType::xlsx || type == FileType::pptx) {
    outcome = read_ooxml(type, zip, collector, ctx);
  } else if (type == FileType::odt || type == FileType::ods || type == FileType::odp) {
    outcome = read_odf(type, zip, collector, ctx);
  } else {
    std::string entry;
    for (size_t i = 0; i < zip.entries().size() && outcome.good(); ++i) {
      outcome = zip.read(i, entry);
      if (outcome.good()) FUZZ_REQUIRE(entry.size() <= limits.max_file_bytes);
    }
  }
  promptwall::fuzz::require_outcome_holds(outcome);
  // One read may overshoot by the chunk it was counting when it stopped; never by a whole bomb.
  FUZZ_REQUIRE(budget.inflated_bytes <= limits.max_inflated_bytes + limits.max_file_bytes);
  promptwall::fuzz::require_parts_hold(collector.take(), limits.max_text_bytes);
  return 0;
}
