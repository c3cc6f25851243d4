// libFuzzer target for classifiers/structure_map: the structure pass that reads tables and
// key-value forms out of any text a request carries (a paste is shaped by whoever sends it).
// Input: the segment's text. Beyond "no crash, no sanitizer report", it checks the contract of
// structure_map.h on every map it reads:
//   - fields are ordered by value.begin, and every value, key and parent span lies inside the text
//     with begin <= end;
//   - field_at() of a field's own value returns a field whose value holds that span;
//   - may_hold_field() never turns down a span that a field holds (its value, its first and its
//     last byte): the scanner skips the read on its word;
//   - label() and label_parts() of every field are valid to call (the folding runs on the key
//     and parent bytes the spans point at) and split_key() never grows a key by more than one
//     space per byte.
// Inputs are bounded at 16 KiB: the pass is linear, and longer texts only slow the search down.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "classifiers/normalizer.h"
#include "classifiers/structure_map.h"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

bool inside(const promptwall::Span& span, size_t size) { return span.begin <= span.end && span.end <= size; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16 * 1024) return 0;
  static const promptwall::Normalizer normalizer;  // built once: ICU tables, no per-input state
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const promptwall::StructureReader reader(normalizer);
  const promptwall::StructureMap map = reader.read(text);
  const bool markup = promptwall::StructureReader::find_markup(text).any();
  uint32_t previous = 0;
  for (const auto& field : map.fields()) {
    require(inside(field.value, size) && inside(field.key, size) && inside(field.parent, size));
    require(field.value.begin >= previous);
    previous = field.value.begin;
    const promptwall::StructureField* found = map.field_at(field.value);
    require(found != nullptr && found->value.begin <= field.value.begin && field.value.end <= found->value.end);
    if (field.value.end > field.value.begin) {
      using promptwall::Span;
      const uint32_t b = field.value.begin, e = field.value.end;
      for (const Span span : {field.value, Span{b, b + 1}, Span{e - 1, e}})
        require(promptwall::StructureReader::may_hold_field(text, span, markup));
    }
    (void)reader.label(text, field);
    (void)reader.label_parts(text, field);
    const std::string_view key = text.substr(field.key.begin, field.key.end - field.key.begin);
    require(promptwall::StructureReader::split_key(key).size() <= 2 * key.size());
  }
  return 0;
}
