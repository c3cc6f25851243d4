// The coverage test of issue 12 ("nothing leaves unseen"): for each API schema and endpoint shape,
// a realistic request body with a stamp placed at every position the JSON document allows
// (json_positions.h: each value, each key, a new key and field at each object, a new item in each
// array, JSON inside strings, in NFC and NFD, escaped and split by \u escapes). Each variant goes
// through the real gateway (base-URL mode) to the fake upstream and must be either refused (4xx in
// the API's own error shape, nothing forwarded) or forwarded without the stamp (redacted). The same
// positions holding clean text must reach the upstream byte for byte as sent.
//
// The positions come from the documents, never from the gateway's field lists: a field the
// gateway does not know is exactly what this test is for. A key given twice (its repeat written
// with escapes) is not strict JSON: refused even with clean text (in the document itself; inside
// a string the API reads a string, and clean text may pass). Two stamps: the classification marking
// "TUYỆT MẬT" (vn.secret.degree-stamp, block, when it stands alone on its line, which every
// placement here gives it) and a CCCD that validates (vn.pii.cccd, redact).
//
// Speed: thousands of variants, so requests go over plain sockets from a few threads (no curl per
// request) and the upstream records are read once per document; each request carries an
// X-Coverage-Variant header so its record can be found. One gateway per test case.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <map>

#include "expectations.h"
#include "json_positions.h"

using namespace promptwall::e2e;

namespace {

constexpr const char* kStamp = "TUYỆT MẬT";
constexpr const char* kCleanText = "Viết bài thơ về mùa thu Hà Nội";
constexpr int kClientThreads = 4;

enum class Api { openai, anthropic, gemini };

struct Shape {
  std::string name;  // for the report
  Api api;           // the error shape a refusal must have
  std::string path;  // on the gateway
  OrderedJson base;
};

std::vector<std::string> api_headers(Api api) {
  switch (api) {
    case Api::openai: return {"Authorization: Bearer sk-e2e-test"};
    case Api::anthropic: return {"x-api-key: k", "anthropic-version: 2023-06-01"};
    case Api::gemini: return {"x-goog-api-key: k"};
  }
  return {};
}

// ------------------------------------------------------------------------------------------------
// One request over its own loopback connection (Connection: close, so the answer ends at EOF).

struct RawAnswer {
  int status = 0;  // 0: no HTTP answer
  std::string body;
  std::string error;
};

std::string dechunk(const std::string& body) {
  std::string out;
  size_t at = 0;
  while (at < body.size()) {
    const size_t eol = body.find("\r\n", at);
    if (eol == std::string::npos) break;
    const size_t size = std::stoul(body.substr(at, eol - at), nullptr, 16);
    if (size == 0) break;
    out += body.substr(eol + 2, size);
    at = eol + 2 + size + 2;
  }
  return out;
}

RawAnswer raw_post(uint16_t port, const std::string& path, const std::vector<std::string>& headers, const std::string& body) {
  RawAnswer a;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  if (fd < 0 || ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) ::close(fd);
    a.error = "connect failed";
    return a;
  }
  std::string request = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                        "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n";
  for (const auto& h : headers) request += h + "\r\n";
  request += "\r\n" + body;
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the gateway may answer and close before reading everything: read on
    sent += static_cast<size_t>(n);
  }
  std::string response;
  char buf[16384];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, static_cast<size_t>(n));
  ::close(fd);
  const size_t head_end = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos) {
    a.error = "no HTTP answer (" + std::to_string(response.size()) + " bytes)";
    return a;
  }
  a.status = std::stoi(response.substr(9, 3));
  a.body = response.substr(head_end + 4);
  if (contains(lower(response.substr(0, head_end)), "transfer-encoding: chunked")) a.body = dechunk(a.body);
  return a;
}

// The start of a body for a failure message, cut on a UTF-8 character boundary.
std::string excerpt(const std::string& s, size_t n = 240) {
  if (s.size() <= n) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n) + "...";
}

std::string refusal_code(const std::string& body) {
  auto e = json::parse(body, nullptr, false);
  if (!e.is_object() || !e.contains("error") || !e["error"].is_object()) return "";
  const auto& code = e["error"]["code"];
  return code.is_string() ? code.get<std::string>() : "";
}

// ------------------------------------------------------------------------------------------------
// What the upstream could read.

void collect_text(const OrderedJson& v, std::vector<std::string>& out, int depth = 0) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    out.push_back(s);
    // A text file in a data: URL is read by the upstream (and its model) decoded.
    if (auto file = decode_data_url(s)) out.push_back(*file);
    // Text that is itself JSON (tool arguments) is read by the upstream decoded once more.
    if (depth < 4 && !s.empty() && (s.front() == '{' || s.front() == '[')) {
      auto inner = OrderedJson::parse(s, nullptr, false);
      if (!inner.is_discarded()) collect_text(inner, out, depth + 1);
    }
  } else if (v.is_object()) {
    for (const auto& [key, value] : v.items()) {
      out.push_back(key);
      collect_text(value, out, depth);
    }
  } else if (v.is_array()) {
    for (const auto& item : v) collect_text(item, out, depth);
  }
}

// Empty when the body, decoded as a JSON parser would, holds neither spelling of the stamp.
std::string stamp_left_in(const std::string& body, const std::string& stamp) {
  const std::string nfc = json_positions_detail::normalized(stamp, false);
  const std::string nfd = json_positions_detail::normalized(stamp, true);
  auto doc = OrderedJson::parse(body, nullptr, false);
  if (doc.is_discarded()) return "forwarded body is not JSON";
  std::vector<std::string> texts;
  collect_text(doc, texts);
  for (const auto& t : texts)
    if (contains(t, nfc) || contains(t, nfd)) return "the stamp reached the upstream";
  return "";
}

// A refusal in the API's own error shape (what its SDK reads a message from), which never
// repeats the content it refused.
std::string error_shape_problem(Api api, int status, const std::string& body) {
  auto e = json::parse(body, nullptr, false);
  if (!e.is_object() || !e.contains("error") || !e["error"].is_object()) return "no error object: " + excerpt(body);
  const auto& err = e["error"];
  if (!err.contains("message") || !err["message"].is_string()) return "error without a message";
  const auto message = err["message"].get<std::string>();
  if (contains(message, kStamp) || contains(message, kCccd)) return "the refusal repeats the content";
  if (!has_non_ascii(message)) return "the refusal is not in Vietnamese";
  switch (api) {
    case Api::openai:
      if (!err.contains("type") || !err["type"].is_string()) return "openai error without a type";
      break;
    case Api::anthropic:
      if (e.value("type", "") != "error" || !err.contains("type")) return "not an Anthropic error";
      break;
    case Api::gemini:
      if (err.value("code", 0) != status || !err.contains("status")) return "not a Gemini error";
      break;
  }
  return "";
}

// ------------------------------------------------------------------------------------------------

struct Sent {
  std::string id;
  const JsonVariant* variant;
  std::string text;  // what was placed: a stamp, or clean text
  bool clean;
  RawAnswer answer;
};

struct Tally {
  size_t stamped = 0, refused = 0, redacted = 0, clean = 0;
  size_t sent = 0, audited = 0;
  std::vector<std::string> failures;
  // "stamp /messages/0/content append_line: why" → the spellings that failed so, in order.
  std::map<std::string, std::vector<std::string>> failed_positions;
};

// Sends every variant from a few threads; returns them with their answers.
void send_all(GatewayFixture& gw, const Shape& shape, std::vector<Sent>& all) {
  std::atomic<size_t> next{0};
  const auto headers = api_headers(shape.api);
  auto worker = [&] {
    for (size_t i; (i = next++) < all.size();) {
      auto h = headers;
      h.push_back("X-Coverage-Variant: " + all[i].id);
      all[i].answer = raw_post(gw.gateway_port(), shape.path, h, all[i].variant->body);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kClientThreads; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
}

Tally run_shape(GatewayFixture& gw, const Shape& shape) {
  // Marking: every spelling. CCCD: digits have no NFD form, so the escaped spellings are the ones
  // that differ. Clean text: every spelling, so each shape's control is the superset.
  const std::vector<Spelling> every(std::begin(kAllSpellings), std::end(kAllSpellings));
  const auto stamp_variants = json_variants(shape.base, kStamp, every);
  const auto cccd_variants = json_variants(shape.base, kCccd, every);
  const auto clean_variants = json_variants(shape.base, kCleanText, every);

  std::vector<Sent> all;
  auto add = [&](const std::vector<JsonVariant>& vs, const std::string& text, bool clean, const char* tag) {
    for (const auto& v : vs) all.push_back({shape.name + "/" + tag + "/" + std::to_string(all.size()), &v, text, clean, {}});
  };
  add(stamp_variants, kStamp, false, "stamp");
  add(cccd_variants, kCccd, false, "cccd");
  add(clean_variants, kCleanText, true, "clean");

  const auto m = gw.mark();
  send_all(gw, shape, all);
  std::map<std::string, std::vector<json>> forwarded;
  for (auto& rec : gw.forwarded_since(m))
    forwarded[rec["headers"].value("x-coverage-variant", "")].push_back(std::move(rec));

  Tally tally;
  // Every variant, refused or forwarded, is a decision in the audit trail (record_clean: true).
  tally.audited = gw.decisions_since(m, all.size()).size();
  tally.sent = all.size();
  auto fail = [&](const Sent& s, const std::string& why) {
    const std::string kind = s.clean ? "clean " : s.text == kCccd ? "cccd  " : "stamp ";
    tally.failures.push_back(kind + s.variant->where + ": " + why);
    tally.failed_positions[kind + s.variant->position + ": " + why].push_back(to_string(s.variant->spelling));
  };
  for (const auto& s : all) {
    const auto& recs = forwarded[s.id];
    const int status = s.answer.status;
    if (s.clean) {
      ++tally.clean;
      // A line appended to a data: URL leaves a file that no longer decodes: refusing it as
      // a file not inspected is failing closed, not a false alarm.
      if (s.variant->in_file && status == 403 && refusal_code(s.answer.body) == "promptwall_file_not_inspected") continue;
      // A key given twice is read one way by the gateway and maybe another by the upstream: not
      // strict JSON, refused whatever the text. Inside a string (tool arguments) the API reads
      // only a string, so clean text may pass there, byte for byte.
      if (s.variant->placement == Placement::duplicate_key && !(s.variant->string_depth > 0 && status == 200)) {
        if (status < 400 || status >= 500) fail(s, "a duplicate key answered " + std::to_string(status) + " " + s.answer.error);
        else if (!recs.empty()) fail(s, "a duplicate key was forwarded");
        else if (auto problem = error_shape_problem(shape.api, status, s.answer.body); !problem.empty()) fail(s, problem);
        continue;
      }
      if (status != 200) fail(s, "clean text answered " + std::to_string(status) + " " + s.answer.error + excerpt(s.answer.body));
      else if (recs.size() != 1) fail(s, "clean text forwarded " + std::to_string(recs.size()) + " times");
      else if (body_of(recs[0]) != s.variant->body) fail(s, "clean text not forwarded byte for byte: " + excerpt(body_of(recs[0])));
      continue;
    }
    ++tally.stamped;
    if (status >= 400 && status < 500) {
      if (!recs.empty()) fail(s, "refused with " + std::to_string(status) + " but forwarded too");
      else if (auto problem = error_shape_problem(shape.api, status, s.answer.body); !problem.empty()) fail(s, problem);
      else ++tally.refused;
    } else if (status == 200) {
      if (recs.size() != 1) fail(s, "answered 200, forwarded " + std::to_string(recs.size()) + " times");
      else if (auto left = stamp_left_in(body_of(recs[0]), s.text); !left.empty()) fail(s, "LEAK: " + left + " (200)");
      else ++tally.redacted;
    } else {
      fail(s, "answered " + std::to_string(status) + " " + s.answer.error + excerpt(s.answer.body));
    }
  }
  return tally;
}

void check_shapes(const std::vector<Shape>& shapes) {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  size_t total = 0;
  for (const auto& shape : shapes) {
    const auto t0 = std::chrono::steady_clock::now();
    const Tally t = run_shape(gw, shape);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    total += t.stamped + t.clean;
    WARN(shape.name << " (" << shape.path << "): " << t.stamped << " stamped variants (" << t.refused << " refused, "
                    << t.redacted << " redacted), " << t.clean << " clean variants; " << t.failures.size() << " failed; "
                    << ms << " ms");
    // One line per position and reason, with the spellings that failed there.
    std::ostringstream report;
    size_t lines = 0;
    for (const auto& [position, spellings] : t.failed_positions) {
      if (++lines > 80) {
        report << "  ... and " << t.failed_positions.size() - 80 << " more positions\n";
        break;
      }
      report << "  " << position << " [";
      for (size_t i = 0; i < spellings.size(); ++i) report << (i ? " " : "") << spellings[i];
      report << "]\n";
    }
    INFO(shape.name << ": " << t.failures.size() << " failed variants, by position:\n" << report.str());
    CHECK(t.failures.empty());
    CHECK(t.audited == t.sent);
    // A generator that lost its positions would pass vacuously.
    CHECK(t.stamped >= 20);
    CHECK(t.clean >= 10);
  }
  WARN("variants sent: " << total);
}

OrderedJson doc(const char* text) { return OrderedJson::parse(text); }

}  // namespace

TEST_CASE("the coverage check catches a leak: through a monitor-mode service every stamped variant is one", "[e2e][coverage]") {
  // Monitor mode forwards what it would block, unchanged: if the checks above could not see a
  // stamp reach the upstream, they would pass here too. Only a key given twice is still refused
  // there (not strict JSON is unreadable, not a policy decision monitor mode could waive).
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  const auto base = doc(R"({"model":"gpt-4o","messages":[{"role":"user","content":"Xin chào"}]})");
  const std::vector<Spelling> every(std::begin(kAllSpellings), std::end(kAllSpellings));
  size_t repeated_keys = 0;
  for (const char* text : {kStamp, kCccd})
    for (const auto& v : json_variants(base, text, every)) repeated_keys += v.placement == Placement::duplicate_key;
  const Tally t = run_shape(gw, {"monitored chat", Api::openai, "/monitored/v1/chat/completions", base});
  CHECK(t.stamped >= 20);
  CHECK(repeated_keys > 0);
  CHECK(t.refused == repeated_keys);
  CHECK(t.redacted == 0);
  CHECK(t.failures.size() == t.stamped - repeated_keys);  // every other stamped variant, and no clean one
  for (const auto& f : t.failures) {
    INFO(f);
    CHECK(contains(f, "LEAK: the stamp reached the upstream"));
  }
}

TEST_CASE("every position of OpenAI request bodies is refused or redacted, and clean text passes unchanged", "[e2e][coverage]") {
  const std::string note_b64 = base64("Lịch họp tổ tuần sau: thứ hai, phòng 3.");
  check_shapes({
      {"openai chat completions", Api::openai, "/openai/v1/chat/completions", doc(R"({
        "model": "gpt-4o",
        "messages": [
          {"role": "system", "content": "Bạn là trợ lý hành chính."},
          {"role": "user", "content": [{"type": "text", "text": "Thời tiết Hà Nội hôm nay thế nào?"}]},
          {"role": "assistant", "content": null, "tool_calls": [{"id": "call_weather", "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"city\":\"Hà Nội\",\"unit\":\"c\"}"}}]},
          {"role": "tool", "tool_call_id": "call_weather", "content": "Trời nắng, ba mươi độ"}],
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Tra cứu thời tiết",
          "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "Tên thành phố"}},
                         "required": ["city"]}}}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "thoi_tiet",
          "schema": {"type": "object", "properties": {"mo_ta": {"type": "string", "description": "Mô tả ngắn"}}}}},
        "prediction": {"type": "content", "content": "Trời nắng"},
        "temperature": 0.2, "user": "nhanvien-lan", "metadata": {"nhom": "hanh-chinh"}})")},
      {"openai responses", Api::openai, "/openai/v1/responses", [&] {
        auto d = doc(R"({
          "model": "gpt-4o",
          "instructions": "Trả lời ngắn gọn.",
          "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "Tóm tắt tệp đính kèm"},
                                         {"type": "input_file", "filename": "ghichu.txt", "file_data": ""}]},
            {"type": "function_call", "call_id": "call_lich", "name": "tra_lich", "arguments": "{\"tu_khoa\":\"lịch họp\"}"},
            {"type": "function_call_output", "call_id": "call_lich", "output": "Không có cuộc họp nào"}],
          "prompt": {"id": "pmpt_hop", "variables": {"ten": "Lan"}},
          "text": {"format": {"type": "json_schema", "name": "tom_tat",
            "schema": {"type": "object", "properties": {"tom_tat": {"type": "string", "description": "Bản tóm tắt"}}}}},
          "metadata": {"du_an": "noi-bo"}, "user": "nhanvien-lan"})");
        d["input"][0]["content"][1]["file_data"] = "data:text/plain;base64," + note_b64;
        return d;
      }()},
      {"openai assistants: create thread and run", Api::openai, "/openai/v1/threads/runs", doc(R"({
        "assistant_id": "asst_tro_ly", "instructions": "Bạn là trợ lý lập kế hoạch.",
        "thread": {"messages": [{"role": "user", "content": "Lập kế hoạch họp quý",
                                 "metadata": {"nguon": "web"}}], "metadata": {"phong": "ke-hoach"}},
        "additional_instructions": "Dùng tiếng Việt.", "metadata": {"lan": "mot"}})")},
      {"openai assistants: run with additional messages", Api::openai, "/openai/v1/threads/thread_ke_hoach/runs", doc(R"({
        "assistant_id": "asst_tro_ly", "additional_instructions": "Ngắn gọn.",
        "additional_messages": [{"role": "user", "content": [{"type": "text", "text": "Thêm mục ngân sách"}]}],
        "tools": [{"type": "code_interpreter"}]})")},
      {"openai embeddings", Api::openai, "/openai/v1/embeddings", doc(R"({
        "model": "text-embedding-3-small", "input": ["Mùa thu Hà Nội", "Hồ Gươm buổi sáng"], "user": "nhanvien-lan"})")},
  });
}

TEST_CASE("every position of Anthropic request bodies is refused or redacted, and clean text passes unchanged", "[e2e][coverage]") {
  check_shapes({
      {"anthropic messages", Api::anthropic, "/anthropic/v1/messages", doc(R"({
        "model": "claude-3-5-sonnet-latest", "max_tokens": 256,
        "system": [{"type": "text", "text": "Bạn là trợ lý văn phòng.", "cache_control": {"type": "ephemeral"}}],
        "tools": [{"name": "tra_cuu", "description": "Tra cứu văn bản",
                   "input_schema": {"type": "object", "properties": {"tu_khoa": {"type": "string", "description": "Từ khoá"}},
                                    "required": ["tu_khoa"]}}],
        "messages": [
          {"role": "user", "content": [
            {"type": "text", "text": "Đọc các tài liệu sau"},
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Biên bản họp tổ"},
             "title": "Biên bản", "context": "Tài liệu nội bộ"},
            {"type": "document", "source": {"type": "content", "content": [{"type": "text", "text": "Phần một của báo cáo"}]}}]},
          {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_tra_cuu", "name": "tra_cuu", "input": {"tu_khoa": "lịch"}}]},
          {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_tra_cuu",
                                        "content": [{"type": "text", "text": "Không tìm thấy"}]}]}],
        "metadata": {"user_id": "nhanvien-lan"}})")},
  });
}

TEST_CASE("every position of Gemini request bodies is refused or redacted, and clean text passes unchanged", "[e2e][coverage]") {
  check_shapes({
      {"gemini generateContent", Api::gemini, "/gemini/v1beta/models/gemini-2.0-flash:generateContent", doc(R"({
        "systemInstruction": {"parts": [{"text": "Bạn là trợ lý."}]},
        "contents": [
          {"role": "user", "parts": [{"text": "Thời tiết thế nào?"}]},
          {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Hà Nội"}}}]},
          {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"ket_qua": "Trời nắng"}}}]}],
        "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Thời tiết",
          "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING", "description": "Thành phố"}}}}]}],
        "generationConfig": {"temperature": 0.3, "responseMimeType": "text/plain"}})")},
      {"gemini countTokens", Api::gemini, "/gemini/v1beta/models/gemini-2.0-flash:countTokens", doc(R"({
        "contents": [{"role": "user", "parts": [{"text": "Đếm số từ của câu này"}]}]})")},
      {"gemini embedContent", Api::gemini, "/gemini/v1beta/models/text-embedding-004:embedContent", doc(R"({
        "model": "models/text-embedding-004", "content": {"parts": [{"text": "Mùa thu Hà Nội"}]},
        "taskType": "RETRIEVAL_DOCUMENT", "title": "Tài liệu"})")},
  });
}

TEST_CASE("every position of a JSON body to an unknown path is refused or redacted, and clean text passes unchanged", "[e2e][coverage]") {
  const char* generic = R"({
    "query": "Tìm kiếm biên bản", "filters": {"tags": ["hop", "quy"], "owner": {"name": "Lan"}}, "limit": 5,
    "options": {"highlight": true}})";
  check_shapes({
      {"generic JSON service, unknown path", Api::openai, "/generic/v1/search/documents", doc(generic)},
      {"openai, an endpoint no schema lists", Api::openai, "/openai/v1/experimental/new_endpoint", doc(generic)},
  });
}
