#include "extractors/pdf_reader.h"

#include <poppler-document.h>
#include <poppler-embedded-file.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <chrono>
#include <climits>
#include <memory>
#include <mutex>
#include <string>

namespace promptwall::extractors {

namespace {

constexpr size_t kEofWindow = 1024;  // where %%EOF must be, from the end

void discard_poppler_message(const std::string&, void*) {}

void silence_poppler() {
  static std::once_flag once;
  std::call_once(once, [] { poppler::set_debug_error_function(&discard_poppler_message, nullptr); });
}

std::string utf8(const poppler::ustring& s) {
  const poppler::byte_array bytes = s.to_utf8();
  return std::string(bytes.begin(), bytes.end());
}

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

ReadOutcome text_too_big() { return ReadOutcome::stop(Unscannable::too_big, "text over the max_text_bytes limit"); }

// One page's text, a paragraph per non-blank line. Returns the number of lines written.
size_t write_page(const poppler::page& page, uint32_t number, size_t prominent_left, TextCollector& out) {
  const std::string text = utf8(page.text(poppler::rectf(), poppler::page::physical_layout));
  size_t lines = 0;
  bool anchored = false;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string_view line = trim(std::string_view(text).substr(at, end - at));
    at = end + 1;
    if (line.empty()) continue;
    if (!anchored || (prominent_left > 0 && lines == prominent_left)) {
      // The page's anchor, and on page 1 a second one where the prominent lines end.
      out.anchor(SpanPlace{Place::body, number, "", "", lines < prominent_left});
      anchored = true;
    }
    out.text(line);
    out.end_paragraph();
    ++lines;
  }
  return lines;
}

}  // namespace

ReadOutcome read_pdf(std::string_view bytes, TextCollector& out, ReadContext& ctx) {
  silence_poppler();
  const auto started = std::chrono::steady_clock::now();
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    return ReadOutcome::stop(Unscannable::too_big, "PDF over the 2 GiB poppler can load");
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (!doc) return ReadOutcome::stop(Unscannable::truncated, "PDF does not load (damaged or not a PDF)");
  if (doc->is_locked()) return ReadOutcome::stop(Unscannable::encrypted, "PDF needs a password to open");

  const int pages = doc->pages();
  bool any_text = false;
  out.begin_part(SpanPlace{Place::body, 1, "", "", true}, "pages");
  for (int i = 0; i < pages; ++i) {
    if (out.full()) return text_too_big();
    if (std::chrono::steady_clock::now() - started > ctx.limits.time_per_file)
      return ReadOutcome::stop(Unscannable::timeout, "PDF text not read within time_per_file, stopped at page " +
                                                         std::to_string(i + 1) + " of " + std::to_string(pages));
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) continue;  // a page poppler cannot build holds no text it could give
    const size_t prominent = i == 0 ? kPdfProminentLines : 0;
    if (write_page(*page, static_cast<uint32_t>(i + 1), prominent, out) > 0) any_text = true;
  }
  if (out.full()) return text_too_big();

  out.begin_part(SpanPlace{Place::properties}, "document info");
  for (const poppler::ustring& value :
       {doc->get_title(), doc->get_subject(), doc->get_author(), doc->get_keywords(), doc->get_creator()}) {
    const std::string v = utf8(value);
    if (trim(v).empty()) continue;
    out.text(trim(v));
    out.end_paragraph();
  }
  if (out.full()) return text_too_big();

  bool embedded = false;
  if (doc->has_embedded_files()) {
    for (poppler::embedded_file* file : doc->embedded_files()) {
      if (!file || !file->is_valid()) continue;
      embedded = true;
      // The declared size is the file's claim; the sandbox's memory limit bounds what data() inflates.
      if (file->size() > 0 && static_cast<uint64_t>(file->size()) > ctx.limits.max_file_bytes)
        return ReadOutcome::stop(Unscannable::too_big, "embedded file of " + std::to_string(file->size()) +
                                                           " bytes over max_file_bytes");
      const poppler::byte_array data = file->data();
      const ReadOutcome inner = ctx.read_inner(std::string_view(data.data(), data.size()), file->name());
      if (!inner.good()) return inner;
    }
  }
  // poppler rebuilds the cross-reference table of a damaged file and opens what it finds, so a file
  // cut short still loads (often without its fonts, so without text): the end-of-file marker a
  // writer puts last says whether the file is whole. Junk after it is allowed, as readers allow.
  if (bytes.substr(bytes.size() - std::min<size_t>(bytes.size(), kEofWindow)).find("%%EOF") == std::string_view::npos)
    return ReadOutcome::stop(Unscannable::truncated, "PDF without its %%EOF marker (cut short)");
  if (!any_text && pages > 0 && !embedded)
    return ReadOutcome::stop(Unscannable::image_only, std::to_string(pages) + " PDF page(s) with no text layer");
  return ReadOutcome::ok();
}

}  // namespace promptwall::extractors
