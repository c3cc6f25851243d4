// ReplyRestorer (gateway/pseudonyms/reply_restorer.h): labels put back in text, JSON and SSE
// replies fed in every split, raw and escaped, with the value escaped for where it was found, and
// no emitted piece ever holding part of a label.
#include <catch2/catch.hpp>

#include <functional>
#include <nlohmann/json.hpp>

#include "gateway/pseudonyms/reply_restorer.h"

using namespace promptwall::gateway;
using nlohmann::json;

namespace {

const std::vector<Pseudonym> kIssued = {
    {"[CCCD-1]", "066087004913"},
    {"[SĐT-2]", "0912 345 678"},
    {"[TÊN-1]", "Nguyễn \"Văn\" A\\B"},  // quotes and a backslash: escaped wherever it lands in JSON
};

std::shared_ptr<const PseudonymSpellings> spellings() {
  static auto s = std::make_shared<const PseudonymSpellings>(kIssued);
  return s;
}

// True when `piece` ends with a proper, non-empty prefix of some spelling, or contains a whole one.
bool holds_label_part(std::string_view piece) {
  for (const auto& s : spellings()->spellings()) {
    if (piece.find(s.text) != std::string_view::npos) return true;
    for (size_t n = 1; n < s.text.size() && n <= piece.size(); ++n)
      if (piece.substr(piece.size() - n) == std::string_view(s.text).substr(0, n)) return true;
  }
  return false;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

// Feeds `pieces` and returns the output, checking each emitted piece.
std::string feed(ReplyRestorer::Framing framing, const std::vector<std::string>& pieces, bool check_pieces = true) {
  ReplyRestorer r(spellings(), framing);
  std::string out;
  for (const auto& p : pieces) {
    const std::string got = r.push(p);
    if (check_pieces) {
      INFO("piece: " << got);
      CHECK_FALSE(holds_label_part(got));
      CHECK(valid_utf8(got));
    }
    out += got;
  }
  out += r.finish();
  return out;
}

std::vector<std::string> split_at(const std::string& s, size_t at) { return {s.substr(0, at), s.substr(at)}; }

// As Python's json.dumps writes: non-ASCII as \uXXXX.
std::string ascii_json(const json& j) { return j.dump(-1, ' ', true); }

}  // namespace

TEST_CASE("text: every label restored raw, whatever byte the reply is split at", "[pseudonyms]") {
  const std::string reply = "Khách [TÊN-1], CCCD [CCCD-1], gọi [SĐT-2]; [CCCD-3] và [SĐT-2 không phải nhãn.";
  const std::string expected =
      "Khách Nguyễn \"Văn\" A\\B, CCCD 066087004913, gọi 0912 345 678; [CCCD-3] và [SĐT-2 không phải nhãn.";
  for (size_t at = 0; at <= reply.size(); ++at) {
    INFO("split at " << at);
    CHECK(feed(ReplyRestorer::Framing::text, split_at(reply, at)) == expected);
  }
  std::vector<std::string> bytes;
  for (const char c : reply) bytes.emplace_back(1, c);
  CHECK(feed(ReplyRestorer::Framing::text, bytes) == expected);
}

TEST_CASE("a label never issued to this request stays as the model wrote it", "[pseudonyms]") {
  const std::string reply = "[CCCD-2] [CCCD-10] [cccd-1] [SDT-2] [CCCD-1]";
  CHECK(feed(ReplyRestorer::Framing::text, {reply}) == "[CCCD-2] [CCCD-10] [cccd-1] [SDT-2] 066087004913");
}

std::string openai_event_text(const std::string& delta) {
  return "data: " + json{{"choices", {{{"index", 0}, {"delta", {{"content", delta}}}}}}}.dump() + "\n\n";
}

TEST_CASE("a JSON body: raw and escaped spellings, values escaped for the string they land in", "[pseudonyms]") {
  const json body = {{"choices", {{{"message", {{"content", "Chị [TÊN-1] có SĐT [SĐT-2]"}}}}}}};
  for (const std::string& text : {body.dump(), ascii_json(body)}) {
    INFO(text);
    const std::string out = ReplyRestorer::restore_whole(*spellings(), ReplyRestorer::Framing::json, text);
    CHECK(json::parse(out)["choices"][0]["message"]["content"] == "Chị Nguyễn \"Văn\" A\\B có SĐT 0912 345 678");
    // Streamed as bytes (a chunked JSON body), split anywhere: the same values.
    for (size_t at = 0; at <= text.size(); ++at) {
      const std::string streamed = feed(ReplyRestorer::Framing::json, split_at(text, at));
      CHECK(json::parse(streamed)["choices"][0]["message"]["content"] ==
            "Chị Nguyễn \"Văn\" A\\B có SĐT 0912 345 678");
    }
  }
  // A body without labels comes back byte for byte; so does an SSE stream without them.
  const std::string plain = R"({"choices":[{"message":{"content":"caf\u00e9 [x] ok"}}],"n":1})";
  CHECK(ReplyRestorer::restore_whole(*spellings(), ReplyRestorer::Framing::json, plain) == plain);
  const std::string plain_sse = openai_event_text("không có nhãn [x]") + "data: [DONE]\n\n";
  CHECK(feed(ReplyRestorer::Framing::sse, {plain_sse}) == plain_sse);
  // Bytes of strings without labels stay exactly as sent (escapes included).
  const std::string untouched = R"({"a":"caf\u00e9","n":1.50,"b":"[CCCD-1]"})";
  CHECK(ReplyRestorer::restore_whole(*spellings(), ReplyRestorer::Framing::json, untouched) ==
        R"({"a":"caf\u00e9","n":1.50,"b":"066087004913"})");
}

TEST_CASE("tool-call arguments: JSON text inside a JSON string gets the value escaped twice", "[pseudonyms]") {
  const json args = {{"name", "[TÊN-1]"}, {"phone", "[SĐT-2]"}};
  for (const std::string& inner : {args.dump(), ascii_json(args)}) {
    const json body = {{"tool_calls", {{{"function", {{"name", "lookup"}, {"arguments", inner}}}}}}};
    for (const std::string& text : {body.dump(), ascii_json(body)}) {
      INFO(text);
      const std::string out = ReplyRestorer::restore_whole(*spellings(), ReplyRestorer::Framing::json, text);
      const json restored = json::parse(json::parse(out)["tool_calls"][0]["function"]["arguments"].get<std::string>());
      CHECK(restored["name"] == "Nguyễn \"Văn\" A\\B");
      CHECK(restored["phone"] == "0912 345 678");
    }
  }
}

namespace {

// An SSE stream whose text is split into deltas at `cut`, in one API's event shape.
using EventShape = std::function<std::string(const std::string& delta, bool ascii)>;

std::string openai_event(const std::string& delta, bool ascii) {
  const json e = {{"id", "c1"}, {"object", "chat.completion.chunk"},
                  {"choices", {{{"index", 0}, {"delta", {{"content", delta}}}, {"finish_reason", nullptr}}}}};
  return "data: " + (ascii ? ascii_json(e) : e.dump()) + "\n\n";
}
std::string anthropic_event(const std::string& delta, bool ascii) {
  const json e = {{"type", "content_block_delta"}, {"index", 0}, {"delta", {{"type", "text_delta"}, {"text", delta}}}};
  return "event: content_block_delta\ndata: " + (ascii ? ascii_json(e) : e.dump()) + "\n\n";
}
std::string gemini_event(const std::string& delta, bool ascii) {
  const json e = {{"candidates", {{{"content", {{"parts", {{{"text", delta}}}}, {"role", "model"}}}, {"index", 0}}}}};
  return "data: " + (ascii ? ascii_json(e) : e.dump()) + "\r\n\r\n";
}

// The text the client's SDK would assemble from the events, checking no delta holds part of a label.
std::string delta_text(const std::string& sse, bool check = true) {
  std::string text;
  size_t at = 0;
  while ((at = sse.find("data: ", at)) != std::string::npos) {
    const size_t eol = sse.find_first_of("\r\n", at);
    const std::string data = sse.substr(at + 6, eol - at - 6);
    at = eol;
    if (data == "[DONE]") continue;
    const json e = json::parse(data);
    std::string delta;
    if (e.contains("choices")) delta = e["choices"][0]["delta"].value("content", "");
    else if (e.contains("candidates")) delta = e["candidates"][0]["content"]["parts"][0]["text"];
    else if (e.contains("delta")) delta = e["delta"].value("text", "");
    INFO("delta: " << delta);
    if (check) CHECK_FALSE(holds_label_part(delta));
    text += delta;
  }
  return text;
}

}  // namespace

TEST_CASE("SSE: a label split across two events at every byte is restored in the later one", "[pseudonyms]") {
  const std::string text = "Gửi [TÊN-1] (CCCD [CCCD-1]), gọi [SĐT-2].";
  const std::string expected = "Gửi Nguyễn \"Văn\" A\\B (CCCD 066087004913), gọi 0912 345 678.";
  const std::pair<const char*, EventShape> shapes[] = {
      {"openai", openai_event}, {"anthropic", anthropic_event}, {"gemini", gemini_event}};
  for (const auto& [name, shape] : shapes) {
    for (const bool ascii : {false, true}) {
      // Cut only at character boundaries: a delta is a JSON string, whole characters.
      for (size_t cut = 0; cut <= text.size(); ++cut) {
        if (cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) continue;
        INFO(name << (ascii ? " ascii" : "") << " cut at " << cut);
        const std::string stream = shape(text.substr(0, cut), ascii) + shape(text.substr(cut), ascii) +
                                   (std::string(name) == "anthropic" ? "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
                                                                     : "data: [DONE]\n\n");
        // Whole, then split at a second byte position too (events arrive in any pieces).
        CHECK(delta_text(feed(ReplyRestorer::Framing::sse, {stream})) == expected);
        for (size_t at = 0; at <= stream.size(); at += 7)
          CHECK(delta_text(feed(ReplyRestorer::Framing::sse, split_at(stream, at))) == expected);
      }
    }
  }
}

TEST_CASE("SSE: held text whose next event does not continue it is sent in a copy of its event", "[pseudonyms]") {
  // "[CC" could start [CCCD-1]; the stream then ends the message: the text is not lost.
  const std::string stream = openai_event("Xem [CC", false) +
                             "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
                             "data: [DONE]\n\n";
  const std::string out = feed(ReplyRestorer::Framing::sse, {stream}, false);
  CHECK(delta_text(out, false) == "Xem [CC");
  CHECK(out.find("\"finish_reason\":\"stop\"") > out.find("[CC"));  // the held text comes first
}

TEST_CASE("SSE: streamed tool-call arguments are restored across deltas, escaped twice", "[pseudonyms]") {
  const std::string args = ascii_json(json{{"name", "[TÊN-1]"}, {"id", "[CCCD-1]"}});
  for (size_t cut = 0; cut <= args.size(); ++cut) {
    std::string stream;
    for (const std::string& part : {args.substr(0, cut), args.substr(cut)}) {
      const json e = {{"choices", {{{"index", 0}, {"delta", {{"tool_calls", {{{"index", 0}, {"function", {{"arguments", part}}}}}}}}}}}};
      stream += "data: " + e.dump() + "\n\n";
    }
    stream += "data: [DONE]\n\n";
    const std::string out = feed(ReplyRestorer::Framing::sse, {stream});
    std::string assembled;
    size_t at = 0;
    while ((at = out.find("data: {", at)) != std::string::npos) {
      const size_t eol = out.find('\n', at);
      assembled += json::parse(out.substr(at + 6, eol - at - 6))["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].get<std::string>();
      at = eol;
    }
    INFO("cut at " << cut << ": " << assembled);
    const json restored = json::parse(assembled);
    CHECK(restored["name"] == "Nguyễn \"Văn\" A\\B");
    CHECK(restored["id"] == "066087004913");
  }
}

TEST_CASE("the spellings: raw, escaped in either hex case, escaped twice, the longest bounds what is held", "[pseudonyms]") {
  const PseudonymSpellings s(kIssued);
  std::vector<std::string> texts;
  for (const auto& sp : s.spellings()) texts.push_back(sp.text);
  CHECK(std::find(texts.begin(), texts.end(), "[S\\u0110T-2]") != texts.end());
  CHECK(std::find(texts.begin(), texts.end(), "[S\\\\u0110T-2]") != texts.end());
  CHECK(std::find(texts.begin(), texts.end(), "[T\\u00caN-1]") != texts.end());
  CHECK(std::find(texts.begin(), texts.end(), "[T\\u00CAN-1]") != texts.end());
  CHECK(s.longest() == std::string("[T\\\\u00caN-1]").size());
  // A text restorer holds at most longest - 1 bytes.
  TextRestorer r(s, 0, false);
  CHECK(r.push("abc [T\\\\u00caN-") == "abc ");
  CHECK(r.push("1]") == "Nguyễn \\\\\\\"Văn\\\\\\\" A\\\\\\\\B");
}

TEST_CASE("SSE: streams on one path are told apart by their index and type members", "[pseudonyms]") {
  const auto responses_event = [](const std::string& type, int output_index, const std::string& delta) {
    // In the order the API writes them (ordered_json: json sorts keys, which would put "delta"
    // before the members that tell the streams apart; only members before the string count).
    const nlohmann::ordered_json e = {{"type", type}, {"item_id", "x"}, {"output_index", output_index}, {"content_index", 0}, {"delta", delta}};
    return "event: " + type + "\ndata: " + e.dump() + "\n\n";
  };
  const auto deltas_of = [](const std::string& sse, const std::string& type) {
    std::string text;
    size_t at = 0;
    while ((at = sse.find("data: ", at)) != std::string::npos) {
      const size_t eol = sse.find('\n', at);
      const json e = json::parse(sse.substr(at + 6, eol - at - 6));
      at = eol;
      if (e["type"] == type) text += e["delta"].get<std::string>();
    }
    return text;
  };
  // The same stream continued: restored.
  const std::string same = responses_event("response.output_text.delta", 0, "x [CC") +
                           responses_event("response.output_text.delta", 0, "CD-1] y");
  CHECK(deltas_of(feed(ReplyRestorer::Framing::sse, {same}), "response.output_text.delta") == "x 066087004913 y");
  // A text delta's "[CC" never moves into a function call's arguments that follow on "delta".
  const std::string other = responses_event("response.output_text.delta", 0, "x [CC") +
                            responses_event("response.function_call_arguments.delta", 1, "CD-1]");
  const std::string out = feed(ReplyRestorer::Framing::sse, {other}, false);
  CHECK(deltas_of(out, "response.output_text.delta") == "x [CC");
  CHECK(deltas_of(out, "response.function_call_arguments.delta") == "CD-1]");
  // Two choices of one chat stream (n=2) interleaved: each keeps its own text.
  const auto choice = [](int index, const std::string& delta) {
    return "data: " + nlohmann::ordered_json{{"choices", {{{"index", index}, {"delta", {{"content", delta}}}}}}}.dump() + "\n\n";
  };
  const std::string two = choice(0, "a [CC") + choice(1, "b ") + choice(0, "CD-1]") + choice(1, "c");
  std::string first, second;
  const std::string got = feed(ReplyRestorer::Framing::sse, {two}, false);
  size_t at = 0;
  while ((at = got.find("data: ", at)) != std::string::npos) {
    const size_t eol = got.find('\n', at);
    const json e = json::parse(got.substr(at + 6, eol - at - 6));
    at = eol;
    (e["choices"][0]["index"] == 0 ? first : second) += e["choices"][0]["delta"]["content"].get<std::string>();
  }
  CHECK(first == "a [CC" "CD-1]");  // held text sent before choice 1's event, not restored across it
  CHECK(second == "b c");
}
