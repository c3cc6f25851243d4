// Pseudonyms (gateway/pseudonyms/): a CCCD and a phone number reach the fake upstream as [CCCD-1]
// and [SĐT-1]; the fake echoes the labels back (fake_upstream.js, x-fake-echo-labels), each label
// split at every character across two stream events and every event's bytes split too, in the
// OpenAI, Anthropic and Gemini stream formats, raw and \u-escaped; the client receives the original
// values exactly, and no HTTP chunk or stream delta it reads ever holds part of a label. The SDKs
// see the values; JSON and tool-call arguments are restored; labels stay per requester and per
// request (a typed or another requester's label is never restored); resent history keeps its labels.

#include "expectations.h"
#include "raw_connection.h"

using namespace promptwall::e2e;

namespace {

const std::string kPrompt = std::string("Số CCCD của anh Nam là ") + kCccd + ", SĐT " + kPhone;
const std::string kOtherCccd = "001099012345";  // sensitive_values.h
const std::string kThirdCccd = "001099012346";  // sensitive_values.h

const std::vector<std::string> kEcho = {"x-fake-echo-labels: 1"};

// The labels a body carries, in order of first appearance (as the fake finds them): "[", a NAME of
// anything but brackets, white space, quotes and backslashes, "-", digits, "]". Read by hand:
// std::regex trips GCC 12's maybe-uninitialized warning under the sanitizers (as in siem_test.cpp).
std::vector<std::string> labels_in(const std::string& body) {
  const auto parsed = nlohmann::ordered_json::parse(body, nullptr, false);
  const std::string text = parsed.is_discarded() ? body : parsed.dump();
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  std::vector<std::string> out;
  for (size_t open = text.find('['); open != std::string::npos; open = text.find('[', open + 1)) {
    const size_t close = text.find_first_of("[] \t\r\n\"\\", open + 1);
    if (close == std::string::npos || text[close] != ']') continue;
    const std::string label = text.substr(open, close - open + 1);
    const size_t dash = label.rfind('-');
    if (dash == std::string::npos || dash < 2 || dash + 2 >= label.size()) continue;
    if (!std::all_of(label.begin() + static_cast<long>(dash) + 1, label.end() - 1, is_digit)) continue;
    if (std::find(out.begin(), out.end(), label) == out.end()) out.push_back(label);
  }
  return out;
}

size_t code_points(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// What the client must read: the fake's echo text (fake_upstream.js echoPieces) with every label's value.
std::string expected_echo(const std::vector<std::string>& labels, const std::map<std::string, std::string>& values) {
  std::string out;
  for (const auto& label : labels)
    for (size_t k = 0; k <= code_points(label); ++k) {
      out.push_back('(');
      out.append(std::to_string(k)).append(")").append(values.at(label)).push_back(' ');
    }
  return out;
}

// Every spelling of a label a reply may carry: raw, \u-escaped (lower case, as the fake writes).
std::vector<std::string> spellings(const std::vector<std::string>& labels) {
  std::vector<std::string> out;
  for (const auto& label : labels) {
    out.push_back(label);
    std::string escaped;
    for (size_t i = 0; i < label.size();) {
      const auto c = static_cast<unsigned char>(label[i]);
      if (c < 0x80) {
        escaped += label[i++];
        continue;
      }
      const int n = c >= 0xE0 ? 3 : 2;
      uint32_t cp = c & (n == 3 ? 0x0F : 0x1F);
      for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(label[i + k]) & 0x3F);
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", cp);
      escaped += buf;
      i += n;
    }
    if (escaped != label) out.push_back(escaped);
  }
  return out;
}

// A piece the client read holds part of a label: a whole spelling, or a proper prefix at its end.
bool holds_label_part(std::string_view piece, const std::vector<std::string>& spelled) {
  for (const auto& s : spelled) {
    if (piece.find(s) != std::string_view::npos) return true;
    for (size_t n = 1; n < s.size() && n <= piece.size(); ++n)
      if (piece.substr(piece.size() - n) == std::string_view(s).substr(0, n)) return true;
  }
  return false;
}

struct RawReply {
  RawResponse response;
  std::vector<std::string> chunks;  // each HTTP chunk as the gateway wrote it
};

// POSTs over a raw socket and reads the whole answer, keeping the chunks as they were framed.
RawReply raw_post(uint16_t port, const std::string& path, const std::string& body, const std::vector<std::string>& headers) {
  RawConnection conn(port);
  std::string request = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\n" +
                        "Content-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& h : headers) request += h + "\r\n";
  request += "\r\n" + body;
  REQUIRE(conn.send(request));
  conn.wait_closed(std::chrono::seconds(20));
  RawReply out;
  const auto responses = parse_responses(conn.received(), conn.closed());
  REQUIRE(responses.size() == 1);
  out.response = responses[0];
  const std::string& got = conn.received();
  std::string_view after = std::string_view(got).substr(got.find("\r\n\r\n") + 4);
  if (contains(lower(out.response.header("transfer-encoding")), "chunked")) {
    for (;;) {
      const size_t eol = after.find("\r\n");
      if (eol == std::string_view::npos) break;
      const size_t size = std::strtoul(std::string(after.substr(0, eol)).c_str(), nullptr, 16);
      if (size == 0) break;
      out.chunks.emplace_back(after.substr(eol + 2, size));
      after = after.substr(eol + 2 + size + 2);
    }
  }
  return out;
}

// The text deltas of an SSE body in the three APIs' shapes, in order.
std::vector<std::string> sse_deltas(const std::string& body) {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = body.find("data: ", at)) != std::string::npos) {
    const size_t eol = body.find_first_of("\r\n", at);
    const std::string data = body.substr(at + 6, eol - at - 6);
    at = eol;
    if (data == "[DONE]") continue;
    const json e = json::parse(data);
    if (e.contains("choices")) {
      const json& delta = e["choices"][0]["delta"];
      if (delta.contains("content") && delta["content"].is_string()) out.push_back(delta["content"]);
    } else if (e.contains("candidates")) {
      out.push_back(e["candidates"][0]["content"]["parts"][0]["text"]);
    } else if (e.value("type", "") == "content_block_delta" && e["delta"].contains("text")) {
      out.push_back(e["delta"]["text"]);
    }
  }
  return out;
}

struct Api {
  const char* name;
  std::string path;
  std::string body;
};

std::vector<Api> streaming_apis(const std::string& prompt) {
  return {
      {"openai", "/openai/v1/chat/completions", chat_body(prompt, true)},
      {"anthropic", "/anthropic/v1/messages",
       json{{"model", "claude-sonnet-4-5"}, {"max_tokens", 100}, {"stream", true},
            {"messages", json::array({{{"role", "user"}, {"content", prompt}}})}}.dump()},
      {"gemini", "/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
       json{{"contents", json::array({{{"role", "user"}, {"parts", json::array({{{"text", prompt}}})}}})}}.dump()},
  };
}

std::map<std::string, std::string> values_of(const std::vector<std::string>& labels, const std::string& cccd = kCccd) {
  std::map<std::string, std::string> out;
  for (const auto& l : labels) out[l] = l.starts_with("[CCCD-") ? cccd : kPhone;
  return out;
}

}  // namespace

TEST_CASE("streamed replies: every label split at every position comes back as the value, never in part",
          "[e2e][pseudonyms]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  for (const auto& api : streaming_apis(kPrompt)) {
    for (const bool ascii : {false, true}) {
      INFO(api.name << (ascii ? ", non-ASCII as \\u escapes" : ", raw UTF-8"));
      auto m = gw.mark();
      std::vector<std::string> headers = kEcho;
      if (ascii) headers.push_back("x-fake-echo-ascii: 1");
      const RawReply reply = raw_post(gw.gateway_port(), api.path, api.body, headers);
      REQUIRE(reply.response.status == 200);
      const json forwarded = single_forward(gw, m);
      REQUIRE(forwarded.is_object());
      // The upstream read labels, never the values, and was asked for an uncompressed reply.
      CHECK_FALSE(contains(body_of(forwarded), kCccd));
      CHECK_FALSE(contains(body_of(forwarded), kPhone));
      CHECK(forwarded["headers"].value("accept-encoding", "") == "identity");
      const auto labels = labels_in(body_of(forwarded));
      CHECK(labels == std::vector<std::string>{"[CCCD-1]", "[SĐT-1]"});
      const auto spelled = spellings(labels);
      // Streamed through, chunked; no chunk the client read holds part of a label.
      CHECK(contains(reply.response.header("content-type"), "text/event-stream"));
      CHECK(reply.chunks.size() > 2 * labels.size());
      for (const auto& chunk : reply.chunks) {
        INFO("chunk: " << chunk);
        CHECK_FALSE(holds_label_part(chunk, spelled));
      }
      // The deltas an SDK assembles: the original text exactly, no delta with part of a label.
      std::string text;
      for (const auto& delta : sse_deltas(reply.response.body)) {
        INFO("delta: " << delta);
        CHECK_FALSE(holds_label_part(delta, spelled));
        text += delta;
      }
      CHECK(text == expected_echo(labels, values_of(labels)));
    }
  }
}

TEST_CASE("the official SDKs streaming see the values, tool-call arguments too", "[e2e][pseudonyms]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  const std::vector<std::string> labels = {"[CCCD-1]", "[SĐT-1]"};
  const std::string expected = expected_echo(labels, values_of(labels));
  const std::vector<std::pair<std::string, std::string>> sdks = {
      {"openai", gw.url("/openai/v1")}, {"anthropic", gw.url("/anthropic")}, {"genai", gw.url("/gemini")}};
  for (const auto& [sdk, base] : sdks) {
    INFO(sdk);
    auto m = gw.mark();
    const json r = run_node("sdk_stream_client.js", {"--sdk", sdk, "--base-url", base, "--prompt", kPrompt, "--header",
                                                     "x-fake-echo-labels:1", "--header", "x-fake-echo-ascii:1"});
    INFO(r.dump());
    CHECK(r["ok"] == true);
    CHECK(r["text"] == expected);
    CHECK(labels_in(body_of(single_forward(gw, m))) == labels);
  }
  for (const std::string sdk : {"openai", "anthropic"}) {
    INFO(sdk << " tool call");
    const json r = run_node("sdk_stream_client.js",
                            {"--sdk", sdk, "--base-url", sdk == "openai" ? gw.url("/openai/v1") : gw.url("/anthropic"),
                             "--prompt", kPrompt, "--header", "x-fake-echo-labels:1", "--header", "x-fake-echo-ascii:1",
                             "--header", "x-fake-echo-tool:1"});
    INFO(r.dump());
    REQUIRE(r["ok"] == true);
    const json args = json::parse(r["arguments"].get<std::string>(), nullptr, false);
    REQUIRE(args.is_object());
    CHECK(args["labels"] == json::array({kCccd, kPhone}));
    CHECK(args["text"] == expected);
  }
}

TEST_CASE("JSON replies and tool-call arguments are restored and re-lengthed", "[e2e][pseudonyms]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  const std::vector<std::string> labels = {"[CCCD-1]", "[SĐT-1]"};
  const std::string expected = expected_echo(labels, values_of(labels));
  for (const bool ascii : {false, true}) {
    std::vector<std::string> headers = {"Content-Type: application/json", "x-fake-echo-labels: 1"};
    if (ascii) headers.push_back("x-fake-echo-ascii: 1");
    auto r = post(gw.url("/openai/v1/chat/completions"), chat_body(kPrompt), headers);
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(r.header("Content-Length") == std::to_string(r.body.size()));
    CHECK(r.json_body()["choices"][0]["message"]["content"] == expected);
    headers.push_back("x-fake-echo-tool: 1");
    auto tool = post(gw.url("/openai/v1/chat/completions"), chat_body(kPrompt), headers);
    INFO(tool.body);
    REQUIRE(tool.status == 200);
    const json args = json::parse(tool.json_body()["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"].get<std::string>());
    CHECK(args["labels"] == json::array({kCccd, kPhone}));
    CHECK(args["text"] == expected);
  }
  // A request with nothing to restore gets the upstream's reply untouched (compression as asked).
  auto m = gw.mark();
  auto clean = post(gw.url("/openai/v1/chat/completions"), chat_body(kClean), {"Content-Type: application/json", "x-fake-echo-labels: 1"});
  CHECK(clean.json_body()["choices"][0]["message"]["content"] == "no labels");
  CHECK(single_forward(gw, m)["headers"].value("accept-encoding", "") != "identity");
}

TEST_CASE("labels belong to one requester and one request: typed or another user's labels stay labels",
          "[e2e][pseudonyms]") {
  GatewayOptions options;
  options.extra_config = "identity:\n  trusted_header: {user: X-Forwarded-User, from: [127.0.0.1/32]}\n";
  GatewayFixture gw(options);
  INFO(gw.where_to_look());
  const auto ask = [&](const std::string& user, const std::string& prompt) {
    auto r = post(gw.url("/openai/v1/chat/completions"), chat_body(prompt),
                  {"Content-Type: application/json", "x-fake-echo-labels: 1", "X-Forwarded-User: " + user});
    INFO(r.body);
    REQUIRE(r.status == 200);
    return r.json_body()["choices"][0]["message"]["content"].get<std::string>();
  };
  // User A: [CCCD-1] is A's kCccd.
  CHECK(ask("an", std::string("CCCD ") + kCccd) == expected_echo({"[CCCD-1]"}, {{"[CCCD-1]", kCccd}}));
  // User B types A's label: forwarded as typed, answered as a label, A's number never shown.
  const std::string typed = ask("binh", "Cho tôi xem [CCCD-1]");
  CHECK(contains(typed, "[CCCD-1]"));
  CHECK_FALSE(contains(typed, kCccd));
  // B's own number is B's [CCCD-1], restored as B's.
  CHECK(ask("binh", "CCCD " + kOtherCccd) == expected_echo({"[CCCD-1]"}, {{"[CCCD-1]", kOtherCccd}}));
  // A gets [CCCD-2] for a second number; a later request of A's that only types [CCCD-2] (a label
  // issued to A, but not to this request) is not restored.
  CHECK(ask("an", "CCCD " + kThirdCccd) == expected_echo({"[CCCD-2]"}, {{"[CCCD-2]", kThirdCccd}}));
  const std::string forged = ask("an", "nhắc lại [CCCD-2]");
  CHECK(contains(forged, "[CCCD-2]"));
  CHECK_FALSE(contains(forged, kThirdCccd));
}

TEST_CASE("history a client resends keeps its labels, new values get new numbers, the trail counts them",
          "[e2e][pseudonyms]") {
  GatewayFixture gw;
  INFO(gw.where_to_look());
  auto m = gw.mark();
  auto first = post(gw.url("/openai/v1/chat/completions"), chat_body(kPrompt), {"Content-Type: application/json"});
  REQUIRE(first.status == 200);
  CHECK(labels_in(body_of(single_forward(gw, m))) == std::vector<std::string>{"[CCCD-1]", "[SĐT-1]"});
  m = gw.mark();
  const json history = {{"model", "gpt-4o-mini"},
                        {"messages", json::array({{{"role", "user"}, {"content", kPrompt}},
                                                  {{"role", "assistant"}, {"content", "Đã ghi nhận."}},
                                                  {{"role", "user"}, {"content", "Thêm CCCD " + kOtherCccd}}})}};
  auto second = post(gw.url("/openai/v1/chat/completions"), history.dump(), {"Content-Type: application/json"});
  REQUIRE(second.status == 200);
  const json forwarded = json::parse(body_of(single_forward(gw, m)));
  CHECK(forwarded["messages"][0]["content"] == "Số CCCD của anh Nam là [CCCD-1], SĐT [SĐT-1]");
  CHECK(forwarded["messages"][2]["content"] == "Thêm CCCD [CCCD-2]");
  // The audit event counts the pseudonyms; the trail holds no value and no mapping.
  const auto events = gw.decisions_since(m);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["pseudonyms"] == 3);
  CHECK_FALSE(contains(gw.audit_text(), kOtherCccd));
}

TEST_CASE("pseudonyms.enabled: false sends plain labels and relays replies untouched", "[e2e][pseudonyms]") {
  GatewayOptions options;
  options.extra_config = "pseudonyms: {enabled: false}\n";
  GatewayFixture gw(options);
  INFO(gw.where_to_look());
  auto m = gw.mark();
  auto r = post(gw.url("/openai/v1/chat/completions"), chat_body(kPrompt), {"Content-Type: application/json", "x-fake-echo-labels: 1"});
  INFO(r.body);
  REQUIRE(r.status == 200);
  const json forwarded = single_forward(gw, m);
  CHECK(labels_in(body_of(forwarded)) == std::vector<std::string>{"[CCCD-1]", "[SĐT-1]"});
  CHECK(forwarded["headers"].value("accept-encoding", "") != "identity");
  const std::string content = r.json_body()["choices"][0]["message"]["content"];
  CHECK(contains(content, "[CCCD-1]"));
  CHECK_FALSE(contains(content, kCccd));
  const auto events = gw.decisions_since(m);
  REQUIRE(events.size() == 1);
  CHECK_FALSE(events[0].contains("pseudonyms"));
}
