// One client connection of the base-URL gateway or the forward proxy.
//
//   read request head (limits, timeouts) ─► route to a Service ─► read body ─► RequestInspector
//   ─► refuse (API-shaped error or block page) | audit event durable ─► forward (as is or redacted)
//   ─► relay the response back as it arrives ─► metrics and log ─► next keep-alive request
//
// A CONNECT on the proxy listener becomes either a TLS interception (hosts of inspected services:
// the same loop runs inside TLS terminated with a leaf from the organisation CA) or a blind tunnel.
// The transparent listener (transparent_session.cpp) uses the same pieces once it has judged a
// redirected connection: serve_intercepted() for TLS to an AI host, the request loop
// (Origin::Kind::transparent_http, routed by Host) for plain HTTP, splice() for everything else.
#include <algorithm>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it
#include <array>
#include <charconv>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include "gateway/record/exchange.h"
#include "gateway/server/audit_events.h"
#include "gateway/server/connections.h"
#include "gateway/server/upstream_relay.h"
#include "gateway/server/websocket_relay.h"

namespace promptwall::gateway::server {

namespace http = beast::http;
using tcp = net::ip::tcp;
using net::use_awaitable;
using Clock = std::chrono::steady_clock;
using Request = http::request<http::string_body>;

namespace {

using upstream::connect_upstream;
using upstream::host_header;
using upstream::is_hop_by_hop;
using upstream::lowest;
using upstream::relay;
using upstream::RelayResult;
using upstream::target_key;

// ---------------------------------------------------------------------------------------------
// Small pure pieces

// The path without its query string: queries can carry API keys (Gemini's `?key=`), so logs and
// decisions never show them.
std::string_view path_only(std::string_view target) { return target.substr(0, target.find('?')); }

struct HostPort {
  std::string host;  // lower case, no brackets, no trailing dot
  uint16_t port = 0;
};

// "host:port", "[v6]:port", or "host" with `default_port`.
std::optional<HostPort> parse_authority(std::string_view text, uint16_t default_port) {
  HostPort out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port_text = rest.substr(1);
    }
  } else {
    auto colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') == colon) {
      out.host = std::string(text.substr(0, colon));
      port_text = text.substr(colon + 1);
    } else {
      out.host = std::string(text);
    }
  }
  if (out.host.empty()) return std::nullopt;
  std::transform(out.host.begin(), out.host.end(), out.host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (out.host.back() == '.') out.host.pop_back();
  out.port = default_port;
  if (!port_text.empty()) {
    unsigned p = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || p == 0 || p > 65535) return std::nullopt;
    out.port = static_cast<uint16_t>(p);
  }
  return out;
}

// Where one request goes.
struct Route {
  const Service* service = nullptr;  // null: not a known service, forwarded untouched (proxy only)
  UpstreamTarget upstream;
  std::string target;                // request-target sent upstream (origin-form)
  std::string schema_path;           // the path the schema sees (after the service prefix)
  std::string host;                  // Host header sent upstream; empty = the upstream's own
};

// ---------------------------------------------------------------------------------------------
// Writing our own responses

template <class Stream>
net::awaitable<bool> send_refusal(ServerState& state, Stream& stream, const Refusal& refusal, const Service* service,
                                  const Request* request, bool keep_alive, Exchange& ex) {
  const bool html = request && prefers_html(std::string_view((*request)[http::field::accept]));
  RefusalResponse rr = render_refusal(service ? service->schema : Schema::json, html, refusal);
  http::response<http::string_body> res{static_cast<http::status>(rr.status), request ? request->version() : 11};
  res.set(http::field::content_type, rr.content_type);
  res.set(http::field::cache_control, "no-store");
  res.set("X-Promptwall-Request-Id", ex.request_id);
  res.set("X-Promptwall-Decision", refusal.reason == Refusal::Reason::sensitive_content ? "block" : "refused");
  if (refusal.reason == Refusal::Reason::proxy_auth_required)
    res.set(http::field::proxy_authenticate, state.identity->challenge());
  if (!refusal.rule_ids.empty()) {
    std::string ids;
    for (const auto& id : refusal.rule_ids) ids += (ids.empty() ? "" : ", ") + id;
    res.set("X-Promptwall-Rules", ids);
  }
  res.body() = std::move(rr.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  ex.status = rr.status;
  ex.bytes_out += res.body().size();
  lowest(stream).expires_after(state.config.limits.timeouts.idle);
  boost::system::error_code ec;
  co_await http::async_write(stream, res, net::redirect_error(use_awaitable, ec));
  co_return !ec && keep_alive;
}

// A refusal of a service the requester may not use: not approved, or denied by one of their scopes.
Refusal service_refusal(const Service& service, const ServiceAccess& access, const std::string& request_id) {
  Refusal r{Refusal::Reason::unapproved_service, {}, {}, service.name, request_id};
  r.scope_kind = access.scope_kind;
  r.scope_name = access.scope_name;
  return r;
}

// The end of an exchange: its audit event when it was not written before forwarding (refusals),
// then metrics and the log line.
void finish(ServerState& state, Worker& worker, const Origin& origin, Exchange& ex) {
  write_event(state, worker, origin, ex);
  record(state.metrics, origin, ex);
}

// ---------------------------------------------------------------------------------------------
// The request loop

template <class Stream>
class ClientSession {
 public:
  ClientSession(ServerState& state, Worker& worker, Stream& stream, beast::flat_buffer& buffer, Origin origin)
      : state_(state), worker_(worker), stream_(stream), buffer_(buffer), origin_(std::move(origin)) {}

  // Serves requests until the connection should close. Returns a CONNECT request for the caller
  // (the plain-TCP proxy connection) to handle, since CONNECT changes what the stream is.
  net::awaitable<std::optional<Request>> run() {
    const auto& limits = state_.config.limits;
    bool first = true;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(limits.max_header_bytes));
      // The body limit is set once the service is known, so an oversize body gets its API's 413.
      parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      boost::system::error_code ec;
      // The first request must arrive within the header timeout; later ones may wait for the idle one.
      lowest(stream_).expires_after(first ? limits.timeouts.header : limits.timeouts.idle);
      first = false;
      co_await http::async_read_header(stream_, buffer_, parser, net::redirect_error(use_awaitable, ec));
      if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::ssl::error::stream_truncated ||
          ec == net::error::connection_reset || ec == net::error::operation_aborted)
        co_return std::nullopt;
      Exchange ex;
      ex.request_id = state_.new_request_id(worker_);
      if (ec == beast::error::timeout) {
        if (buffer_.size() > 0) spdlog::info("{} {} header timeout: request head not complete in time", ex.request_id, origin_.client);
        co_return std::nullopt;
      }
      if (ec == http::error::header_limit) {
        Refusal r{Refusal::Reason::header_too_large, {}, {}, "", ex.request_id};
        ex.refusal = r;
        co_await send_refusal(state_, stream_, r, origin_.service, nullptr, false, ex);
        finish(ex);
        co_return std::nullopt;
      }
      if (ec) {
        spdlog::info("{} {} bad request head: {}", ex.request_id, origin_.client, ec.message());
        Refusal r{Refusal::Reason::unsupported_request, {}, {}, "", ex.request_id};
        ex.refusal = r;
        co_await send_refusal(state_, stream_, r, origin_.service, nullptr, false, ex);
        finish(ex);
        co_return std::nullopt;
      }

      Request& head = parser.get();
      if (origin_.kind != Origin::Kind::intercepted && !co_await identify(head, ex)) {
        finish(ex);
        co_return std::nullopt;
      }
      if (head.method() == http::verb::connect) {
        if (origin_.kind == Origin::Kind::proxy) co_return parser.release();
        Refusal r{Refusal::Reason::unsupported_request, {}, {}, "", ex.request_id};
        ex.refusal = r;
        co_await send_refusal(state_, stream_, r, origin_.service, &head, false, ex);
        co_return std::nullopt;
      }
      bool keep_going = co_await serve_request(parser, ex);
      finish(ex);
      if (!keep_going) co_return std::nullopt;
    }
  }

  // The connection as it stands (its identity is the last request's: a CONNECT's, for the tunnel).
  const Origin& origin() const { return origin_; }

 private:
  void finish(Exchange& ex) { server::finish(state_, worker_, origin_, ex); }

  // Who sent `head` (gateway/identity/requester_identity.h); on a 407 answers it and returns false:
  // the connection then closes (the request's body, if any, was not read).
  net::awaitable<bool> identify(const Request& head, Exchange& ex) {
    auto header = [&](const std::string& name) -> std::string_view {
      return name.empty() ? std::string_view() : std::string_view(head[name]);
    };
    std::string_view proxy_authorization;
    if (auto it = head.find(http::field::proxy_authorization); it != head.end()) proxy_authorization = it->value();
    IdentityHeaders headers;
    if (const auto& trusted = state_.config.identity.trusted_header) {
      headers.user = header(trusted->user);
      headers.groups = header(trusted->groups);
      headers.unit = header(trusted->unit);
    }
    Identification id = co_await state_.identity->identify(origin_.kind == Origin::Kind::proxy, origin_.address,
                                                          proxy_authorization, headers);
    if (id.outcome == Identification::Outcome::identified) {
      origin_.identity = std::move(id.identity);
      co_return true;
    }
    origin_.identity = Identity{};
    origin_.identity.user = id.claimed_user;  // recorded as who tried; never verified
    ex.method = std::string(head.method_string());
    ex.path = std::string(head.method() == http::verb::connect ? head.target() : path_only(head.target()));
    Refusal r{Refusal::Reason::proxy_auth_required, {}, {}, "", ex.request_id};
    ex.refusal = r;
    switch (id.outcome) {
      case Identification::Outcome::challenge:
        ex.audited = true;  // asking for credentials is not a decision: the trail does not record it
        break;
      case Identification::Outcome::bad_credentials:
        spdlog::warn("{} {} proxy authentication failed for user '{}'", ex.request_id, origin_.client, id.claimed_user);
        break;
      default:
        spdlog::warn("{} {} proxy authentication refused: user '{}' is locked out after repeated failures",
                     ex.request_id, origin_.client, id.claimed_user);
        break;
    }
    co_await send_refusal(state_, stream_, r, nullptr, &head, false, ex);
    co_return false;
  }

  // Returns whether the connection stays open for another request.
  net::awaitable<bool> serve_request(http::request_parser<http::string_body>& parser, Exchange& ex) {
    Request& req = parser.get();
    const auto& limits = state_.config.limits;
    ex.method = std::string(req.method_string());
    ex.path = std::string(path_only(req.target()));
    ex.rules = state_.rules.load();

    std::string not_found;
    std::optional<Route> route = resolve(req, not_found);
    if (!route) {
      Refusal r{Refusal::Reason::unsupported_request, {}, {}, "", ex.request_id};
      ex.refusal = r;
      spdlog::info("{} {} {}", ex.request_id, origin_.client, not_found);
      co_return co_await send_refusal(state_, stream_, r, nullptr, &req, false, ex);
    }
    ex.service = route->service;
    if (route->service) {
      if (ServiceAccess access = state_.scopes.access(*route->service, origin_.identity); !access.allowed) {
        Refusal r = service_refusal(*route->service, access, ex.request_id);
        ex.refusal = r;
        co_return co_await send_refusal(state_, stream_, r, route->service, &req, false, ex);
      }
    }
    // Fail closed: while the trail cannot be written no AI traffic leaves (refused before any work).
    if (route->service && !audit_available(state_)) {
      Refusal r{Refusal::Reason::audit_unavailable, {}, {}, route->service->name, ex.request_id};
      ex.refusal = r;
      co_return co_await send_refusal(state_, stream_, r, route->service, &req, false, ex);
    }

    if (is_websocket_upgrade(req)) co_return co_await serve_websocket(*route, req, ex);

    // Refuse an announced oversize body before reading it; the connection then closes, since
    // the body was not read.
    if (auto length = parser.content_length(); length && *length > limits.max_body_bytes) {
      Refusal r{Refusal::Reason::body_too_large, {}, {}, "", ex.request_id};
      ex.refusal = r;
      ex.bytes_in = *length;
      co_await send_refusal(state_, stream_, r, route->service, &req, false, ex);
      co_return false;
    }
    parser.body_limit(limits.max_body_bytes);
    boost::system::error_code ec;
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      http::response<http::empty_body> cont{http::status::continue_, req.version()};
      co_await http::async_write(stream_, cont, net::redirect_error(use_awaitable, ec));
      if (ec) co_return false;
    }
    if (!parser.is_done()) {
      lowest(stream_).expires_after(limits.timeouts.body);
      co_await http::async_read(stream_, buffer_, parser, net::redirect_error(use_awaitable, ec));
      if (ec == http::error::body_limit) {
        Refusal r{Refusal::Reason::body_too_large, {}, {}, "", ex.request_id};
        ex.refusal = r;
        co_await send_refusal(state_, stream_, r, route->service, &req, false, ex);
        co_return false;
      }
      if (ec) {
        // Timeout or the client went away: nothing was forwarded.
        Refusal r{Refusal::Reason::unsupported_request, {}, {}, "", ex.request_id};
        ex.refusal = r;
        spdlog::info("{} {} request body not received: {}", ex.request_id, origin_.client, ec.message());
        co_return false;
      }
    }
    ex.bytes_in = req.body().size();
    const bool keep_alive = req.keep_alive();

    // Inspect what leaves, for services we inspect.
    std::vector<std::pair<std::string, std::string>> headers{{"X-Promptwall-Request-Id", ex.request_id}};
    bool body_decoded = false;
    if (route->service && route->service->inspect) {
      if (!ex.rules) {
        Refusal r{Refusal::Reason::internal_error, {}, {}, "", ex.request_id};
        ex.refusal = r;
        co_return co_await send_refusal(state_, stream_, r, route->service, &req, keep_alive, ex);
      }
      InspectionRequest in{route->service, route->schema_path, req[http::field::content_type],
                           req[http::field::content_encoding], req.body()};
      ex.inspection = inspect_for_requester(state_, worker_, origin_, in, ex);
      // Fail closed: a request we could not inspect does not leave.
      if (!ex.inspection) ex.refusal = Refusal{Refusal::Reason::internal_error, {}, {}, "", ex.request_id};
      if (ex.refusal) co_return co_await send_refusal(state_, stream_, *ex.refusal, route->service, &req, keep_alive, ex);
      Inspection& inspection = *ex.inspection;
      if (inspection.outcome == Inspection::Outcome::refuse)
        co_return co_await send_refusal(state_, stream_, *inspection.refusal, route->service, &req, keep_alive, ex);
      headers.emplace_back("X-Promptwall-Decision", std::string(to_string(inspection.decision.verdict)));
      if (inspection.decision.mode == Mode::monitor) headers.emplace_back("X-Promptwall-Mode", "monitor");
      std::string ids;
      for (Action a : {Action::block, Action::redact, Action::warn})
        for (const auto& id : inspection.rules_acting(a)) ids += (ids.empty() ? "" : ", ") + id;
      if (!ids.empty() && inspection.decision.verdict != Verdict::allow) headers.emplace_back("X-Promptwall-Rules", ids);
      if (inspection.outcome == Inspection::Outcome::forward_rewritten) {
        req.body() = std::move(inspection.body);
        body_decoded = true;
      }
    }

    // The request as the upstream sees it.
    Request up{req.method(), route->target, 11};
    for (const auto& field : req) {
      const auto name = field.name_string();
      // The identity headers never go upstream, believed or not.
      if (is_hop_by_hop(name) || state_.identity->is_identity_header(name) || beast::iequals(name, "host") ||
          beast::iequals(name, "expect") ||
          beast::iequals(name, "content-length") || (body_decoded && beast::iequals(name, "content-encoding")))
        continue;
      up.insert(field.name(), name, field.value());
    }
    up.set(http::field::host, route->host.empty() ? host_header(route->upstream) : route->host);
    up.body() = std::move(req.body());
    up.prepare_payload();

    // The request leaves only once its audit event is durable.
    if (route->service) {
      ex.forwarded = true;
      ex.bytes_forwarded = up.body().size();
      if (!co_await write_event_durably(state_, worker_, origin_, ex)) {
        ex.forwarded = false;
        ex.bytes_forwarded = 0;
        Refusal r{Refusal::Reason::audit_unavailable, {}, {}, route->service->name, ex.request_id};
        ex.refusal = r;
        spdlog::error("{} refused: its audit event could not be made durable", ex.request_id);
        co_return co_await send_refusal(state_, stream_, r, route->service, &req, keep_alive, ex);
      }
    }

    // Forward, on a pooled connection when there is one; a pooled connection the upstream has
    // closed meanwhile fails before any response byte, and the request is retried once on a new one.
    const std::string key = target_key(route->upstream);
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::unique_ptr<UpstreamConnection> conn = attempt == 0 ? worker_.pool.take(key) : nullptr;
      const bool reused = conn != nullptr;
      std::string why;
      if (!conn) conn = co_await connect_upstream(state_, route->upstream, why);
      if (!conn) {
        spdlog::warn("{} upstream {} unavailable: {}", ex.request_id, key, why);
        Refusal r{Refusal::Reason::upstream_unavailable, {}, {}, route->service ? route->service->name : "", ex.request_id};
        ex.refusal = r;
        co_return co_await send_refusal(state_, stream_, r, route->service, &req, keep_alive, ex);
      }
      RelayResult result = co_await std::visit(
          [&](auto& upstream) { return relay(state_, stream_, upstream, up, keep_alive, headers, ex); }, conn->stream);
      using F = RelayResult::Failure;
      if (result.failure == F::upstream_before_response && reused) continue;
      if (result.failure == F::upstream_before_response || result.failure == F::upstream_timeout) {
        spdlog::warn("{} upstream {}: {}", ex.request_id, key, result.why);
        Refusal r{result.failure == F::upstream_timeout ? Refusal::Reason::upstream_timeout
                                                        : Refusal::Reason::upstream_unavailable,
                  {}, {}, route->service ? route->service->name : "", ex.request_id};
        ex.refusal = r;
        co_return co_await send_refusal(state_, stream_, r, route->service, &req, keep_alive, ex);
      }
      if (result.failure != F::none) {
        spdlog::info("{} {}", ex.request_id, result.why);
        ex.client_aborted = result.failure == F::client_gone;
        co_return false;
      }
      if (result.upstream_reusable) {
        conn->idle_since = Clock::now();
        worker_.pool.put(std::move(conn));
      }
      co_return result.client_keep_alive;
    }
    co_return false;
  }

  // A WebSocket Upgrade (gateway/server/websocket_relay.h): recorded like a request before it
  // leaves, then the session runs until either side closes; the connection ends with it.
  net::awaitable<bool> serve_websocket(const Route& route, Request& req, Exchange& ex) {
    if (buffer_.size() > 0) {
      // Frames sent before the handshake was answered: not a client we can relay faithfully.
      Refusal r{Refusal::Reason::unsupported_request, {}, {}, "", ex.request_id};
      ex.refusal = r;
      co_return co_await send_refusal(state_, stream_, r, route.service, &req, false, ex);
    }
    if (route.service) {
      ex.forwarded = true;
      if (!co_await write_event_durably(state_, worker_, origin_, ex)) {
        ex.forwarded = false;
        Refusal r{Refusal::Reason::audit_unavailable, {}, {}, route.service->name, ex.request_id};
        ex.refusal = r;
        co_return co_await send_refusal(state_, stream_, r, route.service, &req, false, ex);
      }
    }
    std::string why;
    std::unique_ptr<UpstreamConnection> conn = co_await connect_upstream(state_, route.upstream, why);
    WebSocketOutcome outcome;
    if (conn) {
      const WebSocketTarget target{route.service, route.upstream, route.target, route.schema_path};
      outcome = co_await std::visit(
          [&](auto& upstream) { return relay_websocket(state_, worker_, origin_, stream_, req, upstream, target, ex); },
          conn->stream);
    }
    if (!outcome.upgraded) {
      spdlog::warn("{} WebSocket upstream {} unavailable: {}", ex.request_id, target_key(route.upstream),
                   conn ? outcome.why : why);
      ex.forwarded = false;
      Refusal r{Refusal::Reason::upstream_unavailable, {}, {}, route.service ? route.service->name : "", ex.request_id};
      ex.refusal = r;
      co_return co_await send_refusal(state_, stream_, r, route.service, &req, false, ex);
    }
    co_return false;
  }

  // Which service a request is for, and where it goes.
  std::optional<Route> resolve(const Request& req, std::string& why) const {
    const std::string_view target = req.target();
    Route route;
    switch (origin_.kind) {
      case Origin::Kind::gateway: {
        auto match = state_.catalog.by_prefix(target);
        if (!match || !match->service->upstream) {
          why = "no service at " + std::string(path_only(target));
          return std::nullopt;
        }
        route.service = match->service;
        route.upstream = *match->service->upstream;
        route.schema_path = join_upstream_path("", match->rest);
        route.target = join_upstream_path(route.upstream.base_path, match->rest);
        return route;
      }
      case Origin::Kind::intercepted: {
        route.service = origin_.service;
        if (!route.service->upstream) {
          // Unapproved and nowhere to go: intercepted only to be refused, so the user sees why.
          if (!route.service->approved) return route;
          why = "service " + route.service->name + " has no upstream";
          return std::nullopt;
        }
        // An unapproved service with an upstream goes on only if a scope of the requester allows it
        // (the caller checks ServiceAccess before anything leaves).
        route.upstream = upstream_for_host(*route.service, origin_.host);
        route.schema_path = join_upstream_path("", target);
        route.target = join_upstream_path(route.upstream.base_path, target);
        return route;
      }
      case Origin::Kind::proxy: {
        // Absolute-form: http://host[:port]/path. (https:// arrives as CONNECT.)
        constexpr std::string_view kScheme = "http://";
        if (target.size() < kScheme.size() || !beast::iequals(target.substr(0, kScheme.size()), kScheme)) {
          why = "the proxy needs an absolute http:// request target";
          return std::nullopt;
        }
        std::string_view rest = target.substr(kScheme.size());
        const size_t slash = rest.find_first_of("/?");
        auto authority = parse_authority(rest.substr(0, slash), 80);
        if (!authority) {
          why = "bad host in request target";
          return std::nullopt;
        }
        std::string path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
        if (path.front() == '?') path.insert(0, "/");
        route.service = state_.catalog.by_host(authority->host);
        if (route.service && route.service->inspect && route.service->upstream) {
          route.upstream = upstream_for_host(*route.service, authority->host);
          route.schema_path = path;
          route.target = join_upstream_path(route.upstream.base_path, path);
          return route;
        }
        if (route.service && !route.service->approved) return route;  // refused by the caller
        // Not an AI service: forwarded as it came.
        route.service = nullptr;
        route.upstream = UpstreamTarget{false, authority->host, authority->port, ""};
        route.target = path;
        return route;
      }
      case Origin::Kind::transparent_http:
        return resolve_transparent(req, why);
    }
    return std::nullopt;
  }

  // Plain HTTP the firewall redirected: the client thinks it talks to the site itself, so the target
  // is origin-form and the Host header names the site. Each request is routed by its own Host.
  std::optional<Route> resolve_transparent(const Request& req, std::string& why) const {
    const std::string_view target = req.target();
    if (target.empty() || target.front() != '/') {
      why = "a redirected connection needs an origin-form request target";
      return std::nullopt;
    }
    auto authority = parse_authority(req[http::field::host], origin_.original_port);
    if (!authority) {
      why = "bad or missing Host header on a redirected connection";
      return std::nullopt;
    }
    Route route;
    route.service = state_.catalog.by_host(authority->host);
    if (route.service && route.service->inspect && route.service->upstream) {
      route.upstream = upstream_for_host(*route.service, authority->host);
      route.schema_path = std::string(target);
      route.target = join_upstream_path(route.upstream.base_path, target);
      return route;
    }
    if (route.service && !route.service->approved) return route;  // refused by the caller
    // Not an AI service: on to where the client was going, with the Host it sent.
    route.service = nullptr;
    route.upstream = UpstreamTarget{false, origin_.original_address, origin_.original_port, ""};
    route.target = std::string(target);
    route.host = std::string(req[http::field::host]);
    return route;
  }

  ServerState& state_;
  Worker& worker_;
  Stream& stream_;
  beast::flat_buffer& buffer_;
  Origin origin_;
};

// ---------------------------------------------------------------------------------------------
// CONNECT

net::awaitable<void> pump(beast::tcp_stream& from, beast::tcp_stream& to, std::chrono::milliseconds idle) {
  std::array<char, 16384> data;
  boost::system::error_code ec;
  for (;;) {
    from.expires_after(idle);
    size_t n = co_await from.async_read_some(net::buffer(data), net::redirect_error(use_awaitable, ec));
    if (ec) break;
    to.expires_after(idle);
    co_await net::async_write(to, net::buffer(data.data(), n), net::redirect_error(use_awaitable, ec));
    if (ec) break;
  }
  // Pass the end on: the other direction may still be talking.
  to.socket().shutdown(tcp::socket::shutdown_send, ec);
}

// Copies bytes both ways, untouched, until both sides are done.
net::awaitable<void> tunnel(ServerState& state, beast::tcp_stream client, beast::flat_buffer& buffer,
                            beast::tcp_stream upstream) {
  struct Ends {
    beast::tcp_stream client, upstream;
  };
  auto ends = std::make_shared<Ends>(Ends{std::move(client), std::move(upstream)});
  boost::system::error_code ec;
  if (buffer.size() > 0) {
    co_await net::async_write(ends->upstream, buffer.data(), net::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    buffer.consume(buffer.size());
  }
  const auto idle = std::max(state.config.limits.timeouts.idle, std::chrono::milliseconds(600'000));
  auto executor = co_await net::this_coro::executor;
  net::co_spawn(
      executor, [ends, idle]() -> net::awaitable<void> { co_await pump(ends->upstream, ends->client, idle); },
      net::detached);
  co_await pump(ends->client, ends->upstream, idle);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Interception, shared by CONNECT and the transparent listener (connections.h)

std::shared_ptr<const LeafCertificate> mint_leaf(ServerState& state, const std::string& host,
                                                 const std::string& request_id) {
  try {
    return state.ca->leaf_for(host);
  } catch (const std::exception& e) {
    spdlog::error("{} cannot mint a certificate for {}: {}", request_id, host, e.what());
  }
  return nullptr;
}

std::optional<Inspection> inspect_for_requester(ServerState& state, Worker& worker, const Origin& origin,
                                                InspectionRequest request, const Exchange& ex) {
  const RequesterScopes scopes = state.scopes.for_requester(origin.identity);
  request.scope_layers = scopes.layers;
  request.hidden_packs = scopes.hidden_packs;
  try {
    Scanner& scanner = worker.scanner.for_rules(ex.rules);
    return state.inspector.inspect(request, scanner, state.base_layers, ex.request_id);
  } catch (const std::exception& e) {
    spdlog::error("{} inspection failed: {}", ex.request_id, e.what());
    return std::nullopt;
  }
}

net::awaitable<void> serve_intercepted(ServerState& state, Worker& worker, beast::tcp_stream stream,
                                       beast::flat_buffer& buffer, std::shared_ptr<const LeafCertificate> leaf,
                                       std::string host, Origin inner) {
  boost::system::error_code ec;
  TlsStream tls(std::move(stream), state.intercept_tls);
  SSL* ssl = tls.native_handle();
  if (SSL_use_certificate(ssl, leaf->cert.get()) != 1 || SSL_use_PrivateKey(ssl, leaf->key.get()) != 1 ||
      SSL_add1_chain_cert(ssl, state.ca->certificate()) != 1) {
    spdlog::error("{} cannot use the certificate minted for {}", inner.client, host);
    co_return;
  }
  lowest(tls).expires_after(state.config.limits.timeouts.header);
  // The client's first bytes (its ClientHello) may already be in `buffer`.
  size_t used = co_await tls.async_handshake(ssl::stream_base::server, buffer.data(),
                                             net::redirect_error(use_awaitable, ec));
  if (ec) {
    // Most often the client does not trust the organisation CA.
    spdlog::info("{} TLS interception of {} failed: {} (does the client trust the organisation CA?)", inner.client,
                 host, ec.message());
    state.metrics.refusal("tls_handshake_failed");
    co_return;
  }
  buffer.consume(used);
  ClientSession<TlsStream> session(state, worker, tls, buffer, std::move(inner));
  co_await session.run();
  lowest(tls).expires_after(std::chrono::seconds(2));
  co_await tls.async_shutdown(net::redirect_error(use_awaitable, ec));
}

net::awaitable<void> serve_requests(ServerState& state, Worker& worker, beast::tcp_stream& stream,
                                    beast::flat_buffer& buffer, Origin origin) {
  ClientSession<beast::tcp_stream> session(state, worker, stream, buffer, std::move(origin));
  co_await session.run();  // a CONNECT comes back only on the proxy listener
}

net::awaitable<void> splice(ServerState& state, beast::tcp_stream client, beast::flat_buffer& buffer,
                            beast::tcp_stream upstream) {
  co_await tunnel(state, std::move(client), buffer, std::move(upstream));
}

namespace {

net::awaitable<void> handle_connect(ServerState& state, Worker& worker, beast::tcp_stream stream,
                                    beast::flat_buffer& buffer, Request connect, Origin origin) {
  Exchange ex;
  ex.request_id = state.new_request_id(worker);
  ex.method = "CONNECT";
  ex.path = std::string(connect.target());
  auto authority = parse_authority(connect.target(), 443);
  if (!authority) {
    Refusal r{Refusal::Reason::unsupported_request, {}, {}, "", ex.request_id};
    ex.refusal = r;
    co_await send_refusal(state, stream, r, nullptr, &connect, false, ex);
    finish(state, worker, origin, ex);
    co_return;
  }
  const Service* service = state.catalog.by_host(authority->host);
  ex.service = service;
  ServiceAccess access = service ? state.scopes.access(*service, origin.identity) : ServiceAccess{};
  if (service && !access.allowed) {
    Refusal r = service_refusal(*service, access, ex.request_id);
    ex.refusal = r;
    co_await send_refusal(state, stream, r, service, &connect, false, ex);
    finish(state, worker, origin, ex);
    co_return;
  }
  boost::system::error_code ec;
  static constexpr std::string_view kEstablished = "HTTP/1.1 200 Connection established\r\n\r\n";

  if (!service || !service->inspect) {
    // Not an AI service: a blind tunnel to where the client asked.
    UpstreamTarget t{false, authority->host, authority->port, ""};
    std::string why;
    auto conn = co_await connect_upstream(state, t, why);
    if (!conn) {
      spdlog::info("{} {} CONNECT {}: {}", ex.request_id, origin.client, ex.path, why);
      Refusal r{Refusal::Reason::upstream_unavailable, {}, {}, "", ex.request_id};
      ex.refusal = r;
      co_await send_refusal(state, stream, r, nullptr, &connect, false, ex);
      finish(state, worker, origin, ex);
      co_return;
    }
    co_await net::async_write(stream, net::buffer(kEstablished), net::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    spdlog::debug("{} {} tunnel to {}", ex.request_id, origin.client, ex.path);
    co_await tunnel(state, std::move(stream), buffer, std::move(std::get<beast::tcp_stream>(conn->stream)));
    co_return;
  }

  // An inspected service: intercept, or refuse when we cannot (never tunnel it unseen).
  if (!state.ca) {
    spdlog::warn("{} {} CONNECT {} refused: TLS interception is off ({})", ex.request_id, origin.client, ex.path,
                 state.interception_off);
    Refusal r{Refusal::Reason::unsupported_request, {}, {}, service->name, ex.request_id};
    ex.refusal = r;
    co_await send_refusal(state, stream, r, service, &connect, false, ex);
    finish(state, worker, origin, ex);
    co_return;
  }
  std::shared_ptr<const LeafCertificate> leaf = mint_leaf(state, authority->host, ex.request_id);
  if (!leaf) {
    Refusal r{Refusal::Reason::internal_error, {}, {}, service->name, ex.request_id};
    ex.refusal = r;
    co_await send_refusal(state, stream, r, service, &connect, false, ex);
    finish(state, worker, origin, ex);
    co_return;
  }
  co_await net::async_write(stream, net::buffer(kEstablished), net::redirect_error(use_awaitable, ec));
  if (ec) co_return;

  Origin inner = origin;
  inner.kind = Origin::Kind::intercepted;
  inner.service = service;
  inner.host = authority->host;
  co_await serve_intercepted(state, worker, std::move(stream), buffer, std::move(leaf), authority->host,
                             std::move(inner));
}

}  // namespace

net::awaitable<void> serve_client(ServerState& state, Worker& worker, tcp::socket socket, ListenerKind kind) {
  ConnectionCount counted(state);
  Origin origin;
  origin.kind = kind == ListenerKind::gateway ? Origin::Kind::gateway : Origin::Kind::proxy;
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  origin.client = ec ? "unknown" : remote.address().to_string() + ":" + std::to_string(remote.port());
  if (!ec) {
    origin.address = to_ip_address(remote.address());
    origin.identity = identity_for_address(state, remote.address());
  }
  socket.set_option(tcp::no_delay(true), ec);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;

  if (counted.count() > state.config.limits.max_connections) {
    Exchange ex;
    ex.request_id = state.new_request_id(worker);
    Refusal r{Refusal::Reason::overloaded, {}, {}, "", ex.request_id};
    ex.refusal = r;
    spdlog::warn("{} {} refused: {} open connections (limit {})", ex.request_id, origin.client, counted.count(),
                 state.config.limits.max_connections);
    co_await send_refusal(state, stream, r, nullptr, nullptr, false, ex);
    state.metrics.refusal("overloaded");
    co_return;
  }

  // Errors are handled where they happen (redirect_error); an exception here is a bug, and it
  // must not take the worker down with it.
  try {
    ClientSession<beast::tcp_stream> session(state, worker, stream, buffer, origin);
    std::optional<Request> connect = co_await session.run();
    if (connect)
      co_await handle_connect(state, worker, std::move(stream), buffer, std::move(*connect), session.origin());
  } catch (const std::exception& e) {
    spdlog::error("{} connection failed: {}", origin.client, e.what());
  }
}

}  // namespace promptwall::gateway::server
