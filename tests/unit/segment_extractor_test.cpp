#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gateway/adapters/segment_extractor.h"

using promptwall::gateway::Extraction;
using promptwall::gateway::ExtractorLimits;
using promptwall::gateway::Schema;
using promptwall::gateway::Segment;
using promptwall::gateway::SegmentExtractor;
using Status = Extraction::Status;
using Found = std::vector<std::pair<std::string, std::string>>;  // (location, text)

namespace {

// Checks every invariant the header promises of an extraction of `body`.
void check_invariants(const Extraction& e, std::string_view body) {
  size_t previous_end = 0;
  for (const Segment& s : e.segments) {
    INFO(s.location);
    REQUIRE(s.raw_begin >= previous_end);
    REQUIRE(s.raw_begin <= s.raw_end);
    REQUIRE(s.raw_end <= body.size());
    previous_end = s.raw_end;
    const std::string_view token = body.substr(s.raw_begin, s.raw_end - s.raw_begin);
    switch (s.encoding) {
      case Segment::Encoding::json_string: {
        // Inside enclosing JSON strings the token is escaped once per layer: undo them first.
        std::string unwrapped(token);
        for (Segment::Encoding layer : s.enclosing) {
          REQUIRE(layer == Segment::Encoding::json_string);
          unwrapped = nlohmann::json::parse("\"" + unwrapped + "\"").get<std::string>();
        }
        REQUIRE(unwrapped.size() >= 2);
        CHECK(unwrapped.front() == '"');
        CHECK(unwrapped.back() == '"');
        // Decoded base64 holds the decoded bytes, not the token's value.
        if (s.kind != Segment::Kind::decoded_base64) CHECK(nlohmann::json::parse(unwrapped).get<std::string>() == s.text);
        if (s.kind != Segment::Kind::value) CHECK_FALSE(s.rewritable);  // only values may be (not in multipart)
        break;
      }
      case Segment::Encoding::raw:
        if (s.location == "body") {
          CHECK(s.raw_begin == 0);
          CHECK(s.raw_end == body.size());
          CHECK(s.text == body);
        } else {  // multipart/form-data: a text part's content, or an empty range for a name
          CHECK_FALSE(s.rewritable);
          if (s.kind == Segment::Kind::value) CHECK(token == s.text);
          else CHECK(s.raw_begin == s.raw_end);
        }
        break;
      case Segment::Encoding::form_value:
        CHECK(token.find_first_of("&=") == std::string_view::npos);
        break;
    }
  }
}

Extraction extract(Schema schema, std::string_view body, std::string_view content_type = "application/json",
                   std::string_view path = "/v1/chat/completions") {
  Extraction e = SegmentExtractor().extract(schema, content_type, path, body);
  check_invariants(e, body);
  return e;
}

Found found(const Extraction& e) {
  Found out;
  for (const Segment& s : e.segments) out.emplace_back(s.location, s.text);
  return out;
}

Found ok_found(Schema schema, std::string_view body, std::string_view content_type = "application/json") {
  const Extraction e = extract(schema, body, content_type);
  INFO(e.error);
  CHECK(e.status == Status::ok);
  CHECK(e.error.empty());
  return found(e);
}

// The values only (no keys): what the schema tests listed before every key became a segment.
Found values(const Extraction& e) {
  Found out;
  for (const Segment& s : e.segments)
    if (s.kind != Segment::Kind::key) out.emplace_back(s.location, s.text);
  return out;
}

Found ok_values(Schema schema, std::string_view body, std::string_view content_type = "application/json") {
  const Extraction e = extract(schema, body, content_type);
  INFO(e.error);
  CHECK(e.status == Status::ok);
  return values(e);
}

// Every pair of `expected` is in `actual` (in any order). The schema tests plant user text and
// check it is found; everything else a body holds is a segment as well, since issue 12.
bool contains_all(const Found& actual, const Found& expected) {
  for (const auto& pair : expected) {
    if (std::find(actual.begin(), actual.end(), pair) == actual.end()) {
      UNSCOPED_INFO("missing: " << pair.first << " = " << pair.second);
      return false;
    }
  }
  return true;
}

bool has_text(const Extraction& e, std::string_view text) {
  return std::any_of(e.segments.begin(), e.segments.end(), [&](const Segment& s) { return s.text == text; });
}

const std::string kStamp = "TUYỆT MẬT";

}  // namespace

namespace {

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

const std::string kPdf = std::string("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Length 9 >>\nstream\n\x78\x9C\x01\x02\x03\nendstream");
const std::string kPng = std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);

}  // namespace

TEST_CASE("OpenAI chat completions: string and parts content, names, tool calls, tools", "[segment_extractor]") {
  const std::string body = R"({
  "model": "gpt-4o",
  "messages": [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "name": "an", "content": [
      {"type": "text", "text": "Tóm tắt hợp đồng này"},
      {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}},
      {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
    ]},
    {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
      "function": {"name": "get_weather", "arguments": "{\"city\":\"Hà Nội\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "Trời nắng, 31°C"},
    {"role": "assistant", "function_call": {"name": "old_style", "arguments": "{\"x\":1}"}}
  ],
  "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get the weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}},
                   "required": ["city"]}}}],
  "functions": [{"name": "old_style", "description": "Legacy function", "parameters": {"type": "object"}}],
  "temperature": 0.2,
  "user": "user-123"
})";
  const Extraction e = extract(Schema::openai, body);
  REQUIRE(e.status == Status::ok);
  CHECK(contains_all(values(e), Found{
      {"model", "gpt-4o"},
      {"messages[0].role", "system"},
      {"messages[0].content", "You are a helpful assistant."},
      {"messages[1].name", "an"},
      {"messages[1].content[0].text", "Tóm tắt hợp đồng này"},
      {"messages[1].content[1].image_url.detail", "low"},
      // 8 bytes of base64 that happen to read "RIFF": decoded, scanned as text.
      {"messages[1].content[2].input_audio.data (decoded base64)", "RIFF"},
      {"messages[2].tool_calls[0].id", "call_1"},
      {"messages[2].tool_calls[0].function.arguments:city", "Hà Nội"},  // JSON in a string is opened
      {"messages[3].content", "Trời nắng, 31°C"},
      {"tools[0].function.name", "get_weather"},
      {"tools[0].function.description", "Get the weather"},
      {"tools[0].function.parameters.properties.city.description", "City name"},
      {"tools[0].function.parameters.required[0]", "city"},
      {"functions[0].description", "Legacy function"},
      {"user", "user-123"},
  }));
  // Keys are segments too.
  CHECK(contains_all(found(e), Found{{"temperature (key)", "temperature"},
                                     {"messages[4].function_call.arguments:x (key)", "x"},
                                     {"tools[0].function.parameters.properties.city (key)", "city"}}));
  // The PNG in a data: URL is a file, not text.
  REQUIRE(e.files.size() == 1);
  CHECK(e.files[0].location == "messages[1].content[1].image_url.url");
  CHECK(e.files[0].media_type == "image/png");
  CHECK(e.files[0].size == 8);
}

TEST_CASE("OpenAI Responses API: instructions, input items, function call output, flat tools", "[segment_extractor]") {
  const std::string body = R"({"model":"gpt-4.1","instructions":"Trả lời bằng tiếng Việt","input":[
  {"role":"user","content":[{"type":"input_text","text":"Đọc ảnh này"},
                            {"type":"input_image","image_url":"https://example.com/a.png"},
                            {"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0="}]},
  {"type":"function_call","call_id":"c1","name":"lookup","arguments":"{\"id\":42}"},
  {"type":"function_call_output","call_id":"c1","output":"Khách hàng: Trần Thị B"},
  {"role":"user","content":"Cảm ơn"}],
 "tools":[{"type":"function","name":"lookup","description":"Look up a customer",
           "parameters":{"type":"object","properties":{"id":{"type":"integer"}}}}],
 "store":false})";
  const Extraction e = extract(Schema::openai, body);
  CHECK(contains_all(values(e), Found{
      {"instructions", "Trả lời bằng tiếng Việt"},
      {"input[0].content[0].text", "Đọc ảnh này"},
      {"input[0].content[1].image_url", "https://example.com/a.png"},  // not base64: an ordinary string
      {"input[0].content[2].filename", "a.pdf"},
      {"input[2].output", "Khách hàng: Trần Thị B"},
      {"input[3].content", "Cảm ơn"},
      {"tools[0].description", "Look up a customer"},
  }));
  // "%PDF-" is readable text, but a PDF all the same: its text may sit in encoded streams.
  REQUIRE(e.files.size() == 1);
  CHECK(e.files[0].location == "input[0].content[2].file_data");
  CHECK(e.files[0].media_type == "application/pdf");
  CHECK(ok_values(Schema::openai, R"({"model":"gpt-4.1","input":"Xin chào"})") ==
        Found{{"model", "gpt-4.1"}, {"input", "Xin chào"}});
}

TEST_CASE("OpenAI embeddings and legacy completions", "[segment_extractor]") {
  CHECK(ok_values(Schema::openai, R"({"model":"text-embedding-3-small","input":["một","hai"]})") ==
        Found{{"model", "text-embedding-3-small"}, {"input[0]", "một"}, {"input[1]", "hai"}});
  CHECK(ok_values(Schema::openai, R"({"input":[[1,2,3],[4]]})").empty());
  CHECK(contains_all(ok_values(Schema::openai, R"({"model":"m","prompt":["Say this","Say that"],"suffix":"end"})"),
                     Found{{"prompt[0]", "Say this"}, {"prompt[1]", "Say that"}, {"suffix", "end"}}));
}

TEST_CASE("Gemini generateContent: systemInstruction, parts, functionCall, functionResponse, tools", "[segment_extractor]") {
  const std::string body = R"({
 "systemInstruction": {"parts": [{"text": "Bạn là trợ lý"}]},
 "contents": [
   {"role": "user", "parts": [{"text": "Thời tiết Hà Nội?"},
                              {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
                              {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://b/a.pdf"}}]},
   {"role": "model", "parts": [{"functionCall": {"name": "get_weather",
                                                 "args": {"city": "Hà Nội", "days": 3, "opts": {"unit": "C"}}}}]},
   {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"forecast": ["Mưa", "Nắng"]}}}]}
 ],
 "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Weather by city",
            "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}}}]}],
 "generationConfig": {"temperature": 0.1, "responseMimeType": "text/plain"}
})";
  const Extraction e = SegmentExtractor().extract(Schema::gemini, "application/json",
                                                  "/v1beta/models/gemini-2.0-flash:generateContent", body);
  check_invariants(e, body);
  CHECK(e.status == Status::ok);
  CHECK(contains_all(values(e), Found{
      {"systemInstruction.parts[0].text", "Bạn là trợ lý"},
      {"contents[0].parts[0].text", "Thời tiết Hà Nội?"},
      {"contents[0].parts[2].fileData.fileUri", "gs://b/a.pdf"},
      {"contents[1].parts[0].functionCall.args.city", "Hà Nội"},
      {"contents[1].parts[0].functionCall.args.opts.unit", "C"},
      {"contents[2].parts[0].functionResponse.response.forecast[0]", "Mưa"},
      {"tools[0].functionDeclarations[0].description", "Weather by city"},
      {"generationConfig.responseMimeType", "text/plain"},
  }));
  REQUIRE(e.files.size() == 1);
  CHECK(e.files[0].location == "contents[0].parts[1].inlineData.data");
  CHECK(e.files[0].media_type == "image/png");
}

TEST_CASE("Gemini accepts snake_case field names, and embedContent", "[segment_extractor]") {
  const Extraction e = extract(Schema::gemini, R"({"system_instruction":{"parts":[{"text":"sys"}]},
      "contents":[{"parts":[{"text":"hi"},{"function_call":{"name":"f","args":{"q":"x"}}},
                            {"function_response":{"name":"f","response":{"r":"y"}}},
                            {"inline_data":{"mime_type":"application/pdf","data":")" + base64(kPdf) + R"("}}]}],
      "tools":[{"function_declarations":[{"name":"f","description":"d"}]}]})");
  CHECK(contains_all(values(e), Found{{"system_instruction.parts[0].text", "sys"},
                                      {"contents[0].parts[0].text", "hi"},
                                      {"contents[0].parts[1].function_call.args.q", "x"},
                                      {"contents[0].parts[2].function_response.response.r", "y"},
                                      {"tools[0].function_declarations[0].description", "d"}}));
  REQUIRE(e.files.size() == 1);
  CHECK(e.files[0].location == "contents[0].parts[3].inline_data.data");
  CHECK(e.files[0].media_type == "application/pdf");
  CHECK(e.files[0].size == kPdf.size());
  CHECK(ok_values(Schema::gemini, R"({"model":"models/text-embedding-004","content":{"parts":[{"text":"nhúng"}]}})") ==
        Found{{"model", "models/text-embedding-004"}, {"content.parts[0].text", "nhúng"}});
}

TEST_CASE("Anthropic messages: system blocks, text, tool_use, tool_result, tools", "[segment_extractor]") {
  const std::string body = R"({"model":"claude-sonnet-4-20250514","max_tokens":1024,
 "system":[{"type":"text","text":"Bạn là luật sư","cache_control":{"type":"ephemeral"}}],
 "messages":[
   {"role":"user","content":"Xem hợp đồng"},
   {"role":"assistant","content":[{"type":"text","text":"Tôi sẽ tra cứu"},
     {"type":"tool_use","id":"tu_1","name":"search","input":{"query":"điều 5","filters":["2024"],"limit":3}}]},
   {"role":"user","content":[{"type":"tool_result","tool_use_id":"tu_1","content":"Kết quả 1"},
     {"type":"tool_result","tool_use_id":"tu_2","content":[{"type":"text","text":"Kết quả 2"}]},
     {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]}],
 "tools":[{"name":"search","description":"Search documents",
           "input_schema":{"type":"object","properties":{"query":{"type":"string"}}}}]})";
  const Extraction e = extract(Schema::anthropic, body);
  CHECK(contains_all(values(e), Found{
      {"system[0].text", "Bạn là luật sư"},
      {"messages[0].content", "Xem hợp đồng"},
      {"messages[1].content[0].text", "Tôi sẽ tra cứu"},
      {"messages[1].content[1].input.query", "điều 5"},
      {"messages[1].content[1].input.filters[0]", "2024"},
      {"messages[2].content[0].content", "Kết quả 1"},
      {"messages[2].content[1].content[0].text", "Kết quả 2"},
      {"tools[0].description", "Search documents"},
  }));
  CHECK(contains_all(found(e), Found{{"messages[1].content[1].input.query (key)", "query"}}));
  REQUIRE(e.files.size() == 1);
  CHECK(e.files[0].location == "messages[2].content[2].source.data");
  CHECK(e.files[0].media_type == "image/png");
}

TEST_CASE("fields outside any schema's list are scanned: every string and every key (issue 12 item 3, 4)",
          "[segment_extractor]") {
  // Once a known field was present, the old field lists dropped everything else.
  const std::string body = R"({"model":"x","messages":[],"metadata":{"note":"bí mật"},"user":"CCCD 001099012345",
      "img":"data:image/png;base64,)" + base64(kPng) + R"("})";
  for (Schema schema : {Schema::openai, Schema::gemini, Schema::anthropic, Schema::json, Schema::chatgpt_web}) {
    const Extraction e = extract(schema, body);
    CHECK(contains_all(values(e), Found{{"model", "x"}, {"metadata.note", "bí mật"}, {"user", "CCCD 001099012345"}}));
    CHECK(contains_all(found(e), Found{{"metadata (key)", "metadata"}, {"metadata.note (key)", "note"}}));
    REQUIRE(e.files.size() == 1);
    CHECK(e.files[0].location == "img");
  }
}

TEST_CASE("every object key is a segment: its token with quotes, not rewritable (issue 12 item 4)",
          "[segment_extractor]") {
  // An Anthropic tool_use input key, and a tool's property name, holding the stamp (escaped too).
  const std::string body = R"({"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"n",
      "input":{"TUY\u1ec6T M\u1eacT":"1"}}]}],
      "tools":[{"name":"n","input_schema":{"properties":{"TUYỆT MẬT":{"type":"string"}}}}]})";
  const Extraction e = extract(Schema::anthropic, body);
  std::vector<const Segment*> keys;
  for (const Segment& s : e.segments)
    if (s.text == kStamp) keys.push_back(&s);
  REQUIRE(keys.size() == 2);
  for (const Segment* k : keys) {
    CHECK(k->kind == Segment::Kind::key);
    CHECK_FALSE(k->rewritable);
    CHECK(k->location.ends_with(" (key)"));
    CHECK(body[k->raw_begin] == '"');
  }
  CHECK(keys[0]->location == "messages[0].content[0].input[*] (key)");  // non-ASCII keys are withheld
  CHECK(body.substr(keys[0]->raw_begin, keys[0]->raw_end - keys[0]->raw_begin) == R"("TUY\u1ec6T M\u1eacT")");
  // A key with an escaped quote in it.
  const Extraction quoted = extract(Schema::json, R"({"a\"b":1})");
  REQUIRE(quoted.segments.size() == 1);
  CHECK(quoted.segments[0].text == "a\"b");
}

TEST_CASE("the shapes issue 12 found unscanned each yield the planted text", "[segment_extractor]") {
  const std::string stamp_escaped = R"(TUY\u1ec6T M\u1eacT)";
  struct Shape {
    const char* name;
    Schema schema;
    std::string body;
  };
  const std::vector<Shape> shapes = {
      {"Anthropic document, source.type text", Schema::anthropic,
       R"({"model":"c","messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"S"}}]}]})"},
      {"Anthropic document, source.type content", Schema::anthropic,
       R"({"model":"c","messages":[{"role":"user","content":[{"type":"document","source":{"type":"content","content":[{"type":"text","text":"S"}]}}]}]})"},
      {"Anthropic document title and context", Schema::anthropic,
       R"({"messages":[{"role":"user","content":[{"type":"document","title":"S","context":"S","source":{"type":"url","url":"https://x"}}]}]})"},
      {"Assistants: thread with messages and instructions", Schema::openai,
       R"({"assistant_id":"a","instructions":"i","thread":{"messages":[{"role":"user","content":"S"}]}})"},
      {"Assistants: run additional_instructions", Schema::openai,
       R"({"assistant_id":"a","additional_instructions":"S"})"},
      {"Assistants: run additional_messages", Schema::openai,
       R"({"assistant_id":"a","additional_messages":[{"role":"user","content":[{"type":"text","text":"S"}]}]})"},
      {"Responses prompt.variables", Schema::openai,
       R"({"model":"m","input":"hi","prompt":{"id":"pmpt_1","variables":{"customer":"S"}}})"},
      {"Responses function_call_output", Schema::openai,
       R"({"model":"m","input":[{"type":"function_call_output","call_id":"c","output":"S"}]})"},
      {"response_format JSON schema description", Schema::openai,
       R"({"model":"m","messages":[],"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":{"type":"object","properties":{"a":{"type":"string","description":"S"}}}}}})"},
      {"Responses text.format schema description", Schema::openai,
       R"({"model":"m","input":"hi","text":{"format":{"type":"json_schema","schema":{"description":"S"}}}})"},
      {"prediction.content", Schema::openai,
       R"({"model":"m","messages":[],"prediction":{"type":"content","content":"S"}})"},
      {"prediction.content parts", Schema::openai,
       R"({"model":"m","messages":[],"prediction":{"type":"content","content":[{"type":"text","text":"S"}]}})"},
      {"metadata", Schema::openai, R"({"model":"m","messages":[],"metadata":{"k":"S"}})"},
      {"user", Schema::openai, R"({"model":"m","messages":[],"user":"S"})"},
      {"Gemini cachedContent displayName", Schema::gemini, R"({"contents":[],"displayName":"S"})"},
      {"chatgpt_web conversation extra field", Schema::chatgpt_web,
       R"({"action":"next","messages":[],"conversation_title":"S"})"},
  };
  for (const Shape& shape : shapes) {
    INFO(shape.name);
    std::string body = shape.body;
    for (size_t at = body.find("\"S\""); at != std::string::npos; at = body.find("\"S\"", at))
      body.replace(at + 1, 1, stamp_escaped);
    const Extraction e = extract(shape.schema, body);
    INFO(body << "\n" << e.error);
    REQUIRE(e.status == Status::ok);
    CHECK(has_text(e, kStamp));
  }
}

TEST_CASE("a string holding JSON is opened: its strings and keys are segments, escapes decoded", "[segment_extractor]") {
  // A tool call's arguments: JSON in a JSON string, its stamp escaped inside and used as a key
  // (found by the coverage generator, tests/e2e/coverage_test.cpp).
  const std::string body = R"({"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":)"
                           R"({"name":"f","arguments":"{\"city\":\"TUY\\u1ec6T M\\u1eacT\",\"n\":1,\"TUY\\u1ec6T\":[\"a\\nb\"]}"}}]}]})";
  const Extraction e = extract(Schema::openai, body);
  REQUIRE(e.status == Status::ok);
  const std::string args = "messages[0].tool_calls[0].function.arguments";
  CHECK(contains_all(found(e), Found{{args + ":city (key)", "city"},
                                     {args + ":city", kStamp},
                                     {args + ":n (key)", "n"},
                                     {args + ":[*] (key)", "TUYỆT"},
                                     {args + ":[*][0]", "a\nb"}}));
  for (const Segment& s : e.segments) CHECK(s.location != args);  // replaced by what it holds
  // Inner values are redactable through the string's escaping.
  const auto city = std::find_if(e.segments.begin(), e.segments.end(), [&](const Segment& s) { return s.location == args + ":city"; });
  CHECK(city->rewritable);
  CHECK(city->enclosing == std::vector{Segment::Encoding::json_string});
  // Two levels: JSON in a string in a string.
  const Extraction twice = extract(Schema::json, R"({"a":"[\"{\\\"k\\\":\\\"TUY\\\\u1ec6T\\\"}\"]"})");
  CHECK(values(twice) == Found{{"a:[0]:k", "TUYỆT"}});
  // Text that only looks like JSON stays text.
  CHECK(values(extract(Schema::json, R"({"a":"[not json\n"})")) == Found{{"a", "[not json\n"}});
  // JSON in a string with a key given twice is refused like the body would be.
  const Extraction twice_keyed = extract(Schema::openai, R"({"arguments":"{\"k\":1,\"\\u006b\":\"x\"}"})");
  CHECK(twice_keyed.status == Status::unparseable);
  CHECK(twice_keyed.error == "the string at byte 13 holds JSON with a duplicate key in the object at byte 0");
}

TEST_CASE("Schema::json: every string value and key, a base64 data URL is a file", "[segment_extractor]") {
  const Extraction e = extract(Schema::json, R"([{"a":["x",1,true,null,{"b":"y"}]},"z",
      {"img":"DATA:image/png;BASE64,iVBORw0KGgo=","note":"data:text/plain,hello","a.b":{"":"w"}}])");
  CHECK(values(e) == Found{{"[0].a[0]", "x"},
                           {"[0].a[4].b", "y"},
                           {"[1]", "z"},
                           {"[2].note", "data:text/plain,hello"},
                           {"[2][\"a.b\"][\"\"]", "w"}});
  CHECK(found(e).size() == 11);  // and six keys: a, b, img, note, a.b, ""
  REQUIRE(e.files.size() == 1);
  CHECK(e.files[0].location == "[2].img");
  // A document that is one string.
  const Extraction scalar = extract(Schema::json, R"(  "chỉ một chuỗi"  )");
  CHECK(scalar.status == Status::ok);
  CHECK(found(scalar) == Found{{"body", "chỉ một chuỗi"}});
  CHECK(ok_found(Schema::json, "42").empty());
  CHECK(ok_values(Schema::json, R"({"n":123456789012345678901234567890,"e":-1.5e-300,"s":"x"})") == Found{{"s", "x"}});
}

TEST_CASE("files in JSON: data URLs anywhere, the APIs' file fields, long base64 (issue 12 item 2)",
          "[segment_extractor]") {
  const std::string text_b64 = base64("Hồ sơ " + kStamp + " số 12");
  SECTION("base64 that decodes to text is scanned as text, in place of the string, not rewritable") {
    for (const std::string& body : {
             R"({"messages":[{"role":"user","content":[{"type":"file","file":{"filename":"a.txt","file_data":"data:text/plain;base64,)" + text_b64 + R"("}}]}]})",
             R"({"messages":[{"role":"user","content":[{"type":"file","file":{"file_data":")" + text_b64 + R"("}}]}]})",
             R"({"input":[{"role":"user","content":[{"type":"input_file","filename":"a.txt","file_data":")" + text_b64 + R"("}]}]})",
             R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":")" + text_b64 + R"("}]}]})",
             R"({"messages":[{"role":"user","content":[{"type":"document","source":{"data":")" + text_b64 + R"(","media_type":"text/plain","type":"base64"}}]}]})",
             R"({"contents":[{"parts":[{"inlineData":{"mimeType":"text/plain","data":")" + text_b64 + R"("}}]}]})",
             R"({"anywhere":{"deep":["data:application/octet-stream;base64,)" + text_b64 + R"("]}})",
         }) {
      INFO(body);
      const Extraction e = extract(Schema::json, body);
      REQUIRE(e.status == Status::ok);
      CHECK(e.files.empty());
      const auto decoded = std::find_if(e.segments.begin(), e.segments.end(),
                                        [](const Segment& s) { return s.kind == Segment::Kind::decoded_base64; });
      REQUIRE(decoded != e.segments.end());
      CHECK(decoded->text == "Hồ sơ " + kStamp + " số 12");
      CHECK(decoded->location.ends_with(" (decoded base64)"));
      CHECK_FALSE(decoded->rewritable);
    }
  }
  SECTION("bytes that are not text are files: location, media type, size") {
    const Extraction e = extract(Schema::openai, R"({"messages":[{"role":"user","content":[
        {"type":"file","file":{"filename":"a.pdf","file_data":")" + base64(kPdf) + R"("}},
        {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQSkZJRg=="}},
        {"type":"file","file":{"file_data":")" + base64(std::string("PK\x03\x04\x14\0\0\0", 8)) + R"("}}]}]})");
    REQUIRE(e.status == Status::ok);
    REQUIRE(e.files.size() == 3);
    CHECK(e.files[0].location == "messages[0].content[0].file.file_data");
    CHECK(e.files[0].media_type == "application/pdf");
    CHECK(e.files[0].size == kPdf.size());
    CHECK(e.files[1].media_type == "image/jpeg");
    CHECK(e.files[2].media_type == "application/zip");  // a DOCX
    CHECK_FALSE(has_text(e, base64(kPdf)));  // the base64 itself is not a segment
  }
  SECTION("a string of 256+ base64 characters anywhere is decoded") {
    const std::string long_text = base64(std::string(200, 'a') + " " + kStamp);
    REQUIRE(long_text.size() >= 256);
    const Extraction e = extract(Schema::anthropic, R"({"messages":[],"x":")" + long_text + R"("})");
    CHECK(has_text(e, std::string(200, 'a') + " " + kStamp));
    std::string binary(300, '\0');
    for (size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>(i * 7);
    const Extraction b = extract(Schema::anthropic, R"({"messages":[],"blob":")" + base64(binary) + R"("})");
    REQUIRE(b.files.size() == 1);
    CHECK(b.files[0].location == "blob");
    CHECK(b.files[0].size == 300);
  }
  SECTION("what is not base64, or short outside a file field, stays an ordinary string") {
    const Extraction e = extract(Schema::openai, R"({"a":"abcd","image_url":"https://example.com/x.png",
        "messages":[{"content":[{"type":"document","source":{"type":"text","data":"abcd"}}]}]})");
    CHECK(e.files.empty());
    CHECK(values(e) == Found{{"a", "abcd"}, {"image_url", "https://example.com/x.png"},
                             {"messages[0].content[0].type", "document"},
                             {"messages[0].content[0].source.type", "text"},
                             {"messages[0].content[0].source.data", "abcd"}});
  }
  SECTION("a data: URL that says base64 but does not decode is a file nobody read (fail closed)") {
    const Extraction e = extract(Schema::json, R"({"u":"data:image/png;base64,@@not base64@@"})");
    REQUIRE(e.files.size() == 1);
    CHECK(e.files[0].media_type == "image/png");
  }
}

TEST_CASE("keys that may be data are withheld from locations, which reach the logs", "[segment_extractor]") {
  // A map keyed by citizen ID numbers, a Vietnamese key, a very long key: locations show [*]
  // (the keys themselves are scanned as segments).
  CHECK(ok_values(Schema::json, R"({"users":{"001203004567":{"name":"Nam"}},"ghi chú riêng":"x",
      "v2":{"id_2024":"y"}})") ==
        Found{{"users[*].name", "Nam"}, {"[*]", "x"}, {"v2[*]", "y"}});
  CHECK(contains_all(ok_found(Schema::json, R"({"users":{"001203004567":{"name":"Nam"}}})"),
                     Found{{"users[*] (key)", "001203004567"}}));
  CHECK(ok_values(Schema::json, "{\"" + std::string(65, 'k') + "\":\"z\"}") == Found{{"[*]", "z"}});
  // Form field names likewise.
  CHECK(ok_found(Schema::json, "cccd_001203004567=a&note=b", "application/x-www-form-urlencoded") ==
        Found{{"[*] (key)", "cccd_001203004567"}, {"[*]", "a"}, {"note (key)", "note"}, {"note", "b"}});
}

TEST_CASE("escapes are decoded and the token range covers the escaped form", "[segment_extractor]") {
  const std::string body = R"({"input": "line1\nline2 \"q\" \u1ee6 \ud83d\ude00 \\ \/ \t"  ,"x":1})";
  const Extraction e = extract(Schema::openai, body);
  REQUIRE(e.segments.size() == 3);  // "input", its value, "x"
  const Segment& s = e.segments[1];
  CHECK(s.text == "line1\nline2 \"q\" Ủ 😀 \\ / \t");
  CHECK(s.encoding == Segment::Encoding::json_string);
  CHECK(body.substr(s.raw_begin, s.raw_end - s.raw_begin) ==
        R"("line1\nline2 \"q\" \u1ee6 \ud83d\ude00 \\ \/ \t")");
}

TEST_CASE("strict JSON: anything two readers could read differently is unparseable, never raw text (issue 12 item 9, 11)",
          "[segment_extractor]") {
  for (const std::string body : {
           // malformed
           R"({"messages":[{"content":"hi"}])", R"({"a":1} x)", R"({"a":1}})", R"({"a":tru})", R"({"a":nul})",
           R"({"a" 1})", R"([1,2 3])", R"({"a":"x"}{"b":"y"})", R"({"a":01})", R"("hello" x)", R"({"a":"unterminated})",
           // trailing commas
           R"({"a":1,})", R"([1,])", R"({"a":[1,2,],"b":"TUYỆT MẬT"})",
           // NaN and Infinity (JSON5, Python's json.loads)
           R"({"a":NaN,"b":"TUY\u1ec6T M\u1eacT"})", R"({"a":Infinity})", R"({"a":-Infinity})", R"([NaN])",
           // comments
           R"({"a":1 /* c */})", "{\"a\":1 // c\n}", R"(/* c */ {"a":1})", "[1, # c\n2]",
           // duplicate keys, also when equal only once unescaped, and deeper down
           R"({"input":"x","input":"TUY\u1ec6T M\u1eacT"})", R"({"a":1,"\u0061":2})", R"({"o":{"k":1,"j":2,"k":3}})",
           // lone surrogates, in a value and in a key
           R"({"a":"\ud800"})", R"({"a":"x\udc00y"})", R"({"\ud800":"x"})", R"({"a":"\ud800\u0041"})",
           // invalid UTF-8 in a string, in a key, outside strings
           "{\"input\":\"caf\xe9\"}", "{\"caf\xe9\":1}", "{\"a\":1}\xff",
       }) {
    INFO(body);
    const Extraction e = extract(Schema::openai, body);
    CHECK(e.status == Status::unparseable);
    CHECK_FALSE(e.error.empty());
    CHECK(e.segments.empty());  // no raw fallback: escapes would stay encoded
  }
  // Duplicate keys in a large object (the sorted check) and the same key in different objects.
  std::string big = "{";
  for (int i = 0; i < 40; ++i) big += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  CHECK(extract(Schema::json, big + "\"k7\":0}").status == Status::unparseable);
  CHECK(extract(Schema::json, big + "\"k40\":0}").status == Status::ok);
  CHECK(extract(Schema::json, R"({"a":{"a":1},"b":{"a":2},"c":[{"a":3},{"a":4}]})").status == Status::ok);
  CHECK(extract(Schema::json, R"({"a":1,"b":{"a":1}})").status == Status::ok);
  CHECK(extract(Schema::json, R"({"a":1,"a":2})").error == "duplicate key in the object at byte 0");
  CHECK(extract(Schema::json, R"({"a":1}   x)").error == "unexpected content after the JSON document at byte 10");
  CHECK(extract(Schema::json, R"({"a":[1,2 3]})").error.rfind("malformed JSON at byte 10: ", 0) == 0);
  // A surrogate pair is fine.
  CHECK(ok_values(Schema::json, R"({"a":"\ud83d\ude00"})") == Found{{"a", "😀"}});
}

TEST_CASE("nesting deeper than the limit is refused with its position", "[segment_extractor]") {
  const std::string ok = std::string(64, '[') + "\"deep\"" + std::string(64, ']');
  CHECK(ok_found(Schema::json, ok).size() == 1);
  const std::string deep = std::string(65, '[') + "\"TUY\\u1ec6T M\\u1eacT\"" + std::string(65, ']');
  const Extraction e = extract(Schema::json, deep);
  CHECK(e.status == Status::unparseable);
  CHECK(e.segments.empty());
  CHECK(e.error == "JSON nesting deeper than 64 at byte 64");
  const std::string objects = R"({"a":{"b":{"c":"x"}}})";
  CHECK(SegmentExtractor(ExtractorLimits{2}).extract(Schema::json, "", "", objects).error ==
        "JSON nesting deeper than 2 at byte 10");
  CHECK(SegmentExtractor(ExtractorLimits{3}).extract(Schema::json, "", "", objects).status == Status::ok);
}

TEST_CASE("content types choose how a body is read", "[segment_extractor]") {
  // No content type: JSON if it looks like JSON, text otherwise.
  CHECK(ok_values(Schema::openai, " \n{\"input\":\"x\"}", "") == Found{{"input", "x"}});
  CHECK(ok_found(Schema::openai, "plain words", "") == Found{{"body", "plain words"}});
  // A UTF-8 byte order mark before JSON is allowed; offsets still count it.
  CHECK(ok_values(Schema::openai, "\xEF\xBB\xBF{\"input\":\"x\"}", "") == Found{{"input", "x"}});
  CHECK(ok_values(Schema::openai, "\xEF\xBB\xBF{\"input\":\"x\"}") == Found{{"input", "x"}});
  CHECK(ok_values(Schema::json, R"({"a":"b"})", "Application/Vnd.Api+JSON; charset=utf-8") == Found{{"a", "b"}});
  CHECK(ok_found(Schema::json, "Xin chào, đây là văn bản", "text/plain; charset=utf-8") ==
        Found{{"body", "Xin chào, đây là văn bản"}});
  CHECK(ok_found(Schema::json, "key: giá trị", "application/yaml") == Found{{"body", "key: giá trị"}});
  // Text that is not UTF-8 and names no charset cannot be read as the upstream will: unparseable.
  const Extraction latin1 = extract(Schema::json, "caf\xe9", "text/plain");
  CHECK(latin1.status == Status::unparseable);
  CHECK(latin1.segments.empty());
  // multipart/mixed and related are read part by part (issue 13): a text part is text.
  const Extraction mixed = extract(Schema::text, "--xyz\r\nContent-Disposition: form-data\r\n\r\nhi\r\n--xyz--",
                                   "multipart/mixed; boundary=xyz");
  CHECK(mixed.status == Status::ok);
  REQUIRE(mixed.segments.size() == 1);
  CHECK(mixed.segments[0].text == "hi");
  CHECK(mixed.segments[0].location == "part 1");
  for (const char* ct : {"application/octet-stream", "image/png", "audio/wav", "application/pdf"}) {
    INFO(ct);
    const Extraction e = extract(Schema::text, "--xyz\r\nContent-Disposition: form-data\r\n\r\nhi\r\n--xyz--", ct);
    CHECK(e.status == Status::file);
    CHECK(e.segments.empty());
    CHECK_FALSE(e.error.empty());
  }
  const Extraction empty = extract(Schema::openai, "", "multipart/form-data");
  CHECK(empty.status == Status::ok);
  CHECK(empty.segments.empty());
}

TEST_CASE("JSON labelled as text, or unlabelled, is parsed strictly (issue 12 item 9)", "[segment_extractor]") {
  const std::string escaped = R"({"input":"TUY\u1ec6T M\u1eacT"})";
  for (const char* ct : {"text/plain", "text/plain; charset=utf-8", "", "application/x-unknown", "text/html"}) {
    INFO(ct);
    for (Schema schema : {Schema::openai, Schema::json, Schema::text}) {
      const Extraction e = extract(schema, " \n" + escaped, ct);
      REQUIRE(e.status == Status::ok);
      CHECK(has_text(e, kStamp));  // decoded, not "\u1ec6"
      // A lenient upstream would read this as JSON too: it is refused, not scanned raw.
      const Extraction bad = extract(schema, R"({"a":NaN,"b":"TUY\u1ec6T M\u1eacT"})", ct);
      CHECK(bad.status == Status::unparseable);
      CHECK(extract(schema, "[1,", ct).status == Status::unparseable);
    }
  }
  // Text that does not start like JSON stays one raw segment.
  CHECK(ok_found(Schema::text, "hello {\"a\":1}", "text/plain") == Found{{"body", "hello {\"a\":1}"}});
}

TEST_CASE("bodies in another charset are decoded and scanned, unknown charsets are refused (issue 12 item 9)",
          "[segment_extractor]") {
  auto utf16le = [](std::string_view ascii_or_bmp_utf8) {
    // Enough of a UTF-16LE encoder for the test's text: ASCII and the two Vietnamese letters used.
    std::string out;
    for (size_t i = 0; i < ascii_or_bmp_utf8.size();) {
      const auto c = static_cast<unsigned char>(ascii_or_bmp_utf8[i]);
      uint32_t cp = c;
      if (c >= 0xE0) {
        cp = ((c & 0x0F) << 12) | ((ascii_or_bmp_utf8[i + 1] & 0x3F) << 6) | (ascii_or_bmp_utf8[i + 2] & 0x3F);
        i += 3;
      } else {
        i += 1;
      }
      out += static_cast<char>(cp & 0xFF);
      out += static_cast<char>(cp >> 8);
    }
    return out;
  };
  const std::string json_text = R"({"messages":[{"role":"user","content":"TUYỆT MẬT"}]})";
  SECTION("a UTF-16LE byte order mark, whatever the label") {
    const std::string body = "\xFF\xFE" + utf16le(json_text);
    const Extraction e = SegmentExtractor().extract(Schema::openai, "application/json", "/v1/chat/completions", body);
    REQUIRE(e.status == Status::ok);
    CHECK(e.charset == "utf-16le");
    CHECK(e.transcoded == json_text);
    CHECK(contains_all(values(e), Found{{"messages[0].content", kStamp}}));
    for (const Segment& s : e.segments) CHECK_FALSE(s.rewritable);
  }
  SECTION("a charset parameter") {
    const std::string body = utf16le(json_text);
    const Extraction e = SegmentExtractor().extract(Schema::openai, "application/json; charset=\"UTF-16LE\"", "/", body);
    REQUIRE(e.status == Status::ok);
    CHECK(has_text(e, kStamp));
    // windows-1258 (Vietnamese): Â (0xC2) then a combining dot below (0xF2) is read as Ậ.
    const Extraction cp1258 = SegmentExtractor().extract(Schema::json, "text/plain; charset=windows-1258", "/",
                                                         "B\xCD M\xC2\xF2T");
    REQUIRE(cp1258.status == Status::ok);
    REQUIRE(cp1258.segments.size() == 1);
    CHECK(cp1258.segments[0].text == "BÍ MẬT");
    CHECK_FALSE(cp1258.segments[0].rewritable);
  }
  SECTION("an unknown charset, or bytes invalid in the charset, are unparseable") {
    CHECK(SegmentExtractor().extract(Schema::json, "text/plain; charset=x-no-such", "/", "abc").status ==
          Status::unparseable);
    CHECK(SegmentExtractor().extract(Schema::json, "text/plain; charset=utf-8//IGNORE", "/", "abc").status ==
          Status::unparseable);
    // A lone surrogate in UTF-16, and a truncated code unit.
    CHECK(SegmentExtractor().extract(Schema::json, "", "/", std::string("\xFF\xFE\x00\xD8\x41\x00", 6)).status ==
          Status::unparseable);
    CHECK(SegmentExtractor().extract(Schema::json, "", "/", std::string("\xFF\xFE\x41\x00\x42", 5)).status ==
          Status::unparseable);
    // UTF-16 JSON that is not strict JSON is refused like any JSON.
    CHECK(SegmentExtractor().extract(Schema::json, "", "/", "\xFF\xFE" + utf16le(R"({"a":NaN})")).status ==
          Status::unparseable);
  }
}

TEST_CASE("form bodies: one segment per name and value, percent- and plus-decoded", "[segment_extractor]") {
  const std::string body = "a=1&message=Xin+ch%C3%A0o+b%e1%ba%a1n&empty=&flag&q=50%25+off%zz&&t%C3%AAn=An";
  const Extraction e = extract(Schema::json, body, "application/x-www-form-urlencoded");
  CHECK(e.status == Status::ok);
  CHECK(values(e) == Found{{"a", "1"}, {"message", "Xin chào bạn"}, {"empty", ""}, {"q", "50% off%zz"}, {"[*]", "An"}});  // a non-ASCII name is withheld
  // Names, including a name alone ("flag"), are keys: scanned, not rewritable.
  CHECK(contains_all(found(e), Found{{"flag (key)", "flag"}, {"[*] (key)", "tên"}}));
  REQUIRE(e.segments.size() == 11);
  CHECK(body.substr(e.segments[3].raw_begin, e.segments[3].raw_end - e.segments[3].raw_begin) ==
        "Xin+ch%C3%A0o+b%e1%ba%a1n");
  for (const Segment& s : e.segments) {
    CHECK(s.encoding == Segment::Encoding::form_value);
    CHECK(s.rewritable == (s.kind == Segment::Kind::value));
  }
  const Extraction bad = extract(Schema::json, "a=%FF%FE", "application/x-www-form-urlencoded");
  CHECK(bad.status == Status::unparseable);
  CHECK(bad.segments.empty());
}

TEST_CASE("multipart/form-data: text fields are scanned, files are files, nothing is rewritable", "[segment_extractor]") {
  const std::string type = "multipart/form-data; boundary=----b";
  const std::string body =
      "------b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n"
      "------b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nGhi chú: " + kStamp + "\r\n"
      "------b\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n"
      "{\"title\":\"TUY\\u1ec6T M\\u1eacT\"}\r\n"
      "------b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + kStamp + ".pdf\"\r\n"
      "Content-Type: application/pdf\r\n\r\n" + kPdf + "\r\n"
      "------b\r\nContent-Disposition: form-data; name=\"empty\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n"
      "------b--\r\n";
  const Extraction e = extract(Schema::openai, body, type);
  INFO(e.error);
  REQUIRE(e.status == Status::ok);
  CHECK(contains_all(found(e), Found{{"purpose (key)", "purpose"},
                                     {"purpose", "assistants"},
                                     {"note", "Ghi chú: " + kStamp},
                                     {"meta:title", kStamp},  // a JSON part: parsed, escapes decoded
                                     {"file (filename)", kStamp + ".pdf"}}));
  REQUIRE(e.files.size() == 1);
  CHECK(e.files[0].location == "file");
  CHECK(e.files[0].media_type == "application/pdf");
  CHECK(e.files[0].size == kPdf.size());
  for (const Segment& s : e.segments) CHECK_FALSE(s.rewritable);
  // A form the strict parser refuses is unparseable; a JSON part that is not strict JSON too.
  CHECK(extract(Schema::openai, "--x\r\nContent-Disposition: form-data\r\n\r\nhi\r\n--x--", "multipart/form-data; boundary=x")
            .status == Status::unparseable);
  CHECK(extract(Schema::openai, "--x\r\nContent-Disposition: form-data; name=j\r\n\r\n{\"a\":NaN}\r\n--x--",
                "multipart/form-data; boundary=x").status == Status::unparseable);
}

TEST_CASE("multipart/related: the metadata part's text is scanned and the file part is a file named by it", "[segment_extractor]") {
  const std::string body =
      "--bnd\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{\"file\":{\"displayName\":\"bao-cao.docx\"}}\r\n"
      "--bnd\r\nContent-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document\r\n\r\nPK\x03\x04 not a real zip\r\n"
      "--bnd--\r\n";
  const Extraction e = SegmentExtractor().extract(Schema::gemini, "multipart/related; boundary=bnd", "/upload/v1beta/files", body);
  REQUIRE(e.status == Extraction::Status::ok);
  REQUIRE(e.files.size() == 1);
  CHECK(e.files[0].name == "bao-cao.docx");
  CHECK(e.files[0].location == "part 2");
  CHECK(e.files[0].bytes == "PK\x03\x04 not a real zip");
  bool display_name_scanned = false;
  for (const auto& s : e.segments) display_name_scanned = display_name_scanned || s.text == "bao-cao.docx";
  CHECK(display_name_scanned);
}
