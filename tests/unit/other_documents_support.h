// What the tests of the pdf, rtf, e-mail, text-file and legacy Office readers share: the fixtures
// of tests/data/documents/other/ (make_other_documents.py), and a ReadContext whose read_inner
// records the files handed back instead of reading them (DocumentExtractor's part, tested there).
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "extractors/format_reader.h"

namespace promptwall::test {

// What a reader left: its outcome and the parts it wrote into a fresh collector.
struct ReaderRun {
  extractors::ReadOutcome outcome;
  std::vector<extractors::TextPart> parts;
};

// Runs `reader(collector)` on a collector of `max_text` bytes (each reader test's `read()`).
template <class Reader>
ReaderRun run_reader(uint64_t max_text, Reader&& reader) {
  extractors::TextCollector out(max_text);
  ReaderRun r;
  r.outcome = reader(out);
  r.parts = out.take();
  return r;
}

inline std::string other_document(const std::string& name) {
  std::ifstream in(std::string(PROMPTWALL_SOURCE_DIR) + "/tests/data/documents/other/" + name, std::ios::binary);
  REQUIRE(in.good());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct InnerFile {
  std::string name;
  std::string bytes;
};

// A reader's context with the default limits; inner files are recorded, and answered with `answer`.
struct RecordingContext {
  extractors::ExtractionLimits limits;
  extractors::ReadBudget budget;
  std::vector<InnerFile> inner;
  extractors::ReadOutcome answer;
  extractors::ReadContext ctx{limits, budget, [this](std::string_view bytes, std::string_view name) {
                                inner.push_back({std::string(name), std::string(bytes)});
                                return answer;
                              }};
};

// All the text of the parts at `place`, in order.
inline std::string text_at(const std::vector<extractors::TextPart>& parts, extractors::Place place) {
  std::string out;
  for (const auto& p : parts)
    if (p.place.place == place) out += p.text;
  return out;
}

}  // namespace promptwall::test
