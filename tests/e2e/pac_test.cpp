// Browsers finding the gateway: the PAC file on the admin listener, fetched anonymously with curl,
// evaluated by a JavaScript engine (node, tests/unit/pac_eval.js), and the proxy it names used the
// way a browser would use it.
#include "expectations.h"

using namespace promptwall::e2e;

namespace {

// FindProxyForURL for each URL, in node, over the PAC text; {"harness_error": ...} when it fails.
json evaluate_pac(const fs::path& dir, const std::string& pac, const std::vector<std::string>& urls) {
  const fs::path file = dir / "fetched.pac";
  write_text(file, pac);
  std::vector<std::string> argv = {"node", std::string(PROMPTWALL_SOURCE_DIR) + "/tests/unit/pac_eval.js", file.string()};
  argv.insert(argv.end(), urls.begin(), urls.end());
  auto r = run_command(argv);
  auto lines = complete_lines(r.out);
  json parsed = lines.empty() ? json() : json::parse(lines.back(), nullptr, false);
  if (r.exit_code != 0 || !parsed.is_object()) return {{"harness_error", tail(r.out + r.err, 1500)}};
  return parsed;
}

}  // namespace

TEST_CASE("the admin listener serves the PAC at /wpad.dat and /proxy.pac", "[e2e][pac]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  const std::string proxy_directive = "PROXY " + gw.proxy().substr(std::string("http://").size());

  SECTION("anonymously, as a PAC, the same file under both names") {
    auto wpad = get(gw.admin_url("/wpad.dat"));  // no Authorization header
    auto pac = get(gw.admin_url("/proxy.pac"));
    REQUIRE(wpad.status == 200);
    CHECK(wpad.header("Content-Type") == "application/x-ns-proxy-autoconfig");
    CHECK(pac.status == 200);
    CHECK(pac.header("Content-Type") == "application/x-ns-proxy-autoconfig");
    CHECK(pac.body == wpad.body);
    // The token still guards the rest of the listener.
    CHECK(gw.admin("GET", "/metrics", false).status == 401);
  }
  SECTION("only GET") {
    auto r = gw.admin("POST", "/wpad.dat", false);
    CHECK(r.status == 405);
    CHECK(r.header("Allow") == "GET");
  }
  SECTION("a JS engine sends the catalog's hosts to the proxy listener, the rest DIRECT") {
    auto r = get(gw.admin_url("/wpad.dat"));
    REQUIRE(r.status == 200);
    const auto e = evaluate_pac(gw.dir(), r.body,
                                {"https://api.openai.com/v1/chat/completions", "http://api.anthropic.com/v1/messages",
                                 "https://api.deepseek.com/chat", "https://www.debian.org/", "http://10.0.0.1/"});
    INFO(e.dump());
    REQUIRE_FALSE(e.contains("harness_error"));
    const auto& results = e["results"];
    CHECK(results["https://api.openai.com/v1/chat/completions"] == proxy_directive);
    CHECK(results["http://api.anthropic.com/v1/messages"] == proxy_directive);
    CHECK(results["https://api.deepseek.com/chat"] == proxy_directive);  // unapproved: to its refusal
    CHECK(results["https://www.debian.org/"] == "DIRECT");
    CHECK(results["http://10.0.0.1/"] == "DIRECT");
    CHECK(e["dns_calls"] == 0);
  }
  SECTION("the proxy the PAC names inspects what a browser sends through it") {
    auto r = get(gw.admin_url("/proxy.pac"));
    const auto e = evaluate_pac(gw.dir(), r.body, {"http://api.anthropic.com/v1/messages"});
    REQUIRE_FALSE(e.contains("harness_error"));
    const std::string directive = e["results"]["http://api.anthropic.com/v1/messages"];
    REQUIRE(directive.starts_with("PROXY "));
    const auto m = gw.mark();
    HttpRequest req;
    req.method = "POST";
    req.url = "http://api.anthropic.com/v1/messages";
    req.proxy = "http://" + directive.substr(6);
    req.headers = {"Content-Type: application/json", "x-api-key: k", "anthropic-version: 2023-06-01"};
    req.body = json{{"model", "claude-3-5-haiku-latest"},
                    {"max_tokens", 64},
                    {"messages", json::array({{{"role", "user"}, {"content", kCccdText}}})}}
                   .dump();
    auto answer = http(req);
    CHECK(answer.status == 200);
    CHECK(answer.header("X-Promptwall-Decision") == "redact");
    auto forwarded = gw.forwarded_since(m);
    REQUIRE(forwarded.size() == 1);
    CHECK(contains(body_of(forwarded[0]), "[CCCD-1]"));
    CHECK_FALSE(contains(body_of(forwarded[0]), kCccd));
  }
}
