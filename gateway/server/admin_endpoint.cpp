// The admin listener: health for load balancers and the proxy auto-config (open), and behind the
// bearer token the metrics, the active rules, and reload; the officers' review page (/review,
// audit::ReviewSite) with its own sign-in. Loopback by default; one small request at a time per connection.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "gateway/catalog/pac_file.h"
#include "gateway/identity/bearer_token.h"
#include "gateway/server/connections.h"
#include "gateway/server/proxy_header_reader.h"

namespace promptwall::gateway::server {

namespace http = beast::http;
using tcp = net::ip::tcp;
using net::use_awaitable;

namespace {

using Response = http::response<http::string_body>;

Response text(http::status status, std::string body, std::string_view type = "text/plain; charset=utf-8") {
  Response res{status, 11};
  res.set(http::field::content_type, type);
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  return res;
}

Response json(http::status status, const nlohmann::json& body) {
  return text(status, body.dump(2) + "\n", "application/json");
}

// Compared in constant time (bearer_token.h), so the token cannot be guessed byte by byte, nor its
// length learnt, from response times.
bool authorized(const ServerState& state, const http::request<http::string_body>& req) {
  return bearer_token_matches(req[http::field::authorization], state.admin_token);
}

nlohmann::json rules_json(const ServerState& state) {
  auto rules = state.rules.load();
  nlohmann::json out;
  if (!rules) return out;
  out["version"] = rules->version();
  if (!rules->bundle().empty()) out["bundle"] = rules->bundle();
  out["loaded_from_cache"] = rules->loaded_from_cache();
  nlohmann::json packs = nlohmann::json::array();
  for (const auto& pack : rules->packs()) {
    nlohmann::json p;
    p["name"] = pack.name;
    p["source"] = pack.file;
    p["version"] = pack.version;
    nlohmann::json list = nlohmann::json::array();
    for (const auto& rule : pack.rules) {
      list.push_back({{"id", rule.id},
                      {"category", rule.category},
                      {"severity", std::string(to_string(rule.severity))},
                      {"action", std::string(to_string(rule.action))},
                      {"description", rule.description}});
    }
    p["rules"] = std::move(list);
    packs.push_back(std::move(p));
  }
  out["packs"] = std::move(packs);
  return out;
}

// /proxy.pac and /wpad.dat: open, as browsers fetch them anonymously. Generated per request (a
// handful of hosts): the proxy named may depend on the Host the browser used.
Response pac(const ServerState& state, const http::request<http::string_body>& req) {
  if (req.method() != http::verb::get) {
    Response res = text(http::status::method_not_allowed, "GET /proxy.pac or /wpad.dat\n");
    res.set(http::field::allow, "GET");
    return res;
  }
  std::string why;
  const auto proxies = pac_proxies(state.config, req[http::field::host], &why);
  // No proxy to name: no PAC at all, rather than one that would send AI hosts DIRECT.
  if (!proxies) return text(http::status::service_unavailable, "no proxy auto-config: " + why + "\n");
  return text(http::status::ok, PacFile(state.config.services).render(*proxies), PacFile::kContentType);
}

}  // namespace

net::awaitable<void> serve_admin(ServerState& state, tcp::socket socket, ReloadFunction reload, ReviewFunction review) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  // The review page's sign-in limit counts failures per address; "[v6]:port" keeps the two apart.
  // Behind a load balancer (listen.proxy_protocol), the address its PROXY header names.
  boost::system::error_code peer_ec;
  auto peer = stream.socket().remote_endpoint(peer_ec);
  if (!peer_ec) {
    auto client = co_await read_client_address(state, stream, buffer, peer, "admin");
    if (!client) co_return;
    peer = *client;
  }
  const std::string client = peer_ec ? std::string()
                             : peer.address().is_v6()
                                 ? "[" + peer.address().to_string() + "]:" + std::to_string(peer.port())
                                 : peer.address().to_string() + ":" + std::to_string(peer.port());
  boost::system::error_code ec;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);
    stream.expires_after(state.config.limits.timeouts.idle);
    co_await http::async_read(stream, buffer, parser, net::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    auto& req = parser.get();
    const std::string_view target = req.target();
    const std::string_view path = target.substr(0, target.find('?'));

    Response res;
    if (path == "/healthz") {
      res = text(http::status::ok, "ok\n");
    } else if (path == "/readyz") {
      const auto audit = state.audit->health();
      if (state.ready.load() && state.rules.load() == nullptr && state.bundles)
        res = text(http::status::service_unavailable, "not ready: no rule bundle (" + state.bundles->problem() +
                                                          "); AI traffic is refused until one verifies\n");
      else if (!state.ready.load() || state.rules.load() == nullptr)
        res = text(http::status::service_unavailable, "not ready: starting\n");
      else if (!audit.available)
        res = text(http::status::service_unavailable, "not ready: the audit trail cannot be written (" + audit.error +
                                                          "); AI traffic is refused until it can\n");
      else
        // A central store that cannot be reached does not stop traffic: said, still 200.
        res = text(http::status::ok, state.central ? "ready\n" + state.central->status_line() + "\n" : "ready\n");
    } else if (path == "/proxy.pac" || path == "/wpad.dat") {
      res = pac(state, req);
    } else if (path == "/metrics" || path == "/rules" || path == "/reload") {
      if (!authorized(state, req)) {
        res = text(http::status::unauthorized, "a bearer token is required (admin.token in the configuration)\n");
        res.set(http::field::www_authenticate, "Bearer realm=\"promptwall\"");
      } else if (path == "/metrics") {
        res = text(http::status::ok, state.metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
      } else if (path == "/rules") {
        res = json(http::status::ok, rules_json(state));
      } else if (req.method() != http::verb::post) {
        res = text(http::status::method_not_allowed, "POST /reload\n");
        res.set(http::field::allow, "POST");
      } else {
        RuleLoad load = co_await reload();
        nlohmann::json body;
        body["ok"] = load.ok();
        if (load.ok()) {
          body["version"] = load.ruleset->version();
          body["examples_run"] = load.examples_run;
          res = json(http::status::ok, body);
        } else {
          body["errors"] = load.error_text();
          auto active = state.rules.load();
          body["active_version"] = active ? active->version() : "";
          res = json(http::status::unprocessable_entity, body);
        }
      }
    } else if (audit::ReviewSite::serves(target)) {
      // The officers' page signs its users in itself: never behind the bearer token.
      audit::ReviewRequest request{std::string(req.method_string()), std::string(target),
                                   std::string(req[http::field::cookie]), req.body(), client};
      request.host = std::string(req[http::field::host]);
      request.origin = std::string(req[http::field::origin]);
      request.sec_fetch_site = std::string(req["Sec-Fetch-Site"]);
      // The admin listener is plain HTTP; behind a TLS-terminating proxy the cookies become Secure
      // (a client that claims it falsely only loses its own cookies).
      request.secure = beast::iequals(req["X-Forwarded-Proto"], "https");
      audit::ReviewResponse page = co_await review(request);
      res = text(static_cast<http::status>(page.status), std::move(page.body), page.content_type);
      for (auto& [name, value] : page.headers) {
        if (beast::iequals(name, "Set-Cookie")) res.insert(name, value);
        else res.set(name, value);
      }
    } else {
      res = text(http::status::not_found, "unknown admin endpoint; see /healthz /readyz /metrics /rules /reload /review /proxy.pac /wpad.dat\n");
    }
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    co_await http::async_write(stream, res, net::redirect_error(use_awaitable, ec));
    if (ec || !res.keep_alive()) co_return;
  }
}

}  // namespace promptwall::gateway::server
