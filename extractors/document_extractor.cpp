#include "extractors/document_extractor.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

#include <openssl/sha.h>

#include "extractors/file_type.h"
#include "extractors/format_reader.h"
#include "extractors/legacy_office_reader.h"
#include "extractors/mime_message_reader.h"
#include "extractors/odf_reader.h"
#include "extractors/ooxml_reader.h"
#include "extractors/pdf_reader.h"
#include "extractors/rtf_reader.h"
#include "extractors/text_collector.h"
#include "extractors/text_file_reader.h"
#include "extractors/zip_archive.h"

namespace promptwall::extractors {

namespace {

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  std::string hex(2 * SHA256_DIGEST_LENGTH, '0');
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return hex;
}

std::string mib(uint64_t bytes) {
  char out[32];
  std::snprintf(out, sizeof out, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return out;
}

// One extraction: the collector, the budget, and the recursion through inner files.
class Extraction {
 public:
  explicit Extraction(const ExtractionLimits& limits)
      : limits_(limits), collector_(limits.max_text_bytes),
        context_{limits_, budget_, [this](std::string_view bytes, std::string_view name) { return read_inner(bytes, name); }} {}

  // The top file.
  ReadOutcome read_top(std::string_view bytes, FileType& type) {
    const DetectedType detected = detect_file_type(bytes);
    type = detected.type;
    if (bytes.size() > limits_.max_file_bytes)
      return ReadOutcome::stop(Unscannable::too_big, "the file is " + mib(bytes.size()) + ", over max_file_bytes (" +
                                                         mib(limits_.max_file_bytes) + ")");
    return read(detected, bytes);
  }

  TextCollector& collector() { return collector_; }

 private:
  ReadOutcome read(const DetectedType& detected, std::string_view bytes) {
    if (detected.encrypted) return ReadOutcome::stop(Unscannable::encrypted, "an encrypted Office package");
    switch (detected.type) {
      case FileType::text:
      case FileType::html:
      case FileType::xml:
      case FileType::json:
        return read_text_file(detected.type, bytes, collector_, context_);
      case FileType::rtf:
        return read_rtf(bytes, collector_, context_);
      case FileType::pdf:
        return read_pdf(bytes, collector_, context_);
      case FileType::eml:
        return read_mime_message(bytes, collector_, context_);
      case FileType::doc:
      case FileType::xls:
      case FileType::ppt:
        return read_legacy_office(detected.type, bytes, collector_, context_);
      case FileType::docx:
      case FileType::xlsx:
      case FileType::pptx:
      case FileType::odt:
      case FileType::ods:
      case FileType::odp:
      case FileType::zip: {
        ZipArchive zip(bytes, limits_, budget_);
        if (!zip.opened().good()) return zip.opened();
        if (detected.type == FileType::zip) return read_archive(zip);
        if (detected.type == FileType::odt || detected.type == FileType::ods || detected.type == FileType::odp)
          return read_odf(detected.type, zip, collector_, context_);
        return read_ooxml(detected.type, zip, collector_, context_);
      }
      case FileType::image:
        return ReadOutcome::stop(Unscannable::image_only, "an image: no text layer (OCR is not done)");
      case FileType::unknown:
        break;
    }
    return ReadOutcome::stop(Unscannable::unknown_type, "the bytes name no format the gateway reads");
  }

  // A plain archive: every entry is a file of its own (its name is text too).
  ReadOutcome read_archive(ZipArchive& zip) {
    std::string bytes;
    const auto& entries = zip.entries();
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].directory) {
        collector_.begin_part(SpanPlace{Place::file_name}, "zip entry " + std::to_string(i + 1));
        collector_.text(entries[i].name);
        collector_.end_paragraph();
        continue;
      }
      if (ReadOutcome read = zip.read(i, bytes); !read.good()) return read;
      ReadOutcome inner = read_inner(bytes, entries[i].name);
      if (!inner.good()) {
        inner.detail = "zip entry " + std::to_string(i + 1) + ": " + inner.detail;
        return inner;
      }
    }
    return ReadOutcome::ok();
  }

  // A file inside the file: its name is a file_name part, its text is placed under its path.
  ReadOutcome read_inner(std::string_view bytes, std::string_view name) {
    if (collector_.depth() >= limits_.max_nesting)
      return ReadOutcome::stop(Unscannable::too_deep, "files nested deeper than max_nesting (" +
                                                          std::to_string(limits_.max_nesting) + ")");
    if (bytes.size() > limits_.max_file_bytes)
      return ReadOutcome::stop(Unscannable::too_big, "an inner file of " + mib(bytes.size()) +
                                                         ", over max_file_bytes (" + mib(limits_.max_file_bytes) + ")");
    // The name first, in the outer file's place: "lists/TỐI MẬT.xlsx" is text an AI reads.
    if (!name.empty()) {
      collector_.begin_part(SpanPlace{Place::file_name}, "file name");
      collector_.text(name);
      collector_.end_paragraph();
    }
    collector_.enter_inner(name.empty() ? std::string_view("(unnamed)") : name);
    collector_.begin_part(SpanPlace{Place::body}, "");
    const DetectedType detected = detect_file_type(bytes);
    ReadOutcome outcome = read(detected, bytes);
    collector_.leave_inner();
    return outcome;
  }

  const ExtractionLimits& limits_;
  ReadBudget budget_;
  TextCollector collector_;
  ReadContext context_;
};

}  // namespace

DocumentExtractor::DocumentExtractor(ExtractionLimits limits) : limits_(limits) {}

ExtractedDocument DocumentExtractor::extract(std::string_view bytes, std::string_view name) const {
  const auto start = std::chrono::steady_clock::now();
  ExtractedDocument doc;
  doc.name = std::string(name);
  doc.size = bytes.size();
  doc.sha256 = sha256_hex(bytes);

  Extraction extraction(limits_);
  ReadOutcome outcome;
  try {
    outcome = extraction.read_top(bytes, doc.type);
  } catch (const std::bad_alloc&) {
    outcome = ReadOutcome::stop(Unscannable::extractor_failed, "out of memory while reading");
  } catch (const std::exception&) {
    // Readers do not throw for a bad file; a library that does is a reader failure, not a crash.
    outcome = ReadOutcome::stop(Unscannable::extractor_failed, "reader error");
  }
  TextCollector& collector = extraction.collector();
  if (outcome.good() && collector.full())
    outcome = ReadOutcome::stop(Unscannable::too_big, "more than max_text_bytes (" + mib(limits_.max_text_bytes) +
                                                          ") of text");
  doc.unscannable = outcome.cause;
  doc.detail = std::move(outcome.detail);
  doc.parts = collector.take();
  for (const auto& part : doc.parts) {
    if (part.place.inner.empty()) doc.pages = std::max(doc.pages, part.place.page);
    for (const auto& a : part.anchors)
      if (a.place.inner.empty()) doc.pages = std::max(doc.pages, a.place.page);
  }
  doc.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return doc;
}

}  // namespace promptwall::extractors
