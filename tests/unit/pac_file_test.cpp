// PacFile and pac_proxies(): the proxy auto-config the admin listener serves. The generated script
// is run by a real JavaScript engine (node, with the standard PAC functions: pac_eval.js), as a
// browser would run it.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gateway/catalog/pac_file.h"
#include "gateway/catalog/service_catalog.h"
#include "gateway/config/config.h"
#include "../support/temp_dir.h"

using namespace promptwall::gateway;
namespace fs = std::filesystem;

namespace {

Service service(std::string name, std::vector<std::string> hosts, bool inspect = true, bool approved = true) {
  Service s;
  s.name = std::move(name);
  s.hosts = std::move(hosts);
  s.inspect = inspect;
  s.approved = approved;
  return s;
}

// A catalog with every case the script must tell apart.
std::vector<Service> office_catalog() {
  return {
      service("openai", {"api.openai.com"}),
      service("chatgpt-web", {"chatgpt.com", "*.chatgpt.com"}),
      service("company-ai", {"*.example.com"}),
      service("wiki", {"wiki.example.com"}, /*inspect=*/false),                 // a hole in the wildcard
      service("intranet", {"*.intranet.example.com"}, /*inspect=*/false),       // a longer wildcard wins
      service("deepseek", {"api.deepseek.com"}, /*inspect=*/true, /*approved=*/false),  // refused: via the proxy
      service("local-llm", {"localai"}),                                         // a plain name, listed
  };
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Evaluation {
  std::map<std::string, std::string> results;
  int dns_calls = -1;
  std::string error;
};

// Writes `script` to a file and runs FindProxyForURL on each case in node (pac_eval.js).
Evaluation evaluate(const std::string& script, const std::vector<std::string>& cases) {
  const promptwall::test::TempDir scratch;
  const fs::path& dir = scratch.path();
  std::ofstream(dir / "proxy.pac", std::ios::binary) << script;
  std::string cmd = "node " + shell_quote(std::string(PROMPTWALL_SOURCE_DIR) + "/tests/unit/pac_eval.js") + " " +
                    shell_quote((dir / "proxy.pac").string());
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on " " + std::string&&.
  for (const auto& c : cases) {
    cmd += ' ';
    cmd += shell_quote(c);
  }
  cmd += " >";
  cmd += shell_quote((dir / "out").string());
  cmd += " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream in(dir / "out");
  std::stringstream out;
  out << in.rdbuf();
  Evaluation e;
  const auto j = nlohmann::json::parse(out.str(), nullptr, false);
  if (rc != 0 || !j.is_object() || !j.contains("results")) {
    e.error = "node pac_eval.js exited " + std::to_string(rc) + ": " + out.str();
    return e;
  }
  for (auto& [k, v] : j["results"].items()) e.results[k] = v.get<std::string>();
  e.dns_calls = j["dns_calls"].get<int>();
  return e;
}

const std::vector<Endpoint> kProxies{{"proxy.office.vn", 3128}, {"backup.office.vn", 3128}};
constexpr const char* kThroughProxy = "PROXY proxy.office.vn:3128; PROXY backup.office.vn:3128";

}  // namespace

TEST_CASE("the PAC sends AI hosts through the proxies and everything else DIRECT, in a JS engine", "[pac]") {
  const std::string script = PacFile(office_catalog()).render(kProxies);
  const std::vector<std::pair<std::string, std::string>> expected{
      // exact hosts; case and a trailing dot as browsers may pass them
      {"https://api.openai.com/v1/chat/completions", kThroughProxy},
      {"https://api.openai.com/|API.OpenAI.COM.", kThroughProxy},
      {"http://api.openai.com:8080/x", kThroughProxy},
      {"wss://chatgpt.com/backend-api/ws", kThroughProxy},
      // wildcards: any depth, not the bare domain, not a look-alike suffix
      {"https://ab.chatgpt.com/", kThroughProxy},
      {"https://a.b.chatgpt.com/", kThroughProxy},
      {"https://notchatgpt.com/", "DIRECT"},
      {"https://x.example.com/", kThroughProxy},
      {"https://example.com/", "DIRECT"},
      // holes: an exact non-inspected host, and a longer non-inspected wildcard
      {"https://wiki.example.com/", "DIRECT"},
      {"https://docs.intranet.example.com/", "DIRECT"},
      // a refused service goes through the proxy, where its refusal is
      {"https://api.deepseek.com/chat", kThroughProxy},
      // a plain name listed as a service, and plain names that are not
      {"http://localai:8000/v1/chat/completions", kThroughProxy},
      {"http://fileserver/share", "DIRECT"},
      // IP literals: private, loopback, public, IPv6
      {"http://10.1.2.3/", "DIRECT"},
      {"http://127.0.0.1:8080/", "DIRECT"},
      {"https://8.8.8.8/", "DIRECT"},
      {"http://[::1]:9090/", "DIRECT"},
      {"http://[fd00::5]/", "DIRECT"},
      // everything else
      {"https://www.google.com/search?q=openai", "DIRECT"},
      {"https://openai.com.evil.example.org/", "DIRECT"},
  };
  std::vector<std::string> cases;
  for (const auto& [c, _] : expected) cases.push_back(c);
  const Evaluation e = evaluate(script, cases);
  INFO(e.error << "\n" << script);
  REQUIRE(e.error.empty());
  for (const auto& [c, want] : expected) {
    INFO(c);
    CHECK(e.results.at(c) == want);
  }
  // No DNS lookup: a browser would wait on each one.
  CHECK(e.dns_calls == 0);
}

TEST_CASE("the PAC decides every host as the gateway's catalog does", "[pac]") {
  const auto services = office_catalog();
  const ServiceCatalog catalog(services);
  const std::vector<std::string> hosts{"api.openai.com", "chatgpt.com",  "ab.chatgpt.com", "a.b.chatgpt.com",
                                       "x.example.com",  "example.com",  "wiki.example.com", "a.intranet.example.com",
                                       "intranet.example.com", "api.deepseek.com", "localai", "other.org"};
  std::vector<std::string> cases;
  for (const auto& h : hosts) cases.push_back("https://" + h + "/");
  const Evaluation e = evaluate(PacFile(services).render(kProxies), cases);
  REQUIRE(e.error.empty());
  for (const auto& h : hosts) {
    const Service* s = catalog.by_host(h);
    const bool gateway_sees_it = s && (s->inspect || !s->approved);
    INFO(h);
    CHECK(e.results.at("https://" + h + "/") == (gateway_sees_it ? kThroughProxy : "DIRECT"));
  }
}

TEST_CASE("the PAC never lets a host or proxy name break out of its string literals", "[pac]") {
  // The configuration accepts no such names; the script must be safe without relying on that.
  // (Lower case, as the catalog keeps hosts and the script compares them.)
  const std::string evil = "x\"];findproxyforurl=function(){return \"direct\"};//.com";
  const std::vector<Service> services{service("evil", {evil}), service("ai", {"api.openai.com"}),
                                      service("vi", {"trợ-lý.vn"})};
  const std::string script = PacFile(services).render({{"proxy\".office.vn", 3128}});
  const Evaluation e = evaluate(script, {"https://api.openai.com/", "https://x/|" + evil, "https://other.org/"});
  INFO(e.error << "\n" << script);
  REQUIRE(e.error.empty());
  CHECK(e.results.at("https://api.openai.com/") == "PROXY proxy\".office.vn:3128");
  CHECK(e.results.at("https://x/|" + evil) == "PROXY proxy\".office.vn:3128");
  CHECK(e.results.at("https://other.org/") == "DIRECT");
  // ASCII only: a JS engine reading it in another encoding sees the same script.
  CHECK(std::all_of(script.begin(), script.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }));
}

TEST_CASE("a PAC without a proxy is refused: it would send AI hosts DIRECT", "[pac]") {
  CHECK_THROWS_AS(PacFile(office_catalog()).render({}), std::invalid_argument);
  const std::string script = PacFile(office_catalog()).render({{"10.0.0.5", 3128}});
  CHECK(script.find("var PROXY = \"PROXY 10.0.0.5:3128\";") != std::string::npos);
}

TEST_CASE("pac_proxies: configured, the proxy listener's address, or the Host the PAC was asked under", "[pac]") {
  GatewayConfig config;
  std::string why;

  SECTION("no forward proxy and no pac.proxy: nothing to name") {
    CHECK_FALSE(pac_proxies(config, "gw.office.vn:9090", &why));
    CHECK(why.find("pac.proxy") != std::string::npos);
  }
  SECTION("pac.proxy wins, in its order") {
    config.proxy_listen = Endpoint{"0.0.0.0", 3128};
    config.pac.proxies = {{"a.office.vn", 3128}, {"b.office.vn", 8080}};
    auto p = pac_proxies(config, "ignored:9090", &why);
    REQUIRE(p);
    CHECK(p->size() == 2);
    CHECK((*p)[1].to_string() == "b.office.vn:8080");
  }
  SECTION("a specific listener address is named as is") {
    config.proxy_listen = Endpoint{"10.0.0.5", 3128};
    auto p = pac_proxies(config, "wpad.office.vn", &why);
    REQUIRE(p);
    CHECK((*p)[0].to_string() == "10.0.0.5:3128");
  }
  SECTION("a listener on every address: the Host header's host with the proxy's port") {
    config.proxy_listen = Endpoint{"0.0.0.0", 3128};
    CHECK(pac_proxies(config, "gw.office.vn:9090", &why)->at(0).to_string() == "gw.office.vn:3128");
    CHECK(pac_proxies(config, "WPAD.office.vn", &why)->at(0).to_string() == "wpad.office.vn:3128");
    CHECK(pac_proxies(config, "10.0.0.7:80", &why)->at(0).to_string() == "10.0.0.7:3128");
    config.proxy_listen = Endpoint{"::", 3128};
    CHECK(pac_proxies(config, "[fd00::7]:9090", &why)->at(0).to_string() == "[fd00::7]:3128");
  }
  SECTION("a Host header that is not a host: no PAC") {
    config.proxy_listen = Endpoint{"0.0.0.0", 3128};
    CHECK_FALSE(pac_proxies(config, "", &why));
    CHECK_FALSE(pac_proxies(config, "evil\";x", &why));
    CHECK_FALSE(pac_proxies(config, "a b:9090", &why));
    CHECK(why.find("Host") != std::string::npos);
  }
}

TEST_CASE("pac.proxy in the configuration: one address or a failover list", "[pac][config]") {
  const std::string listen = "listen: {proxy: 0.0.0.0:3128}\n";
  auto parse = [&](const std::string& pac) { return parse_gateway_config(listen + pac, "t.yaml", "/etc/promptwall"); };

  CHECK(parse("").pac.proxies.empty());
  auto one = parse("pac: {proxy: proxy.office.vn:3128}\n");
  REQUIRE(one.pac.proxies.size() == 1);
  CHECK(one.pac.proxies[0].to_string() == "proxy.office.vn:3128");
  auto two = parse("pac:\n  proxy: [a.office.vn:3128, \"[fd00::1]:3128\"]\n");
  REQUIRE(two.pac.proxies.size() == 2);
  CHECK(two.pac.proxies[1].to_string() == "[fd00::1]:3128");

  auto error_of = [&](const std::string& pac) {
    try {
      parse(pac);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(error_of("pac: {proxy: proxy.office.vn}\n"), Catch::Contains("t.yaml:2: key `pac.proxy`") &&
                                                            Catch::Contains("the port is missing"));
  CHECK_THAT(error_of("pac: {proxy: [a:3128, a:3128]}\n"), Catch::Contains("key `pac.proxy[1]`: 'a:3128' is listed twice"));
  CHECK_THAT(error_of("pac: {proxy: []}\n"), Catch::Contains("needs at least one address"));
  CHECK_THAT(error_of("pac: {proxys: a:3128}\n"), Catch::Contains("did you mean `proxy`"));
}

TEST_CASE("the shipped catalog's PAC sends upload hosts, wildcards and the unlisted-AI list through the proxy", "[pac]") {
  // Issue 12: files uploaded in the web apps went DIRECT to their upload hosts.
  const GatewayConfig config = parse_gateway_config(default_gateway_config_yaml(), "<embedded default>", "/");
  const std::string script = PacFile(config.services).render(kProxies);
  const std::vector<std::pair<std::string, std::string>> expected{
      {"https://files.oaiusercontent.com/file-abc?se=2026", kThroughProxy},
      {"https://sdmntprwestus.oaiusercontent.com/files/x", kThroughProxy},
      {"https://oaiprodfiles.blob.core.windows.net/container/upload", kThroughProxy},
      {"https://content-push.googleapis.com/upload/", kThroughProxy},
      {"https://ppl-ai-file-upload.s3.amazonaws.com/web/direct-files/x", kThroughProxy},
      {"https://prod-files-secure.s3.us-west-2.amazonaws.com/x", kThroughProxy},
      {"https://www.notion.so/api/v3/runInferenceTranscript", kThroughProxy},
      {"https://www.canva.com/_ajax/", kThroughProxy},
      {"https://copilot.microsoft.com/c/api/chat", kThroughProxy},
      {"https://www.perplexity.ai/rest/sse/perplexity_ask", kThroughProxy},
      {"https://grok.com/rest/app-chat", kThroughProxy},
      {"https://chat.mistral.ai/", kThroughProxy},
      {"https://www.meta.ai/", kThroughProxy},
      {"https://poe.com/", kThroughProxy},
      // the unlisted-AI list, exact and wildcard
      {"https://character.ai/", kThroughProxy},
      {"https://beta.character.ai/chat", kThroughProxy},
      {"https://chat.z.ai/", kThroughProxy},
      {"https://www.doubao.com/chat", kThroughProxy},
      // not AI services
      {"https://www.debian.org/", "DIRECT"},
      {"https://s3.amazonaws.com/other-bucket/x", "DIRECT"},
      {"https://blob.core.windows.net/", "DIRECT"},  // the bare domain is not under the wildcard
  };
  std::vector<std::string> cases;
  for (const auto& [c, _] : expected) cases.push_back(c);
  const Evaluation e = evaluate(script, cases);
  INFO(e.error);
  REQUIRE(e.error.empty());
  for (const auto& [c, want] : expected) {
    INFO(c);
    CHECK(e.results.at(c) == want);
  }
  CHECK(e.dns_calls == 0);
}
