// The web apps' request shapes (tests/data/webapps/): what SegmentExtractor finds in them, that a
// redaction through every layer of encoding changes only the prompt, and the notices a blocked
// user sees in the app's own format.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "../e2e/webapp_requests.h"
#include "gateway/adapters/block_response.h"
#include "gateway/adapters/body_rewriter.h"
#include "gateway/adapters/segment_extractor.h"
#include "gateway/config/config.h"

using nlohmann::json;
using namespace promptwall::gateway;
using namespace promptwall::webapps;
using Found = std::vector<std::pair<std::string, std::string>>;  // (location, text)

namespace {

const std::string kPrompt = "Số CCCD của anh Nam là 001203004567, ghi chú \"gấp\" \\ xong";
const std::string kRedacted = "Số CCCD của anh Nam là [CCCD-1], ghi chú \"gấp\" \\ xong";

Extraction extract(Schema schema, std::string_view body, std::string_view content_type = "application/json",
                   std::string_view path = "/backend-api/f/conversation") {
  Extraction e = SegmentExtractor().extract(schema, content_type, path, body);
  size_t previous_end = 0;
  for (const Segment& s : e.segments) {
    REQUIRE(s.raw_begin >= previous_end);
    REQUIRE(s.raw_end <= body.size());
    previous_end = s.raw_end;
  }
  return e;
}

Found found(const Extraction& e) {
  Found out;
  for (const Segment& s : e.segments) out.emplace_back(s.location, s.text);
  return out;
}

// Since issue 12 every string and key of a body is a segment, not only the app's text fields, so
// these tests check that the user's text is found where it is, among everything else.
bool has(const Found& f, const std::string& location, const std::string& text) {
  return std::find(f.begin(), f.end(), Found::value_type{location, text}) != f.end();
}

const Segment& at(const Extraction& e, std::string_view location) {
  const auto it = std::find_if(e.segments.begin(), e.segments.end(), [&](const Segment& s) { return s.location == location; });
  REQUIRE(it != e.segments.end());
  return *it;
}

// Rewrites the segment whose text is `from` to `to`, and checks that only its bytes changed.
std::string redact(std::string_view body, const Extraction& e, const std::string& from, const std::string& to) {
  const Segment* target = nullptr;
  for (const Segment& s : e.segments)
    if (s.text == from) target = &s;
  REQUIRE(target != nullptr);
  const std::string out = rewrite_body(body, {{target, to}});
  CHECK(out.substr(0, target->raw_begin) == body.substr(0, target->raw_begin));
  const size_t tail = body.size() - target->raw_end;
  CHECK(out.substr(out.size() - tail) == body.substr(target->raw_end));
  return out;
}

}  // namespace

TEST_CASE("chatgpt_web: the user's parts of a conversation request", "[webapps]") {
  SECTION("text message (action next)") {
    const std::string body = chatgpt_body("chatgpt-conversation-next.json", kPrompt);
    const Extraction e = extract(Schema::chatgpt_web, body);
    REQUIRE(e.status == Extraction::Status::ok);
    CHECK(has(found(e), "messages[0].content.parts[0]", kPrompt));
    const std::string out = redact(body, e, kPrompt, kRedacted);
    CHECK(json::parse(out) == json::parse(chatgpt_body("chatgpt-conversation-next.json", kRedacted)));
  }
  SECTION("multimodal_text: the string part and the attachment's name, not the image pointer") {
    const std::string body = chatgpt_body("chatgpt-conversation-multimodal.json", kPrompt);
    const Extraction e = extract(Schema::chatgpt_web, body);
    REQUIRE(e.status == Extraction::Status::ok);
    CHECK(has(found(e), "messages[0].content.parts[1]", kPrompt));
    CHECK(has(found(e), "messages[0].metadata.attachments[0].name", "bao-cao-quy-3.png"));
  }
  SECTION("edit variant") {
    const Extraction e = extract(Schema::chatgpt_web, chatgpt_body("chatgpt-conversation-edit.json", kPrompt));
    CHECK(has(found(e), "messages[0].content.parts[0]", kPrompt));
  }
  SECTION("content.text, an object part's text, and the prepare call's partial_query") {
    const std::string body = R"({"partial_query":{"id":"x","author":{"role":"user"},"content":{"content_type":"text","parts":["một"]}},)"
                             R"("messages":[{"author":{"role":"user"},"content":{"content_type":"code","text":"hai"}},)"
                             R"({"author":{"role":"user"},"content":{"content_type":"multimodal_text","parts":[{"content_type":"audio_transcription","text":"ba"}]}}]})";
    const Found f = found(extract(Schema::chatgpt_web, body));
    CHECK(has(f, "partial_query.content.parts[0]", "một"));
    CHECK(has(f, "messages[0].content.text", "hai"));
    CHECK(has(f, "messages[1].content.parts[0].text", "ba"));
  }
  SECTION("a WebSocket message wrapping the payload, and any other body: every string") {
    const Extraction e = extract(Schema::chatgpt_web, chatgpt_body("chatgpt-ws-message.json", kPrompt));
    REQUIRE(e.status == Extraction::Status::ok);
    const Found f = found(e);
    CHECK(std::find(f.begin(), f.end(), Found::value_type{"data.messages[0].content.parts[0]", kPrompt}) != f.end());
    CHECK(found(extract(Schema::chatgpt_web, R"({"title":"Báo cáo mật"})")) ==
          Found{{"title (key)", "title"}, {"title", "Báo cáo mật"}});
  }
}

TEST_CASE("gemini_web: StreamGenerate's prompt inside JSON inside a JSON string inside f.req", "[webapps]") {
  const std::string body = gemini_stream_generate_body(kPrompt);
  const Extraction e = extract(Schema::gemini_web, body, kGeminiContentType, kStreamGeneratePath);
  REQUIRE(e.status == Extraction::Status::ok);
  // Every string and key of the nested JSON, and the form's field names, are segments now; the
  // prompt is at [1]:[0][0], and the XSRF token `at` is the one value left out.
  REQUIRE(has(found(e), "f.req[1]:[0][0]", kPrompt));
  CHECK(has(found(e), "f.req (key)", "f.req"));
  for (const Segment& other : e.segments) CHECK(other.text != kGeminiAt);
  const Segment& s = at(e, "f.req[1]:[0][0]");
  CHECK(s.encoding == Segment::Encoding::json_string);
  CHECK(s.enclosing == std::vector{Segment::Encoding::json_string, Segment::Encoding::form_value});
  // The range decodes, layer by layer, to the prompt's token.
  const std::string escaped = form_decode(std::string_view(body).substr(s.raw_begin, s.raw_end - s.raw_begin));
  CHECK(json::parse(json::parse("\"" + escaped + "\"").get<std::string>()) == kPrompt);

  SECTION("redaction round trip: the body re-parses, the prompt is redacted, nothing else changes") {
    const std::string out = redact(body, e, kPrompt, kRedacted);
    CHECK(gemini_prompt_of(out) == kRedacted);
    json expected_inner = json::parse(gemini_freq(body)[1].get<std::string>());
    expected_inner[0][0] = kRedacted;
    CHECK(json::parse(gemini_freq(out)[1].get<std::string>()) == expected_inner);
    CHECK(out.ends_with(std::string("&at=") + encode_uri_component(kGeminiAt) + "&"));
    const Extraction again = extract(Schema::gemini_web, out, kGeminiContentType, kStreamGeneratePath);
    CHECK(has(found(again), "f.req[1]:[0][0]", kRedacted));
  }
  SECTION("an f.req that is not JSON, or lacks the envelope, is unparseable with nothing to scan") {
    for (const std::string bad : {"f.req=%5Bnull%2C%22%5B%5B%22&at=x", "f.req=%5Bnull%2C%22plain%22%5D&at=x",
                                  "f.req=%7B%7D&at=x"}) {
      INFO(bad);
      const Extraction u = extract(Schema::gemini_web, bad, kGeminiContentType, kStreamGeneratePath);
      CHECK(u.status == Extraction::Status::unparseable);
      CHECK(u.segments.empty());
    }
  }
  SECTION("a prompt that is itself JSON stays one text (its keys and numbers are scanned too)") {
    const std::string json_prompt = R"({"cccd": 001203004567, "ghi_chu": ["x"]})";
    const std::string b = gemini_stream_generate_body(json_prompt);
    CHECK(has(found(extract(Schema::gemini_web, b, kGeminiContentType, kStreamGeneratePath)), "f.req[1]:[0][0]",
              json_prompt));
  }
  SECTION("a form without f.req is any form") {
    CHECK(found(extract(Schema::gemini_web, "q=xin+ch%C3%A0o", kGeminiContentType, "/_/BardChatUi/jserror")) ==
          Found{{"q (key)", "q"}, {"q", "xin chào"}});
  }
}

TEST_CASE("gemini_web: batchexecute scans every string of the nested payload", "[webapps]") {
  const std::string body = gemini_batchexecute_body(kPrompt);
  const Extraction e = extract(Schema::gemini_web, body, kGeminiContentType, kBatchExecutePath);
  REQUIRE(e.status == Extraction::Status::ok);
  // The rpc id ("MUAZcd") and the "generic" marker are the app's transport and stay out.
  CHECK(found(e) == Found{{"f.req (key)", "f.req"},
                          {"f.req[0][0][1]:[1][0][0]", "c_8f2e4b1a9d3c7e60"},
                          {"f.req[0][0][1]:[1][0][1]", kPrompt},
                          {"at (key)", "at"}});
  const std::string out = redact(body, e, kPrompt, kRedacted);
  const json freq = gemini_freq(out);
  CHECK(freq[0][0][0] == "MUAZcd");
  CHECK(json::parse(freq[0][0][1].get<std::string>())[1][0][1] == kRedacted);
  const Extraction bad = extract(Schema::gemini_web, "f.req=%5B%22x%22%5D&at=y", kGeminiContentType, kBatchExecutePath);
  CHECK(bad.status == Extraction::Status::unparseable);
}

TEST_CASE("web app notices: in the app's format, bilingual, never the content", "[webapps][block_response]") {
  Refusal r;
  r.reason = Refusal::Reason::sensitive_content;
  r.rule_ids = {"vn.secret.degree-field"};
  r.categories = {"classification_marking"};
  r.service = "chatgpt-web";
  r.request_id = "0123456789abcdef";

  SECTION("ChatGPT: a 403 whose detail is the message") {
    const RefusalResponse rr = render_refusal(Schema::chatgpt_web, false, r);
    CHECK(rr.status == 403);
    const json j = json::parse(rr.body);
    REQUIRE(j.contains("detail"));
    const std::string detail = j["detail"];
    CHECK(detail == refusal_message(r));
    CHECK(detail.find("đã chặn") != std::string::npos);
    CHECK(detail.find("blocked") != std::string::npos);
    CHECK(detail.find("vn.secret.degree-field") != std::string::npos);
    CHECK(detail.find("0123456789abcdef") != std::string::npos);
  }
  SECTION("Gemini: a StreamGenerate answer whose reply is the message") {
    const RefusalResponse rr = render_refusal(Schema::gemini_web, false, r);
    CHECK(rr.status == 200);
    REQUIRE(rr.body.starts_with(")]}'\n\n"));
    std::string rest = rr.body.substr(6);
    const size_t nl = rest.find('\n');
    const size_t length = std::stoul(rest.substr(0, nl));
    const std::string chunk = rest.substr(nl + 1, rest.size() - nl - 2);
    CHECK(rest.back() == '\n');
    size_t units = 0;  // UTF-16 code units, as the app counts
    for (unsigned char c : chunk) units += ((c & 0xC0) != 0x80) + ((c & 0xF8) == 0xF0);
    CHECK(length == units);
    const json envelope = json::parse(chunk);
    CHECK(envelope[0][0] == "wrb.fr");
    const json inner = json::parse(envelope[0][2].get<std::string>());
    CHECK(inner[4][0][1][0] == refusal_message(r));
    CHECK(inner[1][0].get<std::string>().starts_with("c_"));
  }
  SECTION("the HTML page for a page load") {
    CHECK(render_refusal(Schema::gemini_web, true, r).content_type.starts_with("text/html"));
  }
  SECTION("WebSocket close reasons fit RFC 6455's 123 bytes, in both languages, with the id") {
    for (auto reason : {Refusal::Reason::sensitive_content, Refusal::Reason::unreadable_body, Refusal::Reason::body_too_large,
                        Refusal::Reason::audit_unavailable, Refusal::Reason::internal_error}) {
      r.reason = reason;
      r.request_id = "0123456789abcdef0123456789abcdef";
      const std::string why = websocket_close_reason(r);
      INFO(why);
      CHECK(why.size() <= kMaxCloseReasonBytes);
      CHECK(json(why).dump().size() > 2);  // valid UTF-8 (nlohmann throws otherwise)
      CHECK(why.find(" | ") != std::string::npos);
      r.request_id = "0123456789abcdef";
      CHECK(websocket_close_reason(r).find("0123456789abcdef") != std::string::npos);
    }
  }
}

TEST_CASE("a service of public names routes each host to itself", "[webapps][service]") {
  Service s;
  s.name = "chatgpt-web";
  s.hosts = {"chatgpt.com", "chat.openai.com"};
  s.upstream = UpstreamTarget{true, "chatgpt.com", 443, ""};
  CHECK(upstream_for_host(s, "chat.openai.com").host == "chat.openai.com");
  CHECK(upstream_for_host(s, "chatgpt.com").host == "chatgpt.com");
  CHECK(upstream_for_host(s, "").host == "chatgpt.com");
  s.upstream = UpstreamTarget{false, "127.0.0.1", 8081, ""};  // a relay or a test double
  CHECK(upstream_for_host(s, "chat.openai.com").host == "127.0.0.1");
  CHECK(upstream_for_host(s, "chat.openai.com").port == 8081);
}

TEST_CASE("the default configuration reads the web apps with their schemas", "[webapps][config]") {
  const GatewayConfig c = parse_gateway_config(default_gateway_config_yaml(), "default", "/");
  auto schema_of = [&](std::string_view name) {
    for (const auto& s : c.services)
      if (s.name == name) return std::string(to_string(s.schema));
    return std::string("missing");
  };
  CHECK(schema_of("chatgpt-web") == "chatgpt_web");
  CHECK(schema_of("gemini-web") == "gemini_web");
  CHECK(schema_from_string("gemini_web") == Schema::gemini_web);
}
