#include <catch2/catch.hpp>

#include "gateway/catalog/transparent_route.h"

namespace promptwall::gateway {
namespace {

ServiceCatalog office_catalog() {
  std::vector<Service> services(4);
  services[0].name = "openai";
  services[0].hosts = {"api.openai.com"};
  services[0].upstream = UpstreamTarget{true, "api.openai.com", 443, ""};
  services[1].name = "chatgpt-web";
  services[1].hosts = {"*.chatgpt.com", "chatgpt.com"};
  services[1].upstream = UpstreamTarget{true, "chatgpt.com", 443, ""};
  services[2].name = "deepseek";
  services[2].hosts = {"chat.deepseek.com"};
  services[2].approved = false;
  services[3].name = "intranet";
  services[3].hosts = {"wiki.example.vn"};
  services[3].upstream = UpstreamTarget{true, "wiki.example.vn", 443, ""};
  services[3].inspect = false;
  return ServiceCatalog(std::move(services));
}

using Action = TransparentRoute::Action;
using Protocol = TransparentRoute::Protocol;

}  // namespace

TEST_CASE("TLS: AI hosts are intercepted, or closed without a CA, other hosts spliced", "[transparent]") {
  const ServiceCatalog catalog = office_catalog();
  auto r = route_transparent(catalog, Protocol::tls, "api.openai.com", true);
  CHECK(r.action == Action::intercept);
  REQUIRE(r.service);
  CHECK(r.service->name == "openai");
  CHECK(route_transparent(catalog, Protocol::tls, "ab.chatgpt.com", true).service->name == "chatgpt-web");
  CHECK(route_transparent(catalog, Protocol::tls, "API.OpenAI.com.", true).action == Action::intercept);
  // Unapproved: intercepted so the user reads the refusal.
  r = route_transparent(catalog, Protocol::tls, "chat.deepseek.com", true);
  CHECK(r.action == Action::intercept);
  CHECK(r.service->name == "deepseek");
  // No organisation CA: closed, never passed unseen.
  CHECK(route_transparent(catalog, Protocol::tls, "api.openai.com", false).action == Action::close);
  CHECK(route_transparent(catalog, Protocol::tls, "chat.deepseek.com", false).action == Action::close);
  // Everything else passes untouched, with or without a CA.
  for (bool ca : {true, false}) {
    CHECK(route_transparent(catalog, Protocol::tls, "www.example.com", ca).action == Action::splice);
    CHECK(route_transparent(catalog, Protocol::tls, "", ca).action == Action::splice);
    CHECK(route_transparent(catalog, Protocol::tls, "wiki.example.vn", ca).action == Action::splice);
    CHECK(route_transparent(catalog, Protocol::tls, "openai.com", ca).action == Action::splice);
    CHECK(route_transparent(catalog, Protocol::tls, "www.example.com", ca).service == nullptr);
  }
}

TEST_CASE("plain HTTP: AI hosts go through the request loop, other hosts spliced", "[transparent]") {
  const ServiceCatalog catalog = office_catalog();
  auto r = route_transparent(catalog, Protocol::http, "api.openai.com", false);
  CHECK(r.action == Action::inspect_http);
  CHECK(r.service->name == "openai");
  CHECK(route_transparent(catalog, Protocol::http, "chat.deepseek.com", false).action == Action::inspect_http);
  CHECK(route_transparent(catalog, Protocol::http, "neverssl.com", true).action == Action::splice);
  CHECK(route_transparent(catalog, Protocol::http, "", true).action == Action::splice);
  CHECK(route_transparent(catalog, Protocol::http, "wiki.example.vn", true).action == Action::splice);
  CHECK(to_string(Action::inspect_http) == "inspect_http");
}

}  // namespace promptwall::gateway
