#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "encoding/web_text.h"
#include "gateway/adapters/body_rewriter.h"
#include "gateway/adapters/segment_extractor.h"

using nlohmann::json;
using promptwall::gateway::Extraction;
using promptwall::encoding::form_encode;
using promptwall::gateway::json_string_token;
using promptwall::gateway::rewrite_body;
using promptwall::gateway::Schema;
using promptwall::gateway::Segment;
using promptwall::gateway::SegmentExtractor;
using promptwall::gateway::SegmentReplacement;

namespace {

const std::string kChat = R"({
  "model": "gpt-4o",
  "messages": [
    {"role": "system", "content": "Trợ lý pháp lý"},
    {"role": "user", "content": [{"type": "text", "text": "CCCD của tôi là 001099012345, gọi 0912 345 678"}]},
    {"role": "user", "content": "Ghi chú: \u0111\u1ed3ng \"A\""}
  ],
  "temperature": 0.2
})";

Extraction extract(Schema schema, std::string_view body, std::string_view content_type = "application/json") {
  Extraction e = SegmentExtractor().extract(schema, content_type, "/v1/chat/completions", body);
  REQUIRE(e.status == Extraction::Status::ok);
  return e;
}

const Segment& at(const Extraction& e, std::string_view location) {
  for (const Segment& s : e.segments)
    if (s.location == location) return s;
  FAIL("no segment at " << location);
  throw std::logic_error("unreachable");
}

// The body outside [begin, end) is byte-for-byte what it was.
void check_unchanged_around(const std::string& before, const std::string& after, size_t begin, size_t end) {
  const size_t tail = before.size() - end;
  CHECK(after.substr(0, begin) == before.substr(0, begin));
  CHECK(after.substr(after.size() - tail) == before.substr(end));
}

// A random JSON value: nested objects and arrays, numbers, literals and strings that need
// escaping (quotes, backslashes, control characters, '/', Vietnamese, emoji).
json random_json(std::mt19937& rng, int depth) {
  static const std::vector<std::string> pieces = {"a", "Z", " ", "\"", "\\", "/", "\n", "\t", "\x01", "\x1f", "ậ",
                                                  "Đ", "😀", "\u2028", "{", "}", "[", ",", ":", "%", "+", "&", "="};
  const auto random_string = [&] {
    std::string s;
    const size_t n = rng() % 12;
    for (size_t i = 0; i < n; ++i) s += pieces[rng() % pieces.size()];
    return s;
  };
  switch (depth > 3 ? rng() % 4 : rng() % 6) {
    case 0: return random_string();
    case 1: return static_cast<int64_t>(rng()) - (1LL << 31);
    case 2: return rng() % 2 == 0;
    case 3: return nullptr;
    case 4: {
      json o = json::object();
      for (size_t i = rng() % 5; i > 0; --i) o[random_string()] = random_json(rng, depth + 1);
      return o;
    }
    default: {
      json a = json::array();
      for (size_t i = rng() % 5; i > 0; --i) a.push_back(random_json(rng, depth + 1));
      return a;
    }
  }
}

// `value` with every string (not key) passed through f.
json map_strings(const json& value, const std::function<std::string(const std::string&)>& f) {
  if (value.is_string()) return f(value.get<std::string>());
  if (value.is_object()) {
    json o = json::object();
    for (const auto& [k, v] : value.items()) o[k] = map_strings(v, f);
    return o;
  }
  if (value.is_array()) {
    json a = json::array();
    for (const auto& v : value) a.push_back(map_strings(v, f));
    return a;
  }
  return value;
}

}  // namespace

TEST_CASE("json_string_token and form_encode", "[body_rewriter]") {
  CHECK(json_string_token("") == R"("")");
  CHECK(json_string_token("a\"b\\c\nd\re\tf\bg\fh") == R"("a\"b\\c\nd\re\tf\bg\fh")");
  CHECK(json_string_token(std::string("\x01\x1f\x7f", 3)) == "\"\\u0001\\u001F\x7f\"");
  CHECK(json_string_token(std::string("nul\0l", 5)) == R"("nul\u0000l")");
  CHECK(json_string_token("Đồng ý / 😀") == "\"Đồng ý / 😀\"");
  CHECK(form_encode("Xin chào & a=b+c%") == "Xin+ch%C3%A0o+%26+a%3Db%2Bc%25");
  CHECK(form_encode("A-z_0.9*~") == "A-z_0.9*%7E");
}

TEST_CASE("a replaced JSON string changes and nothing else does", "[body_rewriter]") {
  const Extraction e = extract(Schema::openai, kChat);
  const Segment& secret = at(e, "messages[1].content[0].text");
  const std::string replacement = "CCCD của tôi là [CCCD-1], gọi \"[PHONE-1]\"\\\n";
  const std::string out = rewrite_body(kChat, {{&secret, replacement}});

  json expected = json::parse(kChat);
  expected["messages"][1]["content"][0]["text"] = replacement;
  CHECK(json::parse(out) == expected);
  check_unchanged_around(kChat, out, secret.raw_begin, secret.raw_end);
  CHECK(out.find("001099012345") == std::string::npos);
  CHECK(out.find(R"(\"[PHONE-1]\"\\\n")") != std::string::npos);
}

TEST_CASE("replacements in any order, untouched escapes stay as they were", "[body_rewriter]") {
  const Extraction e = extract(Schema::openai, kChat);
  const Segment& system = at(e, "messages[0].content");
  const Segment& note = at(e, "messages[2].content");
  const std::string out = rewrite_body(kChat, {{&note, "[NOTE]"}, {&system, "[SYSTEM]"}});
  json expected = json::parse(kChat);
  expected["messages"][0]["content"] = "[SYSTEM]";
  expected["messages"][2]["content"] = "[NOTE]";
  CHECK(json::parse(out) == expected);
  // Between and around the two replaced tokens every byte is the original's.
  const std::string replaced_system = json_string_token("[SYSTEM]");
  const size_t shift = replaced_system.size() - (system.raw_end - system.raw_begin);
  CHECK(out.substr(0, system.raw_begin) == kChat.substr(0, system.raw_begin));
  CHECK(out.substr(system.raw_end + shift, note.raw_begin - system.raw_end) ==
        kChat.substr(system.raw_end, note.raw_begin - system.raw_end));
  CHECK(out.substr(out.size() - (kChat.size() - note.raw_end)) == kChat.substr(note.raw_end));
  // The untouched segment keeps its \u escapes rather than being re-encoded.
  CHECK(rewrite_body(kChat, {{&system, "x"}}).find(R"(\u0111\u1ed3ng \"A\")") != std::string::npos);
  CHECK(rewrite_body(kChat, {}) == kChat);
}

TEST_CASE("form values are re-encoded in place", "[body_rewriter]") {
  const std::string body = "user=an&message=S%E1%BB%91+th%E1%BA%BB+4111111111111111&lang=vi";
  const Extraction e = extract(Schema::json, body, "application/x-www-form-urlencoded");
  const Segment& message = at(e, "message");
  const std::string out = rewrite_body(body, {{&message, "Số thẻ [CARD-1] & more=yes"}});
  CHECK(out == "user=an&message=S%E1%BB%91+th%E1%BA%BB+%5BCARD-1%5D+%26+more%3Dyes&lang=vi");
  const Extraction again = extract(Schema::json, out, "application/x-www-form-urlencoded");
  // Names are segments too (kind key), so three fields are six segments.
  REQUIRE(again.segments.size() == 6);
  CHECK(at(again, "message").text == "Số thẻ [CARD-1] & more=yes");
  CHECK(at(again, "lang").text == "vi");
}

TEST_CASE("a raw body is replaced as is", "[body_rewriter]") {
  const std::string body = "Mật khẩu: hunter2";
  const Extraction e = extract(Schema::text, body, "text/plain");
  REQUIRE(e.segments.size() == 1);
  CHECK(rewrite_body(body, {{&e.segments[0], "Mật khẩu: [SECRET-1] \"as is\"\n"}}) ==
        "Mật khẩu: [SECRET-1] \"as is\"\n");
}

TEST_CASE("overlapping or out-of-range replacements are refused", "[body_rewriter]") {
  const std::string body = R"({"a":"xyz"})";
  const Segment whole{"", "a", 5, 10, Segment::Encoding::json_string};
  const Segment inner{"", "a", 6, 9, Segment::Encoding::json_string};
  const Segment outside{"", "a", 5, 12, Segment::Encoding::json_string};
  CHECK_THROWS_AS(rewrite_body(body, {{&whole, "1"}, {&inner, "2"}}), std::invalid_argument);
  CHECK_THROWS_AS(rewrite_body(body, {{&outside, "1"}}), std::invalid_argument);
  CHECK(rewrite_body(body, {{&whole, "1"}}) == R"({"a":"1"})");
}

TEST_CASE("a segment that is not rewritable is refused, never spliced", "[body_rewriter]") {
  // Keys (a new key can collide with a sibling), decoded base64 and transcoded bodies: the
  // inspector blocks instead, and a caller that tries anyway gets an exception, not a body.
  const std::string body = R"({"TUYỆT MẬT":"x"})";
  const Extraction e = extract(Schema::json, body);
  const Segment& key = at(e, "[*] (key)");
  CHECK(key.kind == Segment::Kind::key);
  CHECK_FALSE(key.rewritable);
  CHECK_THROWS_AS(rewrite_body(body, {{&key, "[SECRET]"}}), std::invalid_argument);
  CHECK(rewrite_body(body, {{&at(e, "[*]"), "y"}}) == R"({"TUYỆT MẬT":"y"})");
}

TEST_CASE("round trip: extract, replace every segment, re-parse", "[body_rewriter]") {
  std::mt19937 rng(20240601);
  for (int round = 0; round < 300; ++round) {
    const json original = round % 3 == 0 ? json::array({random_json(rng, 0)}) : json{{"k", random_json(rng, 0)}};
    const int indent = round % 2 == 0 ? -1 : 2;
    const std::string body = original.dump(indent, ' ', /*ensure_ascii=*/round % 4 == 1);
    INFO(body);
    const Extraction e = extract(Schema::json, body);

    std::vector<SegmentReplacement> same, marked;
    for (const Segment& s : e.segments) {
      if (!s.rewritable) continue;  // keys: a redaction there is a block, never a rewrite
      same.push_back({&s, s.text});
      marked.push_back({&s, s.text + "✓\"\\"});
    }
    CHECK(json::parse(rewrite_body(body, same)) == original);
    CHECK(json::parse(rewrite_body(body, marked)) ==
          map_strings(original, [](const std::string& s) { return s + "✓\"\\"; }));
  }
  // A real request through a schema: the same texts give the same document.
  const Extraction chat = extract(Schema::openai, kChat);
  std::vector<SegmentReplacement> same;
  for (const Segment& s : chat.segments)
    if (s.rewritable) same.push_back({&s, s.text});
  // Every string value is a segment since issue 12 (model, roles, types too), not only the
  // schema's text fields: 8 values; the 11 keys are segments but not rewritable.
  CHECK(same.size() == 8);
  CHECK(chat.segments.size() == 19);
  CHECK(json::parse(rewrite_body(kChat, same)) == json::parse(kChat));
}
