#include <catch2/catch.hpp>

#include <stdexcept>

#include "gateway/catalog/service_catalog.h"

namespace promptwall::gateway {
namespace {

Service make(std::string name, std::string prefix, std::vector<std::string> hosts) {
  Service s;
  s.name = std::move(name);
  s.prefix = std::move(prefix);
  s.hosts = std::move(hosts);
  return s;
}

ServiceCatalog sample_catalog() {
  std::vector<Service> services;
  services.push_back(make("openai", "/openai", {"api.openai.com"}));
  services.push_back(make("openai-team", "/openai/team", {}));
  services.push_back(make("gemini", "/gemini", {"generativelanguage.googleapis.com"}));
  services.push_back(make("example-any", "", {"*.example.com"}));
  services.push_back(make("example-deep", "", {"*.eu.example.com"}));
  services.push_back(make("example-exact", "", {"www.eu.example.com"}));
  return ServiceCatalog(std::move(services));
}

std::string name_by_host(const ServiceCatalog& c, std::string_view host) {
  const Service* s = c.by_host(host);
  return s ? s->name : "(none)";
}

}  // namespace

TEST_CASE("prefix match keeps the rest of the target and its query", "[catalog]") {
  auto c = sample_catalog();
  auto m = c.by_prefix("/openai/v1/chat/completions?stream=true");
  REQUIRE(m);
  CHECK(m->service->name == "openai");
  CHECK(m->rest == "/v1/chat/completions?stream=true");
}

TEST_CASE("prefix match ends on a path-segment boundary", "[catalog]") {
  auto c = sample_catalog();
  SECTION("the prefix alone gives '/'") {
    auto m = c.by_prefix("/openai");
    REQUIRE(m);
    CHECK(m->service->name == "openai");
    CHECK(m->rest == "/");
  }
  SECTION("the prefix followed by a query keeps the query") {
    auto m = c.by_prefix("/openai?x=1");
    REQUIRE(m);
    CHECK(m->service->name == "openai");
    CHECK(m->rest == "?x=1");
  }
  SECTION("a longer segment is not the prefix") {
    CHECK_FALSE(c.by_prefix("/openaix"));
    CHECK_FALSE(c.by_prefix("/openaix/v1"));
    CHECK_FALSE(c.by_prefix("/opena"));
    CHECK_FALSE(c.by_prefix("/"));
    CHECK_FALSE(c.by_prefix(""));
  }
  SECTION("paths are case-sensitive") { CHECK_FALSE(c.by_prefix("/OpenAI/v1")); }
}

TEST_CASE("the longest matching prefix wins", "[catalog]") {
  auto c = sample_catalog();
  auto team = c.by_prefix("/openai/team/v1/models");
  REQUIRE(team);
  CHECK(team->service->name == "openai-team");
  CHECK(team->rest == "/v1/models");
  auto near_miss = c.by_prefix("/openai/teams/v1");
  REQUIRE(near_miss);
  CHECK(near_miss->service->name == "openai");
  CHECK(near_miss->rest == "/teams/v1");
}

TEST_CASE("services without a prefix are not reachable by path", "[catalog]") {
  ServiceCatalog c({make("web", "", {"chatgpt.com"})});
  CHECK_FALSE(c.by_prefix("/"));
  CHECK_FALSE(c.by_prefix("/anything"));
}

TEST_CASE("host match: exact, any case, trailing dot", "[catalog]") {
  auto c = sample_catalog();
  CHECK(name_by_host(c, "api.openai.com") == "openai");
  CHECK(name_by_host(c, "API.OpenAI.com") == "openai");
  CHECK(name_by_host(c, "api.openai.com.") == "openai");
  CHECK(name_by_host(c, "openai.com") == "(none)");
  CHECK(name_by_host(c, "xapi.openai.com") == "(none)");
  CHECK(name_by_host(c, "") == "(none)");
  CHECK(name_by_host(c, ".") == "(none)");
}

TEST_CASE("host match: wildcards cover subdomains at any depth, not the domain itself", "[catalog]") {
  auto c = sample_catalog();
  CHECK(name_by_host(c, "a.example.com") == "example-any");
  CHECK(name_by_host(c, "a.b.example.com") == "example-any");
  CHECK(name_by_host(c, "A.Example.COM.") == "example-any");
  CHECK(name_by_host(c, "example.com") == "(none)");
  CHECK(name_by_host(c, "badexample.com") == "(none)");
  CHECK(name_by_host(c, ".example.com") == "(none)");
}

TEST_CASE("host match: exact beats wildcard, longer wildcard beats shorter", "[catalog]") {
  auto c = sample_catalog();
  CHECK(name_by_host(c, "www.eu.example.com") == "example-exact");
  CHECK(name_by_host(c, "api.eu.example.com") == "example-deep");
  CHECK(name_by_host(c, "x.y.eu.example.com") == "example-deep");
  CHECK(name_by_host(c, "eu.example.com") == "example-any");
}

TEST_CASE("the catalog refuses ambiguous services", "[catalog]") {
  CHECK_THROWS_AS(ServiceCatalog({make("a", "/x", {}), make("b", "/x", {})}), std::invalid_argument);
  CHECK_THROWS_AS(ServiceCatalog({make("a", "", {"h.com"}), make("b", "", {"H.com"})}), std::invalid_argument);
  CHECK_THROWS_AS(ServiceCatalog({make("a", "", {"*.h.com"}), make("b", "", {"*.h.com"})}), std::invalid_argument);
  CHECK_THROWS_AS(ServiceCatalog({make("a", "x", {})}), std::invalid_argument);
  CHECK_THROWS_AS(ServiceCatalog({make("a", "/x/", {})}), std::invalid_argument);
  CHECK_NOTHROW(ServiceCatalog({make("a", "/x", {"h.com"}), make("b", "/y", {"*.h.com"})}));
}

TEST_CASE("pointers stay valid and services() keeps the order given", "[catalog]") {
  auto c = sample_catalog();
  REQUIRE(c.services().size() == 6);
  CHECK(c.services()[2].name == "gemini");
  CHECK(c.by_host("generativelanguage.googleapis.com") == &c.services()[2]);
  CHECK(c.by_prefix("/gemini/v1beta")->service == &c.services()[2]);
}

TEST_CASE("join_upstream_path puts exactly one slash between base path and rest", "[catalog]") {
  CHECK(join_upstream_path("", "/v1/chat?a=b") == "/v1/chat?a=b");
  CHECK(join_upstream_path("/v1beta", "/models") == "/v1beta/models");
  CHECK(join_upstream_path("", "/") == "/");
  CHECK(join_upstream_path("/v1", "/") == "/v1/");
  CHECK(join_upstream_path("", "?x") == "/?x");
  CHECK(join_upstream_path("/v1", "?x") == "/v1/?x");
}

}  // namespace promptwall::gateway
