// Test support for the zip-based readers (ooxml_reader_test, odf_reader_test): a fixture read
// through a reader with a ReadContext that records the inner files handed back.
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "extractors/format_reader.h"
#include "extractors/zip_archive.h"

namespace promptwall::extractors::testing {

inline std::string office_fixture(const std::string& relative) {
  std::ifstream in(std::string(PROMPTWALL_SOURCE_DIR) + "/tests/data/documents/" + relative, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct OfficeRead {
  ReadOutcome outcome;
  std::vector<TextPart> parts;
  std::vector<std::pair<std::string, std::string>> inner;  // (name, bytes) handed to read_inner

  // The parts read from `source` ("word/header1.xml"), joined.
  std::string text_of(const std::string& source) const {
    std::string out;
    for (const auto& p : parts) {
      if (p.source == source) out += p.text;
    }
    return out;
  }
  const TextPart* part(const std::string& source) const {
    for (const auto& p : parts) {
      if (p.source == source) return &p;
    }
    return nullptr;
  }
  // The texts of all parts at `place`, joined.
  std::string text_at(Place place) const {
    std::string out;
    for (const auto& p : parts) {
      if (p.place.place == place) out += p.text;
    }
    return out;
  }
  // Every byte run of `text` in any part, with its place (the place of its first byte).
  std::vector<SpanPlace> places_of(const std::string& text) const {
    std::vector<SpanPlace> out;
    for (const auto& p : parts) {
      for (size_t at = p.text.find(text); at != std::string::npos; at = p.text.find(text, at + 1)) {
        out.push_back(p.place_at(at));
      }
    }
    return out;
  }
};

using ZipReader = std::function<ReadOutcome(FileType, ZipArchive&, TextCollector&, ReadContext&)>;

inline OfficeRead read_office(const std::string& bytes, FileType type, const ZipReader& reader,
                              ExtractionLimits limits = {}) {
  ReadBudget budget;
  OfficeRead result;
  ReadContext ctx{limits, budget, [&](std::string_view inner, std::string_view name) {
                    result.inner.emplace_back(std::string(name), std::string(inner));
                    return ReadOutcome::ok();
                  }};
  TextCollector collector(limits.max_text_bytes);
  ZipArchive zip(bytes, limits, budget);
  result.outcome = zip.opened().good() ? reader(type, zip, collector, ctx) : zip.opened();
  result.parts = collector.take();
  return result;
}

}  // namespace promptwall::extractors::testing
