// libFuzzer target for extractors/file_type: what a file is, from bytes a client chose (a zip's
// entries and [Content_Types].xml, an OLE2 directory, mail headers, charsets). Beyond "no crash":
//   - detection is a pure function (the same bytes twice give the same answer);
//   - `encrypted` is only said of an OOXML type (an OLE2 EncryptedPackage);
//   - what starts with "%PDF-" is a PDF, whatever follows;
//   - every type has a spelling and a media type.
#include <cstdint>
#include <string>
#include <string_view>

#include "extractors/file_type.h"
#include "fuzz/document_invariants.h"

using namespace promptwall::extractors;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256 * 1024) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const DetectedType first = detect_file_type(bytes);
  const DetectedType again = detect_file_type(bytes);
  FUZZ_REQUIRE(first.type == again.type && first.encrypted == again.encrypted);
  if (first.encrypted)
    FUZZ_REQUIRE(first.type == FileType::docx || first.type == FileType::xlsx || first.type == FileType::pptx);
  if (bytes.substr(0, 5) == "%PDF-") FUZZ_REQUIRE(first.type == FileType::pdf);
  FUZZ_REQUIRE(!to_string(first.type).empty());
  FUZZ_REQUIRE(!media_type(first.type).empty());
  return 0;
}
