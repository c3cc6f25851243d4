// libFuzzer target for extractors/document_extractor: the whole in-process dispatch (file_type,
// every reader, poppler-cpp for PDFs, inner files and nesting), as the sandboxed worker runs it.
// Legacy .doc/.xls/.ppt go to antiword/catdoc child processes: slow, so the fuzzer spends little
// time there. Beyond "no crash" (document_invariants.h):
//   - parts valid UTF-8, anchors ordered inside their text, text within max_text_bytes;
//   - size and sha256 describe the input; an incomplete read has a detail;
//   - the detected type and the document's type agree.
#include <cstdint>
#include <string>
#include <string_view>

#include "extractors/document_extractor.h"
#include "extractors/file_type.h"
#include "fuzz/document_invariants.h"

using namespace promptwall::extractors;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 512 * 1024) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  static const DocumentExtractor extractor(promptwall::fuzz::fuzz_limits());
  const ExtractedDocument doc = extractor.extract(bytes, "input");
  FUZZ_REQUIRE(doc.size == size);
  FUZZ_REQUIRE(doc.sha256.size() == 64 && doc.sha256.find_first_not_of("0123456789abcdef") == std::string::npos);
  FUZZ_REQUIRE(doc.type == detect_file_type(bytes).type);
  if (!doc.complete()) FUZZ_REQUIRE(!doc.detail.empty());
  promptwall::fuzz::require_parts_hold(doc.parts, extractor.limits().max_text_bytes);
  return 0;
}
