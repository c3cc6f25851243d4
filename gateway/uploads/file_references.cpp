#include "gateway/uploads/file_references.h"

#include <optional>
#include <string_view>

#include "gateway/uploads/file_registry.h"

namespace promptwall::gateway {
namespace {

// One step of a location as SegmentExtractor writes it: `key`, `[3]`, `[*]` (a withheld key) or
// `["a.b"]` (a quoted key, kept with its quotes: no file field is spelt that way).
struct Step {
  std::string_view text;
  bool index = false;
};

std::optional<std::vector<Step>> steps_of(std::string_view loc) {
  std::vector<Step> out;
  size_t i = 0;
  while (i < loc.size()) {
    if (loc[i] == '.') {
      ++i;
      continue;
    }
    if (loc[i] == '[') {
      if (i + 1 < loc.size() && loc[i + 1] == '"') {
        size_t j = i + 2;
        while (j < loc.size() && loc[j] != '"') j += loc[j] == '\\' ? 2 : 1;
        if (j + 1 >= loc.size() || loc[j + 1] != ']') return std::nullopt;
        out.push_back({loc.substr(i, j + 2 - i), false});
        i = j + 2;
        continue;
      }
      const size_t close = loc.find(']', i);
      if (close == std::string_view::npos) return std::nullopt;
      const std::string_view inside = loc.substr(i + 1, close - i - 1);
      const bool digits = !inside.empty() && inside.find_first_not_of("0123456789") == std::string_view::npos;
      out.push_back({digits ? inside : loc.substr(i, close + 1 - i), digits});
      i = close + 1;
      continue;
    }
    const size_t end = loc.find_first_of(".[", i);
    out.push_back({loc.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i), false});
    i = end == std::string_view::npos ? loc.size() : end;
  }
  return out;
}

bool key_is(const std::vector<Step>& s, size_t from_end, std::string_view key) {
  return s.size() > from_end && !s[s.size() - 1 - from_end].index && s[s.size() - 1 - from_end].text == key;
}
bool index_at(const std::vector<Step>& s, size_t from_end) { return s.size() > from_end && s[s.size() - 1 - from_end].index; }

bool under(const std::vector<Step>& s, std::string_view key) {
  for (const Step& step : s)
    if (!step.index && step.text == key) return true;
  return false;
}

bool cites_openai(const std::vector<Step>& s) {
  if (under(s, "annotations")) return false;
  if (key_is(s, 0, "file_id") || key_is(s, 0, "input_file_id") || key_is(s, 0, "training_file") ||
      key_is(s, 0, "validation_file"))
    return true;
  return index_at(s, 0) && key_is(s, 1, "file_ids");
}

bool cites_anthropic(const std::vector<Step>& s) {
  if (!key_is(s, 0, "file_id")) return false;
  if (key_is(s, 1, "source")) return true;
  // messages[i].content[j].file_id: a container_upload block.
  return s.size() == 5 && s[0].text == "messages" && !s[0].index && s[1].index && s[2].text == "content" &&
         !s[2].index && s[3].index;
}

bool cites_gemini(const std::vector<Step>& s) {
  return (key_is(s, 0, "file_uri") && key_is(s, 1, "file_data")) || (key_is(s, 0, "fileUri") && key_is(s, 1, "fileData"));
}

bool cites_chatgpt(const std::vector<Step>& s) {
  if (key_is(s, 0, "asset_pointer")) return true;
  return key_is(s, 0, "id") && index_at(s, 1) && key_is(s, 2, "attachments");
}

}  // namespace

std::vector<FileReference> find_file_references(Schema schema, const std::vector<Segment>& segments) {
  bool (*cites)(const std::vector<Step>&) = nullptr;
  switch (schema) {
    case Schema::openai: cites = cites_openai; break;
    case Schema::anthropic: cites = cites_anthropic; break;
    case Schema::gemini: cites = cites_gemini; break;
    case Schema::chatgpt_web: cites = cites_chatgpt; break;
    case Schema::json:
    case Schema::text:
    case Schema::gemini_web: return {};
  }
  std::vector<FileReference> out;
  for (const Segment& seg : segments) {
    if (seg.kind != Segment::Kind::value || seg.encoding != Segment::Encoding::json_string || !seg.enclosing.empty())
      continue;
    const auto steps = steps_of(seg.location);
    if (!steps || !cites(*steps)) continue;
    std::string id = normalise_file_id(schema, seg.text);
    if (id.empty()) continue;
    out.push_back({std::move(id), seg.location});
  }
  return out;
}

}  // namespace promptwall::gateway
