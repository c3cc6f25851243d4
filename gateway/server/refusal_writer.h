// Internal to gateway/server/: how a refusal reaches an HTTP client, and how an exchange ends.
// Shared by the request loop (client_session.cpp) and CONNECT (connect_tunnel.cpp); the WebSocket
// relay answers its refusals with a close frame instead (websocket_relay.cpp).
//
// Invariant: the response carries only what render_refusal() made of the Refusal (ids, never
// request content; a coaching answer's masked excerpts, as the audit trail holds them) and the
// X-Promptwall-* headers; nothing of the request is echoed.
// Threads: the connection's worker.
#pragma once

#include <string>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include "gateway/record/exchange.h"
#include "gateway/server/audit_events.h"
#include "gateway/server/server_state.h"
#include "gateway/server/upstream_relay.h"

namespace promptwall::gateway::server {

namespace http = beast::http;
using Request = http::request<http::string_body>;

// Answers `refusal` in the API shape of `service` (plain JSON when null), or as an HTML page when
// `request` prefers one; records the status and bytes on `ex`. Returns whether the connection
// stays open (keep_alive and the write succeeded).
template <class Stream>
net::awaitable<bool> send_refusal(ServerState& state, Stream& stream, const Refusal& refusal, const Service* service,
                                  const Request* request, bool keep_alive, Exchange& ex) {
  const bool html = request && prefers_html(std::string_view((*request)[http::field::accept]));
  RefusalResponse rr = render_refusal(service ? service->schema : Schema::json, html, refusal);
  http::response<http::string_body> res{static_cast<http::status>(rr.status), request ? request->version() : 11};
  res.set(http::field::content_type, rr.content_type);
  res.set(http::field::cache_control, "no-store");
  res.set("X-Promptwall-Request-Id", ex.request_id);
  // A coaching answer is the decision warn or justify (Exchange::verdict()), not a refusal.
  const bool coached = refusal.reason == Refusal::Reason::justification_required ||
                       refusal.reason == Refusal::Reason::override_cap_reached;
  res.set("X-Promptwall-Decision",
          coached ? ex.verdict() : refusal.reason == Refusal::Reason::sensitive_content ? "block" : "refused");
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
  upstream::lowest(stream).expires_after(state.config.limits.timeouts.idle);
  boost::system::error_code ec;
  co_await http::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
  co_return !ec && keep_alive;
}

// A refusal of a service the requester may not use: not approved, or denied by one of their scopes.
inline Refusal service_refusal(const Service& service, const ServiceAccess& access, const std::string& request_id) {
  return Refusal::unapproved(service.name, request_id, access.scope_kind, access.scope_name);
}

// The end of an exchange: its audit event when it was not written before forwarding (refusals),
// then metrics and the log line.
inline void finish(ServerState& state, Worker& worker, const Origin& origin, Exchange& ex) {
  write_event(state, worker, origin, ex);
  record(state.metrics, origin, ex);
}

}  // namespace promptwall::gateway::server
