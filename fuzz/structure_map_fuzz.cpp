// libFuzzer target for classifiers/structure_map: the structure pass that reads tables and
// key-value forms out of any text a request carries (a paste is shaped by whoever sends it).
// Input: the segment's text. Beyond "no crash, no sanitizer report", it checks the contract of
// structure_map.h on every map it reads:
//   - fields are ordered by value.begin, and every value, key and parent span lies inside the text
//     with begin <= end;
//   - field_at() of a field's own value returns a field whose value holds that span;
//   - a StructureLookup, and the local reads it is made of (read_around, each line form apart),
//     give the whole read's field for every field's value, first and last byte, and for spans at
//     every 7th byte (the scanner judges context by the lookup);
//   - label() and label_parts() of every field are valid to call (the folding runs on the key
//     and parent bytes the spans point at) and split_key() never grows a key by more than one
//     space per byte.
// Inputs are bounded at 16 KiB: the pass is linear, and longer texts only slow the search down.
#include <cstdint>
#include <cstdlib>
#include <optional>
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
  // The lookup a scan makes (which turns to a whole read once its local reads cover the text),
  // and the local read on its own, with the markup read once.
  promptwall::StructureLookup lookup(normalizer, text);
  const promptwall::StructureMap markup = reader.read_markup(text);
  using promptwall::Span;
  using promptwall::StructureField;
  auto same = [](const StructureField* whole, const StructureField* local) {
    require((local != nullptr) == (whole != nullptr));
    if (whole)
      require(local->value == whole->value && local->key == whole->key && local->parent == whole->parent &&
              local->form == whole->form && local->bounded == whole->bounded && local->column == whole->column);
  };
  auto same_as_whole_read = [&](Span span) {
    const StructureField* whole = map.field_at(span);
    const std::optional<StructureField> looked_up = lookup.field_at(span);
    same(whole, looked_up ? &*looked_up : nullptr);
    using Form = promptwall::StructureReader::LineForm;
    const StructureField* local = markup.field_at(span);
    const Form forms[] = {Form::table, Form::key_line, Form::list};
    promptwall::StructureReader::LocalRead reads[3];  // `local` may point into any of them
    for (size_t f = 0; f < 3; ++f) {
      reads[f] = reader.read_around(text, span, forms[f]);
      const StructureField* in_form = reads[f].fields.field_at(span);
      require(!in_form || (reads[f].exact.begin <= span.begin && span.end <= reads[f].exact.end));
      local = promptwall::StructureMap::preferred(local, in_form);
    }
    same(whole, local);
  };
  for (uint32_t b = 0; b < size; b += 7)
    for (uint32_t len : {1u, 4u, 12u})
      if (b + len <= size) same_as_whole_read(Span{b, b + len});
  uint32_t previous = 0;
  for (const auto& field : map.fields()) {
    require(inside(field.value, size) && inside(field.key, size) && inside(field.parent, size));
    require(field.value.begin >= previous);
    previous = field.value.begin;
    const promptwall::StructureField* found = map.field_at(field.value);
    require(found != nullptr && found->value.begin <= field.value.begin && field.value.end <= found->value.end);
    if (field.value.end > field.value.begin) {
      const uint32_t b = field.value.begin, e = field.value.end;
      for (const Span span : {field.value, Span{b, b + 1}, Span{e - 1, e}}) same_as_whole_read(span);
    }
    (void)reader.label(text, field);
    (void)reader.label_parts(text, field);
    const std::string_view key = text.substr(field.key.begin, field.key.end - field.key.begin);
    require(promptwall::StructureReader::split_key(key).size() <= 2 * key.size());
  }
  return 0;
}
