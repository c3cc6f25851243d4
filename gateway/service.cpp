#include "gateway/service.h"

namespace promptwall::gateway {

std::string_view to_string(Schema s) {
  switch (s) {
    case Schema::openai: return "openai";
    case Schema::gemini: return "gemini";
    case Schema::anthropic: return "anthropic";
    case Schema::json: return "json";
    case Schema::text: return "text";
  }
  return "json";
}

std::optional<Schema> schema_from_string(std::string_view s) {
  for (Schema v : {Schema::openai, Schema::gemini, Schema::anthropic, Schema::json, Schema::text})
    if (to_string(v) == s) return v;
  return std::nullopt;
}

}  // namespace promptwall::gateway
