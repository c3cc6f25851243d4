// Bodies that are not tidy JSON: broken JSON, bytes that are not UTF-8, gzip-encoded bodies and
// bodies over the size limit. Each must be inspected or refused; none may slip through unread.
#include "expectations.h"

using namespace promptwall::e2e;

TEST_CASE("bodies the schema cannot read are refused, never scanned as raw text", "[e2e][bodies]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  const std::string chat = "/openai/v1/chat/completions";

  SECTION("malformed JSON carrying a secret marking → 400 unreadable_body, nothing forwarded") {
    auto m = gw.mark();
    const std::string body = std::string("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"") + "Trích:\n" +
                             kSecretLine + "\n";  // raw newlines, unterminated
    auto r = post(gw.url(chat), body);
    CHECK(r.status == 400);
    CHECK(contains(r.body, "unreadable_body"));
    CHECK_FALSE(contains(r.body, "TUYỆT MẬT"));
    check_nothing_forwarded(gw, m);
  }
  SECTION("malformed JSON that is clean → refused too (issue 12: scanned raw, escapes stayed encoded)") {
    // Before issue 12 this was scanned as raw text and forwarded; a lenient upstream decodes what
    // the raw scan could not see, so now nothing the gateway cannot parse strictly leaves.
    auto m = gw.mark();
    const std::string body = std::string("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"") + kClean + "\"}";
    auto r = post(gw.url(chat), body);
    CHECK(r.status == 400);
    CHECK(contains(r.body, "unreadable_body"));
    check_nothing_forwarded(gw, m);
  }
  SECTION("not strict JSON: NaN, a duplicate key, a lone surrogate, too deep → 400, nothing forwarded") {
    const std::string stamp = R"(\u0110\u1ed9 m\u1eadt: TUY\u1ec6T M\u1eacT)";
    for (const std::string& body :
         {R"({"model":"gpt-4o","temperature":NaN,"messages":[{"role":"user","content":")" + stamp + R"("}]})",
          R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi","content":")" + stamp + R"("}]})",
          R"({"model":"gpt-4o","messages":[{"role":"user","content":"\ud800 )" + stamp + R"("}]})",
          R"({"model":"gpt-4o","x":)" + std::string(70, '[') + "\"" + stamp + "\"" + std::string(70, ']') + "}"}) {
      INFO(body);
      auto m = gw.mark();
      auto r = post(gw.url(chat), body);
      CHECK(r.status == 400);
      CHECK(contains(r.body, "unreadable_body"));
      check_nothing_forwarded(gw, m);
    }
  }
  SECTION("JSON labelled text/plain, with the stamp in \\u escapes → read as JSON, 403") {
    auto m = gw.mark();
    const std::string body = R"({"model":"gpt-4o","messages":[{"role":"user","content":"\u0110\u1ed9 m\u1eadt: TUY\u1ec6T M\u1eacT"}]})";
    auto r = post(gw.url(chat), body, {"Content-Type: text/plain"});
    CHECK(r.status == 403);
    check_decision(r, "block");
    check_nothing_forwarded(gw, m);
  }
  SECTION("UTF-16 JSON carrying the stamp → decoded, 403; a CCCD there is blocked, not redacted") {
    auto utf16 = [](const std::string& utf8) {
      std::string out = "\xFF\xFE";
      for (size_t i = 0; i < utf8.size();) {  // BMP only, enough for Vietnamese
        const auto c = static_cast<unsigned char>(utf8[i]);
        uint32_t cp = c;
        size_t n = 1;
        if (c >= 0xE0) cp = ((c & 0x0F) << 12) | ((utf8[i + 1] & 0x3F) << 6) | (utf8[i + 2] & 0x3F), n = 3;
        else if (c >= 0xC0) cp = ((c & 0x1F) << 6) | (utf8[i + 1] & 0x3F), n = 2;
        out += static_cast<char>(cp & 0xFF);
        out += static_cast<char>(cp >> 8);
        i += n;
      }
      return out;
    };
    auto m = gw.mark();
    auto r = post(gw.url(chat), utf16(chat_body(kSecretLine)), {"Content-Type: application/json"});
    CHECK(r.status == 403);
    check_decision(r, "block");
    auto r2 = post(gw.url(chat), utf16(chat_body(kCccdText)), {"Content-Type: application/json; charset=utf-16"});
    CHECK(r2.status == 403);
    check_decision(r2, "block");
    // An unknown charset cannot be read.
    auto r3 = post(gw.url(chat), chat_body(kClean), {"Content-Type: application/json; charset=x-klingon"});
    CHECK(r3.status == 400);
    CHECK(contains(r3.body, "unreadable_body"));
    check_nothing_forwarded(gw, m);
  }
}

TEST_CASE("files in JSON and file bodies: text is scanned, other files are refused as not inspected",
          "[e2e][bodies]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  const std::string chat = "/openai/v1/chat/completions";
  SECTION("a PNG in image_url → 403 file_not_inspected, nothing forwarded") {
    auto m = gw.mark();
    const json body = {{"model", "gpt-4o"},
                       {"messages", json::array({{{"role", "user"},
                                                  {"content", json::array({{{"type", "image_url"},
                                                                            {"image_url", {{"url", "data:image/png;base64,iVBORw0KGgo="}}}}})}}})}};
    auto r = post(gw.url(chat), body.dump());
    CHECK(r.status == 403);
    CHECK(contains(r.body, "file_not_inspected"));
    check_nothing_forwarded(gw, m);
  }
  SECTION("a text file as base64 in file.file_data carrying the stamp → 403 sensitive, nothing forwarded") {
    auto m = gw.mark();
    // "Độ mật: TUYỆT MẬT" in base64
    const json body = {{"model", "gpt-4o"},
                       {"messages", json::array({{{"role", "user"},
                                                  {"content", json::array({{{"type", "file"},
                                                                            {"file", {{"filename", "a.txt"},
                                                                                      {"file_data", "xJDhu5kgbeG6rXQ6IFRVWeG7hlQgTeG6rFQ="}}}}})}}})}};
    auto r = post(gw.url(chat), body.dump());
    CHECK(r.status == 403);
    check_decision(r, "block");
    check_nothing_forwarded(gw, m);
  }
  SECTION("multipart/form-data: text fields are scanned, a file part is read: an image is refused, a clean text file passes") {
    const std::string type = "Content-Type: multipart/form-data; boundary=pw-e2e";
    auto form = [](const std::string& note, bool png) {
      std::string b = "--pw-e2e\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n"
                      "--pw-e2e\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n" + note + "\r\n";
      if (png)
        b += "--pw-e2e\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
             "Content-Type: image/png\r\n\r\n" + std::string("\x89PNG\r\n\x1a\n", 8) + "\r\n";
      else
        b += "--pw-e2e\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ghi-chu.txt\"\r\n"
             "Content-Type: text/plain\r\n\r\nGhi chú cuộc họp giao ban.\r\n";
      return b + "--pw-e2e--\r\n";
    };
    auto m = gw.mark();
    auto stamped = post(gw.url("/openai/v1/files"), form(kSecretLine, false), {type});
    CHECK(stamped.status == 403);
    check_decision(stamped, "block");
    // An image has no text to read (OCR is not done): image_only, blocked by default.
    auto file = post(gw.url("/openai/v1/files"), form(kClean, true), {type});
    CHECK(file.status == 403);
    CHECK(contains(file.body, "file_not_inspected"));
    CHECK(contains(file.body, "a.png"));
    check_nothing_forwarded(gw, m);
    auto m2 = gw.mark();
    const std::string clean = form(kClean, false);
    auto ok = post(gw.url("/openai/v1/files"), clean, {type});
    CHECK(ok.status == 200);
    check_forwarded_body(single_forward(gw, m2), clean);
  }
  SECTION("a body that is a file → 403 file_not_inspected") {
    auto m = gw.mark();
    auto r = post(gw.url(chat), std::string("%PDF-1.7\n", 9), {"Content-Type: application/pdf"});
    CHECK(r.status == 403);
    CHECK(contains(r.body, "file_not_inspected"));
    check_nothing_forwarded(gw, m);
  }
}

TEST_CASE("bodies that are not tidy JSON: encodings and limits", "[e2e][bodies]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  const std::string chat = "/openai/v1/chat/completions";

  SECTION("invalid UTF-8 sent as application/json → a 4xx refusal, nothing forwarded") {
    auto m = gw.mark();
    const std::string garbage("{\"model\":\"x\",\"messages\":\"\xff\xfe\xc3\x28\xa0\xa1\x80\x00\x9f\"}", 30);
    auto r = post(gw.url(chat), garbage);
    INFO(r.status << " " << r.body);
    CHECK(r.status >= 400);
    CHECK(r.status < 500);
    check_nothing_forwarded(gw, m);
  }
  SECTION("gzip body with a CCCD → the upstream gets the decoded, redacted body") {
    auto m = gw.mark();
    const auto body = chat_body(kCccdText);
    const auto gz = run_command({"gzip", "-c", "-n"}, body);
    REQUIRE(gz.exit_code == 0);
    auto r = post(gw.url(chat), gz.out, {"Content-Type: application/json", "Content-Encoding: gzip"});
    CHECK(r.status == 200);
    check_decision(r, "redact");
    auto rec = single_forward(gw, m);
    check_forwarded_body(rec, replace_all(body, kCccd, "[CCCD-1]"));
    if (rec.is_object()) CHECK_FALSE(rec["headers"].contains("content-encoding"));
  }
  SECTION("a body over limits.max_body_bytes (1 MiB) → 413, nothing forwarded") {
    auto m = gw.mark();
    const auto body = chat_body(std::string(1024 * 1024 + 1, 'a'));
    auto r = post(gw.url(chat), body);
    INFO(r.log.substr(0, 2000));
    CHECK(r.status == 413);
    check_nothing_forwarded(gw, m);
  }
  SECTION("a body just under the limit is inspected and forwarded") {
    auto m = gw.mark();
    const auto body = chat_body(std::string(1000 * 1000, 'a') + "\n" + kCccdText);
    auto r = post(gw.url(chat), body);
    CHECK(r.status == 200);
    check_decision(r, "redact");
    check_forwarded_body(single_forward(gw, m), replace_all(body, kCccd, "[CCCD-1]"));
  }
  SECTION("a chunked body (no Content-Length) that grows past the limit → 413, nothing forwarded") {
    auto m = gw.mark();
    const auto body = chat_body(std::string(1024 * 1024 + 1, 'a'));
    auto r = post(gw.url(chat), body, {"Content-Type: application/json", "Transfer-Encoding: chunked"});
    CHECK(r.status == 413);
    check_nothing_forwarded(gw, m);
  }
  SECTION("a gzip bomb (small on the wire, 40 MB decoded) → 413, nothing forwarded") {
    auto m = gw.mark();
    const auto gz = run_command({"gzip", "-c", "-n"}, chat_body(std::string(40 * 1024 * 1024, ' ')));
    REQUIRE(gz.exit_code == 0);
    REQUIRE(gz.out.size() < 1024 * 1024);
    auto r = post(gw.url(chat), gz.out, {"Content-Type: application/json", "Content-Encoding: gzip"});
    CHECK(r.status == 413);
    check_nothing_forwarded(gw, m);
  }
  SECTION("a request head over limits.max_header_bytes → 431, nothing forwarded") {
    auto m = gw.mark();
    auto r = post(gw.url(chat), chat_body(kClean), {"Content-Type: application/json", "X-Padding: " + std::string(40 * 1024, 'p')});
    CHECK(r.status == 431);
    check_nothing_forwarded(gw, m);
  }
}
