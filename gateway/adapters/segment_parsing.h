// Internal to gateway/adapters/: the pieces of segment extraction that the web apps' own shapes
// (webapp_segments.cpp) share with the API schemas (segment_extractor.cpp). The public interface is
// SegmentExtractor (segment_extractor.h); the invariants of an Extraction stated there hold for
// everything these return.
// Threads: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/adapters/segment_extractor.h"

namespace promptwall::gateway::segments {

// Every field name (kind key, not rewritable) and value of an application/x-www-form-urlencoded
// body, as form_value segments; unparseable when a name or value is not UTF-8.
Extraction extract_form(std::string_view body);

// Every string value and object key of a JSON document, each as a json_string segment in
// `json`'s coordinates (keys: kind key, not rewritable); nullopt (with `error`) when the document
// is not strict JSON (segment_extractor.h) or is nested deeper than `max_depth`.
std::optional<std::vector<Segment>> json_strings(std::string_view json, size_t max_depth, std::string& error);

// The strings and keys of the JSON document that string segment `s` (in `json`'s coordinates)
// holds, opened `levels` deep (JSON in a string in a string...): each a segment in `json`'s
// coordinates whose range is its token as escaped inside `s`'s token, with json_string added to
// `enclosing` and location "<s's location>:<inner location>". nullopt when `s` does not hold a
// strict JSON object or array; then `error_out`, if given, says why when it looked like one.
std::optional<std::vector<Segment>> open_json_string(std::string_view json, const Segment& s, size_t max_depth,
                                                     int levels, std::string* error_out = nullptr);

// gemini.google.com's RPC forms (StreamGenerate, batchexecute): every string and key inside f.req's
// JSON inside a JSON string, each range the bytes that encode it through every layer (`enclosing`).
Extraction extract_gemini_web_form(std::string_view body, std::string_view path, size_t max_depth);

}  // namespace promptwall::gateway::segments
