// Forward-proxy mode (HTTPS_PROXY=http://gateway:P2): catalogued AI hosts are intercepted with a
// leaf from the organisation CA and inspected like base-URL mode; other hosts are tunnelled
// untouched; unapproved services are refused at CONNECT.
#include "expectations.h"

using namespace promptwall::e2e;

namespace {

HttpResponse via_proxy(const GatewayFixture& gw, const std::string& url, const std::string& cacert, const std::string& body) {
  HttpRequest req;
  req.method = "POST";
  req.url = url;
  req.proxy = gw.proxy();
  req.cacert = cacert;
  req.body = body;
  req.headers = {"Content-Type: application/json", "Authorization: Bearer sk-e2e-test"};
  return http(req);
}

}  // namespace

TEST_CASE("the forward proxy intercepts catalogued AI hosts", "[e2e][proxy]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  const auto org_ca = gw.certs().org_ca_crt.string();

  SECTION("CONNECT api.openai.com: the leaf chains to the org CA; the CCCD is redacted upstream") {
    auto m = gw.mark();
    const auto body = chat_body(kCccdText);
    auto r = via_proxy(gw, "https://api.openai.com/v1/chat/completions", org_ca, body);
    INFO(tail(r.log, 3000));
    CHECK(r.curl_exit == 0);  // curl verified the leaf against the org CA alone
    CHECK(r.status == 200);
    CHECK_FALSE(r.tls_issuer.empty());
    CHECK_FALSE(contains(r.tls_issuer, kTestCaName));
    check_decision(r, "redact");
    auto rec = single_forward(gw, m);
    check_forwarded_body(rec, replace_all(body, kCccd, "[CCCD-1]"));
    if (rec.is_object()) {
      CHECK(rec["tls"] == true);
      CHECK(rec["url"] == "/v1/chat/completions");
    }
  }
  SECTION("CONNECT api.openai.com with a secret marking → 403 in openai's shape, nothing forwarded") {
    auto m = gw.mark();
    auto r = via_proxy(gw, "https://api.openai.com/v1/chat/completions", org_ca, chat_body(kSecretLine));
    CHECK(r.status == 403);
    check_decision(r, "block");
    INFO(r.body);
    check_refusal_message(r.json_body()["error"].value("message", ""), "vn.secret.degree-field", "TUYỆT MẬT");
    check_nothing_forwarded(gw, m);
  }
  SECTION("absolute-form http://api.openai.com/... is inspected too") {
    auto m = gw.mark();
    const auto body = chat_body(kCccdText);
    auto r = via_proxy(gw, "http://api.openai.com/v1/chat/completions", "", body);
    CHECK(r.status == 200);
    check_decision(r, "redact");
    check_forwarded_body(single_forward(gw, m), replace_all(body, kCccd, "[CCCD-1]"));
    auto blocked_mark = gw.mark();
    auto blocked = via_proxy(gw, "http://api.openai.com/v1/chat/completions", "", chat_body(kSecretLine));
    CHECK(blocked.status == 403);
    check_nothing_forwarded(gw, blocked_mark);
  }
}

TEST_CASE("the forward proxy tunnels other hosts and refuses unapproved ones", "[e2e][proxy]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());

  SECTION("a host not in the catalog is tunnelled untouched: its own certificate, its bytes as sent") {
    auto m = gw.mark();
    const auto body = chat_body(kCccdText);
    auto r = via_proxy(gw, "https://localhost:" + std::to_string(gw.upstream_tls().port()) + "/x", gw.certs().test_ca_crt.string(), body);
    INFO(tail(r.log, 3000));
    CHECK(r.curl_exit == 0);
    CHECK(r.status == 200);
    CHECK(contains(r.tls_issuer, kTestCaName));
    CHECK(r.json_body() == json{{"ok", true}});
    check_forwarded_body(single_forward(gw, m), body);  // not inspected: the CCCD goes through
  }
  SECTION("CONNECT api.deepseek.com:443 (approved: false) → 403, nothing forwarded") {
    auto m = gw.mark();
    auto r = via_proxy(gw, "https://api.deepseek.com/chat/completions", gw.certs().org_ca_crt.string(), chat_body(kClean));
    INFO(tail(r.log, 3000));
    CHECK(r.status == 403);
    CHECK(r.curl_exit != 0);  // curl gives up on a refused tunnel
    check_nothing_forwarded(gw, m);
  }
}
