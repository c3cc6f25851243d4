// Every request shape the schemas read: a CCCD placed where each API carries user text must reach
// the upstream as [CCCD-1], with every other byte of the body as sent.
#include "expectations.h"

using namespace promptwall::e2e;

namespace {

// Sends `body` to the gateway path and checks the client got a redact decision and the upstream
// the body with only the CCCD replaced.
void check_redacted(GatewayFixture& gw, const std::string& path, const std::string& body, std::vector<std::string> headers = {}) {
  INFO("path: " << path);
  auto m = gw.mark();
  auto r = post(gw.url(path), body, std::move(headers));
  INFO("client got " << r.status << ": " << r.body);
  CHECK(r.status == 200);
  check_decision(r, "redact");
  CHECK(contains(r.header("X-Promptwall-Rules"), "vn.pii.cccd"));
  check_forwarded_body(single_forward(gw, m), replace_all(body, kCccd, "[CCCD-1]"));
}

std::string url_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') out += ' ';
    else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else out += s[i];
  }
  return out;
}

}  // namespace

TEST_CASE("openai request shapes", "[e2e][schemas]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  SECTION("chat: content as parts") {
    json body = {{"model", "gpt-4o"},
                 {"messages", json::array({{{"role", "user"},
                                            {"content", json::array({{{"type", "text"}, {"text", kCccdText}},
                                                                     {{"type", "image_url"}, {"image_url", {{"url", "https://example.com/a.png"}}}}})}}})}};
    check_redacted(gw, "/openai/v1/chat/completions", body.dump());
  }
  SECTION("chat: tool call arguments (JSON inside a JSON string)") {
    json call = {{"id", "call_1"}, {"type", "function"},
                 {"function", {{"name", "lookup_citizen"}, {"arguments", json({{"cccd", kCccd}, {"n", 1}}).dump()}}}};
    json body = {{"model", "gpt-4o"},
                 {"messages", json::array({{{"role", "user"}, {"content", "Tra cứu giúp"}},
                                           {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", json::array({call})}},
                                           {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "không tìm thấy"}}})}};
    check_redacted(gw, "/openai/v1/chat/completions", body.dump());
  }
  SECTION("Responses API: input as a string and as items") {
    check_redacted(gw, "/openai/v1/responses", json({{"model", "gpt-4o"}, {"input", kCccdText}}).dump());
    json items = {{"model", "gpt-4o"},
                  {"instructions", "Trả lời ngắn gọn"},
                  {"input", json::array({{{"role", "user"}, {"content", json::array({{{"type", "input_text"}, {"text", kCccdText}}})}}})}};
    check_redacted(gw, "/openai/v1/responses", items.dump());
  }
  SECTION("embeddings") {
    check_redacted(gw, "/openai/v1/embeddings",
                   json({{"model", "text-embedding-3-small"}, {"input", json::array({kClean, kCccdText})}}).dump());
  }
  SECTION("legacy completions") {
    check_redacted(gw, "/openai/v1/completions",
                   json({{"model", "gpt-3.5-turbo-instruct"}, {"prompt", kCccdText}, {"max_tokens", 5}}).dump());
  }
}

TEST_CASE("gemini and anthropic request shapes", "[e2e][schemas]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  SECTION("gemini generateContent: contents and systemInstruction") {
    json body = {{"systemInstruction", {{"parts", json::array({{{"text", kCccdText}}})}}},
                 {"contents", json::array({{{"role", "user"}, {"parts", json::array({{{"text", "Xin chào"}}, {{"text", kCccdText}}})}}})},
                 {"generationConfig", {{"temperature", 0.5}}}};
    check_redacted(gw, "/gemini/v1beta/models/gemini-2.0-flash:generateContent", body.dump(), {"x-goog-api-key: k"});
  }
  SECTION("gemini streamGenerateContent?alt=sse: redacted and relayed as it streams") {
    json body = {{"contents", json::array({{{"role", "user"}, {"parts", json::array({{{"text", kCccdText}}})}}})}};
    auto m = gw.mark();
    auto r = stream_client(gw.url("/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"), body.dump());
    INFO(r.dump());
    CHECK(r["status"] == 200);
    CHECK(r["headers"].value("x-promptwall-decision", "") == "redact");
    CHECK(contains(r.value("body", ""), "\"c4\""));
    CHECK(spread_over_time(r["chunk_ms"]));
    check_forwarded_body(single_forward(gw, m), replace_all(body.dump(), kCccd, "[CCCD-1]"));
  }
  SECTION("anthropic messages: system blocks and tool_use input") {
    json body = {{"model", "claude-3-5-haiku-latest"},
                 {"max_tokens", 256},
                 {"system", json::array({{{"type", "text"}, {"text", kCccdText}}})},
                 {"messages", json::array({{{"role", "user"}, {"content", "Tra cứu"}},
                                           {{"role", "assistant"},
                                            {"content", json::array({{{"type", "tool_use"}, {"id", "toolu_1"}, {"name", "lookup"},
                                                                      {"input", {{"so_cccd", kCccd}, {"nested", {{"x", kCccdText}}}}}}})}},
                                           {{"role", "user"},
                                            {"content", json::array({{{"type", "tool_result"}, {"tool_use_id", "toolu_1"}, {"content", "ok"}}})}}})}};
    check_redacted(gw, "/anthropic/v1/messages", body.dump(), {"x-api-key: k", "anthropic-version: 2023-06-01"});
  }
  SECTION("anthropic streaming: redacted and relayed as it streams") {
    json body = {{"model", "claude-3-5-haiku-latest"}, {"max_tokens", 64}, {"stream", true},
                 {"messages", json::array({{{"role", "user"}, {"content", kCccdText}}})}};
    auto m = gw.mark();
    auto r = stream_client(gw.url("/anthropic/v1/messages"), body.dump(), {"--header", "anthropic-version: 2023-06-01"});
    INFO(r.dump());
    CHECK(r["status"] == 200);
    CHECK(contains(r.value("body", ""), "event: message_stop"));
    CHECK(spread_over_time(r["chunk_ms"]));
    check_forwarded_body(single_forward(gw, m), replace_all(body.dump(), kCccd, "[CCCD-1]"));
  }
}

TEST_CASE("generic services: every JSON string, plain text and forms", "[e2e][schemas]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  SECTION("json: strings at any depth; other values untouched") {
    json body = {{"ticket", {{"title", "Hỗ trợ"}, {"notes", json::array({"a", kCccdText, 42})}}},
                 {"n", 1.5}};
    auto m = gw.mark();
    auto r = post(gw.url("/generic/api/tickets"), body.dump());
    CHECK(r.status == 200);
    check_decision(r, "redact");
    auto rec = single_forward(gw, m);
    REQUIRE(rec.is_object());
    CHECK(rec["url"] == "/api/tickets");
    auto got = json::parse(body_of(rec), nullptr, false);
    INFO(body_of(rec));
    CHECK(got["ticket"]["notes"][1] == "Số CCCD của anh Nam là [CCCD-1]");
    CHECK(got["ticket"]["title"] == "Hỗ trợ");
    CHECK(got["n"] == 1.5);
  }
  SECTION("text/plain") {
    const std::string text = std::string("Ghi chú:\n") + kCccdText + "\nHết.\n";
    check_redacted(gw, "/generic/notes", text, {"Content-Type: text/plain; charset=utf-8"});
  }
  SECTION("a form body: the field is redacted and stays a valid form") {
    const std::string form = "title=h%E1%BB%97+tr%E1%BB%A3&note=S%E1%BB%91+CCCD+c%E1%BB%A7a+anh+Nam+l%C3%A0+001203004567&n=1";
    auto m = gw.mark();
    auto r = post(gw.url("/generic/form"), form, {"Content-Type: application/x-www-form-urlencoded"});
    CHECK(r.status == 200);
    check_decision(r, "redact");
    auto rec = single_forward(gw, m);
    REQUIRE(rec.is_object());
    const auto got = body_of(rec);
    INFO(got);
    CHECK_FALSE(contains(got, kCccd));
    CHECK(contains(url_decode(got), "note=Số CCCD của anh Nam là [CCCD-1]&n=1"));
    CHECK(got.rfind("title=h%E1%BB%97+tr%E1%BB%A3&", 0) == 0);
    CHECK(rec["headers"].value("content-length", "") == std::to_string(got.size()));
  }
}
