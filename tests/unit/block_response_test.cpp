#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gateway/adapters/block_response.h"

using namespace promptwall::gateway;
using Reason = Refusal::Reason;

namespace {

const std::vector<Reason> kAllReasons{
    Reason::sensitive_content, Reason::unapproved_service,   Reason::unreadable_body,
    Reason::body_too_large,    Reason::header_too_large,     Reason::unsupported_request,
    Reason::upstream_unavailable, Reason::upstream_timeout,  Reason::internal_error,
    Reason::overloaded,        Reason::audit_unavailable, Reason::malformed_request,
    Reason::justification_required, Reason::override_cap_reached, Reason::rules_unavailable};

const std::vector<Schema> kAllSchemas{Schema::openai, Schema::gemini, Schema::anthropic, Schema::json,
                                      Schema::text};

Refusal blocked() {
  Refusal r;
  r.reason = Reason::sensitive_content;
  r.rule_ids = {"vn-markings/degree-stamp"};
  r.categories = {"classification_marking"};
  r.service = "openai";
  r.request_id = "req-42";
  return r;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("status codes per reason", "[block_response]") {
  auto status = [](Reason reason) {
    Refusal r;
    r.reason = reason;
    return status_code(r);
  };
  CHECK(status(Reason::sensitive_content) == 403);
  CHECK(status(Reason::unapproved_service) == 403);
  CHECK(status(Reason::unreadable_body) == 400);
  CHECK(status(Reason::body_too_large) == 413);
  CHECK(status(Reason::header_too_large) == 431);
  CHECK(status(Reason::unsupported_request) == 400);
  CHECK(status(Reason::malformed_request) == 400);
  CHECK(status(Reason::upstream_unavailable) == 502);
  CHECK(status(Reason::upstream_timeout) == 504);
  CHECK(status(Reason::internal_error) == 500);
  CHECK(status(Reason::overloaded) == 503);
  CHECK(status(Reason::audit_unavailable) == 503);
  CHECK(status(Reason::rules_unavailable) == 503);
}

TEST_CASE("the block message names the rule in both languages with the request id", "[block_response]") {
  std::string m = refusal_message(blocked());
  CHECK(m ==
        "promptwall đã chặn yêu cầu này: nội dung có thể chứa dấu độ mật của văn bản (quy tắc "
        "vn-markings/degree-stamp). Hãy xoá hoặc thay thế các thông tin đó rồi gửi lại; nếu cho rằng đây là "
        "nhầm lẫn, hãy liên hệ bộ phận an ninh thông tin. Mã yêu cầu: req-42. | promptwall blocked this "
        "request: the content may contain a classified-document marking (rule vn-markings/degree-stamp). "
        "Remove or replace that information and send it again; if you think this is a mistake, contact the "
        "information security office. Request id: req-42.");
}

TEST_CASE("categories are put in plain words, repeated ones once, unknown ones as they are", "[block_response]") {
  Refusal r = blocked();
  r.rule_ids = {"vn-pii/cccd", "vn-pii/cccd", "acme/project-x"};
  r.categories = {"national_id", "national_id", "acme_codename"};
  std::string m = refusal_message(r);
  CHECK(contains(m, "số định danh cá nhân (CCCD/CMND), acme_codename (quy tắc vn-pii/cccd, acme/project-x)"));
  CHECK(contains(m, "a national ID number, acme_codename (rules vn-pii/cccd, acme/project-x)"));
}

TEST_CASE("without categories or rules the block message stays general", "[block_response]") {
  Refusal r;
  r.request_id = "x1";
  std::string m = refusal_message(r);
  CHECK(contains(m, "thông tin mật hoặc dữ liệu cá nhân. "));
  CHECK(contains(m, "classified information or personal data. "));
  CHECK_FALSE(contains(m, "quy tắc"));
  CHECK_FALSE(contains(m, "(rule"));
}

TEST_CASE("every reason has a message in both languages with the request id", "[block_response]") {
  for (Reason reason : kAllReasons) {
    Refusal r = blocked();
    r.reason = reason;
    std::string m = refusal_message(r);
    INFO(to_string(reason) << ": " << m);
    size_t bar = m.find(" | ");
    REQUIRE(bar != std::string::npos);
    CHECK(contains(m.substr(0, bar), "Mã yêu cầu: req-42."));
    CHECK(contains(m.substr(bar), "Request id: req-42."));
    CHECK(m.rfind("promptwall", 0) == 0);
  }
  Refusal unapproved;
  unapproved.reason = Reason::unapproved_service;
  unapproved.service = "deepseek";
  std::string m = refusal_message(unapproved);
  CHECK(contains(m, "dịch vụ AI \"deepseek\" chưa được tổ chức phê duyệt"));
  CHECK(contains(m, "the AI service \"deepseek\" is not approved"));
  CHECK_FALSE(contains(m, "Request id"));  // no id given, none invented
}

TEST_CASE("every reason and schema gives the API's own error JSON", "[block_response]") {
  for (Schema schema : kAllSchemas) {
    for (Reason reason : kAllReasons) {
      Refusal r = blocked();
      r.reason = reason;
      RefusalResponse resp = render_refusal(schema, false, r);
      INFO(to_string(schema) << " " << to_string(reason) << ": " << resp.body);
      CHECK(resp.status == status_code(r));
      CHECK(resp.content_type == "application/json");
      nlohmann::json j = nlohmann::json::parse(resp.body);  // throws on invalid JSON
      const std::string message = refusal_message(r);
      switch (schema) {
        case Schema::gemini:
          CHECK(j.at("error").at("code") == resp.status);
          CHECK(j.at("error").at("message") == message);
          CHECK(j.at("error").at("status").is_string());
          break;
        case Schema::anthropic:
          CHECK(j.at("type") == "error");
          CHECK(j.at("error").at("message") == message);
          CHECK(j.at("error").at("type").is_string());
          break;
        default:
          CHECK(j.at("error").at("message") == message);
          CHECK(j.at("error").at("param").is_null());
          CHECK(j.at("error").at("code") == "promptwall_" + std::string(to_string(reason)));
          CHECK(j.at("error").at("type").is_string());
      }
    }
  }
}

TEST_CASE("error types follow each API's vocabulary", "[block_response]") {
  auto field = [](Schema schema, Reason reason, const char* key) {
    Refusal r = blocked();
    r.reason = reason;
    nlohmann::json j = nlohmann::json::parse(render_refusal(schema, false, r).body);
    return j.at("error").at(key).get<std::string>();
  };
  CHECK(field(Schema::openai, Reason::sensitive_content, "type") == "promptwall_blocked");
  CHECK(field(Schema::openai, Reason::unapproved_service, "type") == "promptwall_blocked");
  CHECK(field(Schema::openai, Reason::unreadable_body, "type") == "invalid_request_error");
  CHECK(field(Schema::openai, Reason::body_too_large, "type") == "invalid_request_error");
  CHECK(field(Schema::openai, Reason::upstream_timeout, "type") == "server_error");
  CHECK(field(Schema::openai, Reason::sensitive_content, "code") == "promptwall_sensitive_content");

  CHECK(field(Schema::gemini, Reason::sensitive_content, "status") == "PERMISSION_DENIED");
  CHECK(field(Schema::gemini, Reason::unreadable_body, "status") == "INVALID_ARGUMENT");
  CHECK(field(Schema::gemini, Reason::upstream_unavailable, "status") == "UNAVAILABLE");
  CHECK(field(Schema::gemini, Reason::upstream_timeout, "status") == "DEADLINE_EXCEEDED");
  CHECK(field(Schema::gemini, Reason::internal_error, "status") == "INTERNAL");
  CHECK(field(Schema::gemini, Reason::overloaded, "status") == "RESOURCE_EXHAUSTED");

  CHECK(field(Schema::anthropic, Reason::sensitive_content, "type") == "permission_error");
  CHECK(field(Schema::anthropic, Reason::unsupported_request, "type") == "invalid_request_error");
  CHECK(field(Schema::anthropic, Reason::body_too_large, "type") == "request_too_large");
  CHECK(field(Schema::anthropic, Reason::internal_error, "type") == "api_error");
  CHECK(field(Schema::anthropic, Reason::upstream_timeout, "type") == "timeout_error");
  CHECK(field(Schema::anthropic, Reason::overloaded, "type") == "overloaded_error");
}

TEST_CASE("the HTML page is self-contained, Vietnamese first, and escapes what it shows", "[block_response]") {
  Refusal r = blocked();
  r.rule_ids = {"acme/<script>alert(1)</script>"};
  r.request_id = "id\"&'<>";
  RefusalResponse resp = render_refusal(Schema::openai, true, r);
  CHECK(resp.status == 403);
  CHECK(resp.content_type == "text/html; charset=utf-8");
  const std::string& b = resp.body;
  CHECK(b.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(contains(b, "<html lang=\"vi\">"));
  size_t vi = b.find("<section lang=\"vi\">");
  size_t en = b.find("<section lang=\"en\">");
  REQUIRE(vi != std::string::npos);
  REQUIRE(en != std::string::npos);
  CHECK(vi < en);
  CHECK(contains(b, "<style>"));
  CHECK_FALSE(contains(b, "<script"));
  CHECK_FALSE(contains(b, "src="));
  CHECK_FALSE(contains(b, "href="));
  CHECK_FALSE(contains(b, "url("));
  CHECK(contains(b, "acme/&lt;script&gt;alert(1)&lt;/script&gt;"));
  CHECK(contains(b, "Mã yêu cầu: <code>id&quot;&amp;&#39;&lt;&gt;</code>"));
  CHECK(contains(b, "Request id: <code>id&quot;&amp;&#39;&lt;&gt;</code>"));
  CHECK(contains(b.substr(vi, en - vi), "quy tắc"));
  CHECK(contains(b.substr(en), "(rule acme/"));
}

TEST_CASE("the same refusal renders the same bytes", "[block_response]") {
  CHECK(render_refusal(Schema::gemini, false, blocked()).body == render_refusal(Schema::gemini, false, blocked()).body);
  CHECK(render_refusal(Schema::gemini, true, blocked()).body == render_refusal(Schema::openai, true, blocked()).body);
}

TEST_CASE("prefers_html follows the Accept header", "[block_response]") {
  // Browsers.
  CHECK(prefers_html("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"));
  CHECK(prefers_html("text/html, application/json"));
  CHECK(prefers_html("TEXT/HTML"));
  CHECK(prefers_html("application/xhtml+xml"));
  CHECK(prefers_html("text/html;q=0.9, application/json;q=0.5"));
  CHECK(prefers_html("text/*, */*;q=0.1"));
  // API clients and tools.
  CHECK_FALSE(prefers_html(""));
  CHECK_FALSE(prefers_html("*/*"));
  CHECK_FALSE(prefers_html("application/json"));
  CHECK_FALSE(prefers_html("application/json, text/plain, */*"));
  CHECK_FALSE(prefers_html("application/json, text/html"));
  CHECK_FALSE(prefers_html("text/html;q=0.5, application/json"));
  CHECK_FALSE(prefers_html("text/html;q=0, */*"));
  CHECK_FALSE(prefers_html("text/event-stream"));
  CHECK_FALSE(prefers_html("text/html;q=bogus, application/json;q=0.1"));
  // Equal q: the more specific range wins, then the earlier one.
  CHECK_FALSE(prefers_html("text/*, application/json"));
  CHECK(prefers_html("text/html ; q=0.8 , application/json ; q=0.8"));
}

TEST_CASE("a coaching answer names each finding with its masked excerpt and says how to go on", "[block_response][coaching]") {
  Refusal::Coaching c;
  c.findings.push_back({"vn.pii.cccd", "national_id", "Số CCCD", "National ID number", "của anh «00•••••••67» <b>"});
  c.guidance_url = "https://intranet.example/ai";
  c.token = "pwj1.TOKEN";
  c.form_secret = "f00d";
  c.form_action = "/.promptwall/justify";
  c.justify_url = "https://chatgpt.com/.promptwall/justify?t=pwj1.TOKEN";
  c.reason_required = true;
  c.min_reason_chars = 10;
  const Refusal r = Refusal::coaching_answer(c, "openai", "req-7");
  CHECK(status_code(r) == 403);
  const std::string m = refusal_message(r);
  INFO(m);
  const size_t bar = m.find(" | ");
  REQUIRE(bar != std::string::npos);
  const std::string vi = m.substr(0, bar), en = m.substr(bar);
  for (const std::string& half : {vi, en}) {
    CHECK(contains(half, "vn.pii.cccd"));
    CHECK(contains(half, "«00•••••••67»"));
    CHECK(contains(half, "https://intranet.example/ai"));
    CHECK(contains(half, "X-Promptwall-Justification-Token: pwj1.TOKEN"));
    CHECK(contains(half, "X-Promptwall-Justification:"));
    CHECK(contains(half, c.justify_url));
  }
  CHECK(contains(vi, "Số CCCD"));
  CHECK(contains(en, "National ID number"));
  CHECK(contains(en, "required, at least 10 characters"));
  // A second answer after a refused token says why.
  Refusal again = r;
  again.coaching.problem = "expired";
  CHECK(contains(refusal_message(again), "has expired"));
  // Every API shape carries it; the code says which refusal it is.
  nlohmann::json openai = nlohmann::json::parse(render_refusal(Schema::openai, false, r).body);
  CHECK(openai["error"]["code"] == "promptwall_justification_required");
  CHECK(nlohmann::json::parse(render_refusal(Schema::anthropic, false, r).body)["error"]["type"] == "permission_error");
  CHECK(nlohmann::json::parse(render_refusal(Schema::gemini, false, r).body)["error"]["status"] == "PERMISSION_DENIED");
  CHECK(nlohmann::json::parse(render_refusal(Schema::chatgpt_web, false, r).body)["detail"] == m);
  CHECK(contains(render_refusal(Schema::gemini_web, false, r).body, "pwj1.TOKEN"));
  // The page: the form with the token and secret hidden, everything escaped, VI first.
  const std::string page = render_refusal(Schema::openai, true, r).body;
  CHECK(contains(page, "<form method=\"post\" action=\"/.promptwall/justify\">"));
  CHECK(contains(page, "name=\"t\" value=\"pwj1.TOKEN\""));
  CHECK(contains(page, "name=\"s\" value=\"f00d\""));
  CHECK(contains(page, "minlength=\"10\""));
  CHECK(contains(page, "&lt;b&gt;"));
  CHECK_FALSE(contains(page, "<b>"));
  CHECK(page.find("lang=\"vi\"") < page.find("<section lang=\"en\""));
}

TEST_CASE("a justify the requester may not give is a block that says so", "[block_response][coaching]") {
  Refusal r = Refusal::sensitive({"vn.pii.phone"}, {"phone"}, "req-8");
  r.may_not_override = true;
  const std::string m = refusal_message(r);
  CHECK(contains(m, "không được phép tự xác nhận"));
  CHECK(contains(m, "may not override"));
}

