#include "extractors/text_collector.h"

#include <cstdint>

namespace promptwall::extractors {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The length of the valid UTF-8 sequence at s[i], or 0 (overlongs, surrogates and code points past
// U+10FFFF are invalid, as the classifiers' Normalizer judges them).
size_t valid_sequence(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  const uint8_t c = b(0);
  if (c < 0x80) return 1;
  const auto cont = [&](size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

// `s` with every invalid UTF-8 byte replaced by U+FFFD.
std::string repaired(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = valid_sequence(s, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace

TextCollector::TextCollector(uint64_t max_text_bytes) : max_bytes_(max_text_bytes) {}

std::string TextCollector::inner_path() const {
  std::string path;
  for (const auto& name : inner_) {
    if (!path.empty()) path += '/';
    path += name;
  }
  return path;
}

void TextCollector::begin_part(SpanPlace place, std::string source) {
  if (!parts_.empty() && parts_.back().text.empty()) parts_.pop_back();
  place.inner = inner_path();
  parts_.push_back(TextPart{place, std::move(source), {}, {}});
}

TextPart& TextCollector::current() {
  if (parts_.empty()) begin_part(SpanPlace{}, "");
  return parts_.back();
}

void TextCollector::text(std::string_view utf8) {
  if (full_ || utf8.empty()) return;
  TextPart& part = current();
  std::string& out = part.text;
  const size_t before = out.size();
  out.reserve(out.size() + utf8.size());
  out += repaired(utf8);
  bytes_ += out.size() - before;
  if (bytes_ > max_bytes_) {
    // Keep the part valid UTF-8 and within the limit: cut back to a character boundary.
    size_t excess = bytes_ - max_bytes_;
    size_t cut = out.size() - std::min(excess, out.size() - 0);
    while (cut > 0 && (static_cast<uint8_t>(out[cut]) & 0xC0) == 0x80) --cut;
    bytes_ -= out.size() - cut;
    out.resize(cut);
    full_ = true;
  }
}

void TextCollector::end_paragraph() {
  if (full_ || parts_.empty()) return;
  std::string& t = parts_.back().text;
  if (t.empty() || t.back() == '\n') return;
  t += '\n';
  ++bytes_;
}

void TextCollector::end_cell() {
  if (full_) return;
  current().text += '\t';
  ++bytes_;
}

void TextCollector::anchor(SpanPlace place) {
  if (full_) return;
  TextPart& part = current();
  place.inner = inner_path();
  const auto offset = static_cast<uint32_t>(part.text.size());
  // A later anchor at the same offset replaces the earlier one (nothing was written under it).
  if (!part.anchors.empty() && part.anchors.back().offset == offset) {
    part.anchors.back().place = std::move(place);
    return;
  }
  if (part.anchors.empty() && offset > 0) part.anchors.push_back(Anchor{0, part.place});
  part.anchors.push_back(Anchor{offset, std::move(place)});
}

size_t TextCollector::enter_inner(std::string_view name) {
  // A name is the file's own bytes (a mail attachment's raw 8-bit filename): places stay UTF-8.
  inner_.push_back(repaired(name));
  return inner_.size();
}

void TextCollector::leave_inner() {
  if (!inner_.empty()) inner_.pop_back();
}

std::vector<TextPart> TextCollector::take() {
  if (!parts_.empty() && parts_.back().text.empty()) parts_.pop_back();
  std::vector<TextPart> out = std::move(parts_);
  parts_.clear();
  return out;
}

}  // namespace promptwall::extractors
