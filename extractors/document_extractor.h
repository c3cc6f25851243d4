// DocumentExtractor: one file's bytes in, its text out (ExtractedDocument), in-process.
//
//   bytes ─► detect_file_type() (magic bytes, never the name) ─► the format's reader
//   (ooxml_reader, odf_reader, pdf_reader, rtf_reader, mime_message_reader, legacy_office_reader,
//   text_file_reader; zip archives entry by entry) ─► TextCollector ─► ExtractedDocument
//
// Files inside files (archive entries, attachments) come back through ReadContext::read_inner:
// their names become file_name parts (scanned like any text), their text is placed under their
// path, nesting past max_nesting is too_deep, and the first inner file that cannot be read makes
// the whole file unscannable with its cause (a stamped file must not hide behind a broken one).
//
// This runs hostile input: in the gateway it runs only inside a sandboxed worker process
// (sandbox/extraction_pool.h), which adds the wall-clock, CPU and memory limits a library cannot
// enforce on itself. Thread-safe: extract() is const and keeps no state between calls.
#pragma once

#include <string_view>

#include "extractors/extracted_document.h"
#include "extractors/extraction_limits.h"

namespace promptwall::extractors {

class DocumentExtractor {
 public:
  explicit DocumentExtractor(ExtractionLimits limits = {});

  // `name` is the client's file name, recorded only (may be empty). Never throws for a bad file.
  ExtractedDocument extract(std::string_view bytes, std::string_view name) const;

  const ExtractionLimits& limits() const { return limits_; }

 private:
  ExtractionLimits limits_;
};

}  // namespace promptwall::extractors
