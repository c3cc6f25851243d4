// Bodies that are not tidy JSON: broken JSON, bytes that are not UTF-8, gzip-encoded bodies and
// bodies over the size limit. Each must be inspected or refused; none may slip through unread.
#include "expectations.h"

using namespace promptwall::e2e;

TEST_CASE("bodies the schema cannot read are scanned as text or refused", "[e2e][bodies]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  const std::string chat = "/openai/v1/chat/completions";

  SECTION("malformed JSON carrying a secret marking → 403, nothing forwarded") {
    auto m = gw.mark();
    const std::string body = std::string("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"") + "Trích:\n" +
                             kSecretLine + "\n";  // raw newlines, unterminated
    auto r = post(gw.url(chat), body);
    CHECK(r.status == 403);
    check_decision(r, "block");
    CHECK_FALSE(contains(r.body, "TUYỆT MẬT"));
    check_nothing_forwarded(gw, m);
  }
  SECTION("malformed JSON that is clean → forwarded unchanged") {
    auto m = gw.mark();
    const std::string body = std::string("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"") + kClean + "\"}";
    auto r = post(gw.url(chat), body);
    CHECK(r.status == 200);
    check_forwarded_body(single_forward(gw, m), body);
  }
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
