#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

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
      case Segment::Encoding::json_string:
        REQUIRE(token.size() >= 2);
        CHECK(token.front() == '"');
        CHECK(token.back() == '"');
        CHECK(nlohmann::json::parse(token).get<std::string>() == s.text);
        break;
      case Segment::Encoding::raw:
        CHECK(s.raw_begin == 0);
        CHECK(s.raw_end == body.size());
        CHECK(s.text == body);
        CHECK(s.location == "body");
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
  CHECK(ok_found(Schema::openai, body) == Found{
      {"messages[0].content", "You are a helpful assistant."},
      {"messages[1].name", "an"},
      {"messages[1].content[0].text", "Tóm tắt hợp đồng này"},
      {"messages[2].tool_calls[0].function.arguments", R"({"city":"Hà Nội"})"},
      {"messages[3].content", "Trời nắng, 31°C"},
      {"messages[4].function_call.arguments", R"({"x":1})"},
      {"tools[0].function.name", "get_weather"},
      {"tools[0].function.description", "Get the weather"},
      {"tools[0].function.parameters.type", "object"},
      {"tools[0].function.parameters.properties.city.type", "string"},
      {"tools[0].function.parameters.properties.city.description", "City name"},
      {"tools[0].function.parameters.required[0]", "city"},
      {"functions[0].name", "old_style"},
      {"functions[0].description", "Legacy function"},
      {"functions[0].parameters.type", "object"},
  });
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
  CHECK(ok_found(Schema::openai, body) == Found{
      {"instructions", "Trả lời bằng tiếng Việt"},
      {"input[0].content[0].text", "Đọc ảnh này"},
      {"input[1].arguments", R"({"id":42})"},
      {"input[2].output", "Khách hàng: Trần Thị B"},
      {"input[3].content", "Cảm ơn"},
      {"tools[0].name", "lookup"},
      {"tools[0].description", "Look up a customer"},
      {"tools[0].parameters.type", "object"},
      {"tools[0].parameters.properties.id.type", "integer"},
  });
  CHECK(ok_found(Schema::openai, R"({"model":"gpt-4.1","input":"Xin chào"})") == Found{{"input", "Xin chào"}});
}

TEST_CASE("OpenAI embeddings and legacy completions", "[segment_extractor]") {
  CHECK(ok_found(Schema::openai, R"({"model":"text-embedding-3-small","input":["một","hai"]})") ==
        Found{{"input[0]", "một"}, {"input[1]", "hai"}});
  // Token arrays carry no text; `input` is still a field the schema knows, so nothing falls back.
  CHECK(ok_found(Schema::openai, R"({"model":"text-embedding-3-small","input":[[1,2,3],[4]]})").empty());
  CHECK(ok_found(Schema::openai, R"({"model":"text-embedding-3-small","input":[15339, 1917]})").empty());
  CHECK(ok_found(Schema::openai,
                 R"({"model":"gpt-3.5-turbo-instruct","prompt":["Say this","Say that"],"suffix":"end","max_tokens":7})") ==
        Found{{"prompt[0]", "Say this"}, {"prompt[1]", "Say that"}, {"suffix", "end"}});
  CHECK(ok_found(Schema::openai, R"({"model":"m","prompt":"Once upon a time"})") == Found{{"prompt", "Once upon a time"}});
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
  CHECK(found(e) == Found{
      {"systemInstruction.parts[0].text", "Bạn là trợ lý"},
      {"contents[0].parts[0].text", "Thời tiết Hà Nội?"},
      {"contents[1].parts[0].functionCall.args.city", "Hà Nội"},
      {"contents[1].parts[0].functionCall.args.opts.unit", "C"},
      {"contents[2].parts[0].functionResponse.response.forecast[0]", "Mưa"},
      {"contents[2].parts[0].functionResponse.response.forecast[1]", "Nắng"},
      {"tools[0].functionDeclarations[0].name", "get_weather"},
      {"tools[0].functionDeclarations[0].description", "Weather by city"},
      {"tools[0].functionDeclarations[0].parameters.type", "OBJECT"},
      {"tools[0].functionDeclarations[0].parameters.properties.city.type", "STRING"},
  });
}

TEST_CASE("Gemini accepts snake_case field names, and embedContent", "[segment_extractor]") {
  CHECK(ok_found(Schema::gemini, R"({"system_instruction":{"parts":[{"text":"sys"}]},
      "contents":[{"parts":[{"text":"hi"},{"function_call":{"name":"f","args":{"q":"x"}}},
                            {"function_response":{"name":"f","response":{"r":"y"}}},
                            {"inline_data":{"mime_type":"image/png","data":"AAAA"}}]}],
      "tools":[{"function_declarations":[{"name":"f","description":"d"}]}]})") ==
        Found{{"system_instruction.parts[0].text", "sys"},
              {"contents[0].parts[0].text", "hi"},
              {"contents[0].parts[1].function_call.args.q", "x"},
              {"contents[0].parts[2].function_response.response.r", "y"},
              {"tools[0].function_declarations[0].name", "f"},
              {"tools[0].function_declarations[0].description", "d"}});
  CHECK(ok_found(Schema::gemini, R"({"model":"models/text-embedding-004","content":{"parts":[{"text":"nhúng"}]}})") ==
        Found{{"content.parts[0].text", "nhúng"}});
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
  CHECK(ok_found(Schema::anthropic, body) == Found{
      {"system[0].text", "Bạn là luật sư"},
      {"messages[0].content", "Xem hợp đồng"},
      {"messages[1].content[0].text", "Tôi sẽ tra cứu"},
      {"messages[1].content[1].input.query", "điều 5"},
      {"messages[1].content[1].input.filters[0]", "2024"},
      {"messages[2].content[0].content", "Kết quả 1"},
      {"messages[2].content[1].content[0].text", "Kết quả 2"},
      {"tools[0].name", "search"},
      {"tools[0].description", "Search documents"},
      {"tools[0].input_schema.type", "object"},
      {"tools[0].input_schema.properties.query.type", "string"},
  });
  CHECK(ok_found(Schema::anthropic, R"({"system":"Trợ lý","messages":[{"role":"user","content":"Chào"}]})") ==
        Found{{"system", "Trợ lý"}, {"messages[0].content", "Chào"}});
}

TEST_CASE("a body with none of the schema's fields falls back to every string", "[segment_extractor]") {
  const std::string body =
      R"({"model":"x","file_id":"file-1","metadata":{"note":"bí mật"},"img":"data:image/png;base64,AAAA"})";
  const Found expected{{"model", "x"}, {"file_id", "file-1"}, {"metadata.note", "bí mật"}};
  CHECK(ok_found(Schema::openai, body) == expected);
  CHECK(ok_found(Schema::gemini, body) == expected);
  CHECK(ok_found(Schema::anthropic, body) == expected);
  // A known field, even holding no text, means the schema describes the body.
  CHECK(ok_found(Schema::anthropic, R"({"messages":[],"metadata":{"note":"bí mật"}})").empty());
}

TEST_CASE("Schema::json takes every string value but no keys and no base64 data URLs", "[segment_extractor]") {
  CHECK(ok_found(Schema::json, R"([{"a":["x",1,true,null,{"b":"y"}]},"z",
      {"img":"DATA:image/png;BASE64,AAAA","note":"data:text/plain,hello","a.b":{"":"w"}}])") ==
        Found{{"[0].a[0]", "x"},
              {"[0].a[4].b", "y"},
              {"[1]", "z"},
              {"[2].note", "data:text/plain,hello"},
              {"[2][\"a.b\"][\"\"]", "w"}});
  // A document that is one string.
  const Extraction scalar = extract(Schema::json, R"(  "chỉ một chuỗi"  )");
  CHECK(scalar.status == Status::ok);
  CHECK(found(scalar) == Found{{"body", "chỉ một chuỗi"}});
  CHECK(ok_found(Schema::json, "42").empty());
  CHECK(ok_found(Schema::json, R"({"n":123456789012345678901234567890,"e":-1.5e-300,"s":"x"})") == Found{{"s", "x"}});
}

TEST_CASE("keys that may be data are withheld from locations, which reach the logs", "[segment_extractor]") {
  // A map keyed by citizen ID numbers, a Vietnamese key, a very long key: locations show [*].
  CHECK(ok_found(Schema::json, R"({"users":{"001203004567":{"name":"Nam"}},"ghi chú riêng":"x",
      "v2":{"id_2024":"y"}})") ==
        Found{{"users[*].name", "Nam"}, {"[*]", "x"}, {"v2[*]", "y"}});
  CHECK(ok_found(Schema::json, "{\"" + std::string(65, 'k') + "\":\"z\"}") == Found{{"[*]", "z"}});
  // Form field names likewise.
  CHECK(ok_found(Schema::json, "cccd_001203004567=a&note=b", "application/x-www-form-urlencoded") ==
        Found{{"[*]", "a"}, {"note", "b"}});
}

TEST_CASE("escapes are decoded and the token range covers the escaped form", "[segment_extractor]") {
  const std::string body = R"({"input": "line1\nline2 \"q\" \u1ee6 \ud83d\ude00 \\ \/ \t"  ,"x":1})";
  const Extraction e = extract(Schema::openai, body);
  REQUIRE(e.segments.size() == 1);
  const Segment& s = e.segments[0];
  CHECK(s.text == "line1\nline2 \"q\" Ủ 😀 \\ / \t");
  CHECK(s.encoding == Segment::Encoding::json_string);
  CHECK(body.substr(s.raw_begin, s.raw_end - s.raw_begin) ==
        R"("line1\nline2 \"q\" \u1ee6 \ud83d\ude00 \\ \/ \t")");
}

TEST_CASE("malformed JSON is unparseable and falls back to one raw segment", "[segment_extractor]") {
  for (const std::string body : {R"({"messages":[{"content":"hi"}])", R"({"a":1} x)", R"({"a":1}})", R"({"a":tru})",
                                 R"({"a":nul})", R"({"a":1,})", R"({"a" 1})", R"([1,2 3])", R"({"a":"x"}{"b":"y"})",
                                 R"({"a":01})", R"("hello" x)", R"({"a":"unterminated})"}) {
    INFO(body);
    const Extraction e = extract(Schema::openai, body);
    CHECK(e.status == Status::unparseable);
    CHECK_FALSE(e.error.empty());
    CHECK(found(e) == Found{{"body", body}});
  }
  CHECK(extract(Schema::json, R"({"a":1}   x)").error == "unexpected content after the JSON document at byte 10");
  CHECK(extract(Schema::json, R"({"a":[1,2 3]})").error.rfind("malformed JSON at byte 10: ", 0) == 0);
  // A lone surrogate escape decodes to no character.
  CHECK(extract(Schema::json, R"({"a":"\ud800"})").status == Status::unparseable);
  // Invalid UTF-8 inside a string: unparseable, and the raw fallback is not text either.
  const Extraction bad_utf8 = extract(Schema::openai, "{\"input\":\"caf\xe9\"}");
  CHECK(bad_utf8.status == Status::unparseable);
  CHECK(bad_utf8.segments.empty());
}

TEST_CASE("nesting deeper than the limit is refused with its position", "[segment_extractor]") {
  const std::string ok = std::string(64, '[') + "\"deep\"" + std::string(64, ']');
  CHECK(ok_found(Schema::json, ok).size() == 1);
  const std::string deep = std::string(65, '[') + "\"deep\"" + std::string(65, ']');
  const Extraction e = extract(Schema::json, deep);
  CHECK(e.status == Status::unparseable);
  CHECK(e.error == "JSON nesting deeper than 64 at byte 64");
  const std::string objects = R"({"a":{"b":{"c":"x"}}})";
  CHECK(SegmentExtractor(ExtractorLimits{2}).extract(Schema::json, "", "", objects).error ==
        "JSON nesting deeper than 2 at byte 10");
  CHECK(SegmentExtractor(ExtractorLimits{3}).extract(Schema::json, "", "", objects).status == Status::ok);
}

TEST_CASE("content types choose how a body is read", "[segment_extractor]") {
  // No content type: JSON if it looks like JSON, text otherwise.
  CHECK(ok_found(Schema::openai, " \n{\"input\":\"x\"}", "") == Found{{"input", "x"}});
  CHECK(ok_found(Schema::openai, "plain words", "") == Found{{"body", "plain words"}});
  // A UTF-8 byte order mark before JSON is allowed; offsets still count it.
  CHECK(ok_found(Schema::openai, "\xEF\xBB\xBF{\"input\":\"x\"}", "") == Found{{"input", "x"}});
  CHECK(ok_found(Schema::openai, "\xEF\xBB\xBF{\"input\":\"x\"}") == Found{{"input", "x"}});
  CHECK(ok_found(Schema::json, R"({"a":"b"})", "Application/Vnd.Api+JSON; charset=utf-8") == Found{{"a", "b"}});
  // Schema::text does not parse.
  CHECK(ok_found(Schema::text, R"({"a":"b"})") == Found{{"body", R"({"a":"b"})"}});
  CHECK(ok_found(Schema::json, "Xin chào, đây là văn bản", "text/plain; charset=utf-8") ==
        Found{{"body", "Xin chào, đây là văn bản"}});
  CHECK(ok_found(Schema::json, "key: giá trị", "application/yaml") == Found{{"body", "key: giá trị"}});
  const Extraction latin1 = extract(Schema::json, "caf\xe9", "text/plain");
  CHECK(latin1.status == Status::binary);
  CHECK(latin1.segments.empty());
  for (const char* ct : {"multipart/form-data; boundary=xyz", "application/octet-stream", "image/png", "audio/wav",
                         "application/pdf"}) {
    INFO(ct);
    const Extraction e = extract(Schema::text, "--xyz\r\nContent-Disposition: form-data\r\n\r\nhi\r\n--xyz--", ct);
    CHECK(e.status == Status::binary);
    CHECK(e.segments.empty());
    CHECK_FALSE(e.error.empty());
  }
  const Extraction empty = extract(Schema::openai, "", "multipart/form-data");
  CHECK(empty.status == Status::ok);
  CHECK(empty.segments.empty());
}

TEST_CASE("form bodies: one segment per value, percent- and plus-decoded", "[segment_extractor]") {
  const std::string body = "a=1&message=Xin+ch%C3%A0o+b%e1%ba%a1n&empty=&flag&q=50%25+off%zz&&t%C3%AAn=An";
  const Extraction e = extract(Schema::json, body, "application/x-www-form-urlencoded");
  CHECK(e.status == Status::ok);
  CHECK(found(e) == Found{{"a", "1"}, {"message", "Xin chào bạn"}, {"empty", ""}, {"q", "50% off%zz"}, {"[*]", "An"}});  // a non-ASCII name is withheld
  REQUIRE(e.segments.size() == 5);
  CHECK(body.substr(e.segments[1].raw_begin, e.segments[1].raw_end - e.segments[1].raw_begin) ==
        "Xin+ch%C3%A0o+b%e1%ba%a1n");
  for (const Segment& s : e.segments) CHECK(s.encoding == Segment::Encoding::form_value);
  const Extraction bad = extract(Schema::json, "a=%FF%FE", "application/x-www-form-urlencoded");
  CHECK(bad.status == Status::binary);
  CHECK(bad.segments.empty());
}
