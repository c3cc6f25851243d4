// One connection of the transparent listener: a client that believes it talks to a web site, whose
// TCP 80/443 the firewall redirected (REDIRECT or TPROXY) to us.
//
//   original destination (SO_ORIGINAL_DST or the TPROXY socket's local address) ─► loop guard
//   ─► first bytes, kept (limits.max_header_bytes, the header timeout)
//        TLS ClientHello ─► SNI (ClientHelloReader)      plain HTTP ─► Host (read_http_head)
//   ─► route_transparent(): AI service ─► interception as for CONNECT, or the request loop
//                           TLS naming no host (no SNI, or ECH) to an AI service's address
//                             (AiAddressMap) ─► refused (uninspectable_connection)
//                           anything else ─► spliced untouched to the original destination
//
// Nothing an AI service receives is left unseen: a ClientHello naming an AI service is intercepted
// or the connection closed, never spliced; one naming none is judged by where it goes; a
// connection that cannot be judged is closed.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it
#include <algorithm>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <spdlog/spdlog.h>

#include "gateway/catalog/transparent_route.h"
#include "gateway/identity/requester_identity.h"
#include "gateway/record/exchange.h"
#include "gateway/server/audit_events.h"
#include "gateway/server/connections.h"
#include "gateway/server/proxy_header_reader.h"
#include "gateway/server/http_head_reader.h"
#include "gateway/server/original_destination.h"
#include "gateway/server/upstream_relay.h"

namespace promptwall::gateway::server {

using tcp = net::ip::tcp;
using net::use_awaitable;

namespace {

// What the first bytes turned out to be.
struct FirstBytes {
  enum class Kind { tls, http, http_too_large, http_malformed, other, none } kind = Kind::none;
  std::string host;  // SNI or Host; may be empty
  bool host_hidden = false;  // TLS with ECH: `host` is only the outer, public name
  std::string why;   // none: why nothing could be judged
};

// Reads until the first bytes say what the connection is, keeping every byte in `buffer`. Stops at
// limits.max_header_bytes and after the header timeout, counted from the first read.
net::awaitable<FirstBytes> read_first_bytes(ServerState& state, beast::tcp_stream& stream, beast::flat_buffer& buffer) {
  const size_t limit = state.config.limits.max_header_bytes;
  stream.expires_after(state.config.limits.timeouts.header);
  FirstBytes out;
  for (;;) {
    const std::string_view bytes(static_cast<const char*>(buffer.data().data()), buffer.size());
    if (!bytes.empty() && static_cast<unsigned char>(bytes.front()) == 0x16) {
      ClientHelloRead hello = state.client_hellos.read(bytes);
      if (hello.status == ClientHelloRead::Status::client_hello && hello.server_name_invalid) {
        out.why = "its ClientHello names a server that is not a valid host name";  // closed, never spliced
        co_return out;
      }
      if (hello.status == ClientHelloRead::Status::client_hello) {
        out.kind = FirstBytes::Kind::tls;
        out.host = std::move(hello.server_name);
        out.host_hidden = hello.encrypted_client_hello;
        co_return out;
      }
      if (hello.status == ClientHelloRead::Status::not_tls) {
        out.kind = FirstBytes::Kind::other;
        co_return out;
      }
    } else if (!bytes.empty()) {
      HttpHeadRead head = read_http_head(bytes, limit);
      if (head.status == HttpHeadRead::Status::head && head.host_invalid) {
        out.why = "its Host header is not a valid host";  // closed, never spliced
        co_return out;
      }
      if (head.status == HttpHeadRead::Status::head && head.framing != FramingViolation::none) {
        out.kind = FirstBytes::Kind::http_malformed;  // refused by the request loop, never spliced
        co_return out;
      }
      if (head.status == HttpHeadRead::Status::head) {
        out.kind = FirstBytes::Kind::http;
        out.host = std::move(head.host);
        co_return out;
      }
      if (head.status == HttpHeadRead::Status::too_large) {
        out.kind = FirstBytes::Kind::http_too_large;
        co_return out;
      }
      if (head.status == HttpHeadRead::Status::not_http) {
        out.kind = FirstBytes::Kind::other;
        co_return out;
      }
    }
    if (buffer.size() >= limit) {
      out.why = "a TLS ClientHello larger than limits.max_header_bytes";
      co_return out;
    }
    boost::system::error_code ec;
    const size_t n = co_await stream.async_read_some(buffer.prepare(std::min<size_t>(limit - buffer.size(), 4096)),
                                                     net::redirect_error(use_awaitable, ec));
    buffer.commit(n);
    if (ec) {
      out.why = ec == beast::error::timeout ? "nothing to judge it by within the header timeout"
                                            : "the client closed before saying what it wants: " + ec.message();
      co_return out;
    }
  }
}

// The one place the Origin of a transparent connection is built. Redirected clients never send
// Proxy-Authorization (they do not know there is a proxy), so who they are comes from the address
// (identity.units) here, and for plain HTTP also from trusted identity headers per request.
Origin transparent_origin(const ServerState& state, const tcp::endpoint& client,
                          const OriginalDestination& destination) {
  Origin origin;
  origin.kind = Origin::Kind::transparent_http;
  origin.client = client.address().to_string() + ":" + std::to_string(client.port());
  origin.address = to_ip_address(client.address());
  origin.identity = identity_for_address(state, client.address());
  origin.original_address = destination.address();
  origin.original_port = destination.port();
  return origin;
}

// A connection refused before any request: logged, counted, and recorded in the audit trail.
void refuse(ServerState& state, Worker& worker, const Origin& origin, const Service* service, std::string path,
            std::string_view why, Refusal::Reason reason = Refusal::Reason::unsupported_request) {
  Exchange ex;
  ex.request_id = state.new_request_id(worker);
  ex.method = "TRANSPARENT";
  ex.path = std::move(path);
  ex.service = service;
  ex.refusal = Refusal::because(reason, ex.request_id, service ? service->name : "");
  spdlog::warn("{} {} transparent connection to {} refused: {}", ex.request_id, origin.client, ex.path, why);
  state.metrics.transparent_connection("refused");
  write_event(state, worker, origin, ex);
  record(state.metrics, origin, ex);
}

// What the first bytes say decides where the connection goes: TLS to an AI host is intercepted
// (or closed without a CA), plain HTTP to one runs the request loop, the rest is spliced to where
// it was going.
net::awaitable<void> judge_and_serve(ServerState& state, Worker& worker, beast::tcp_stream& stream,
                                     beast::flat_buffer& buffer, const Origin& origin,
                                     const OriginalDestination& destination) {
  std::string why;
  FirstBytes first = co_await read_first_bytes(state, stream, buffer);
  if (first.kind == FirstBytes::Kind::none) {
    // Preconnected sockets that never speak are common; a connection that said something we could
    // not judge is worth a line.
    spdlog::log(buffer.size() > 0 ? spdlog::level::info : spdlog::level::debug, "{} transparent connection to {} closed: {}",
                origin.client, destination.to_string(), first.why);
    state.metrics.transparent_connection("unclassified");
    co_return;
  }
  using Action = TransparentRoute::Action;
  TransparentRoute route{Action::splice, nullptr};
  // TLS that names no host is judged by its address: an AI service's is refused (when the
  // addresses are not resolved yet, every unnamed TLS connection is: we cannot tell).
  const bool unnamed = first.kind == FirstBytes::Kind::tls && (first.host.empty() || first.host_hidden);
  const std::shared_ptr<const AiAddressMap> ai_addresses = state.ai_addresses.load();
  const Service* address_owner = nullptr;
  bool addresses_unknown = false;
  if (unnamed && state.config.destinations.refuse_ai_addresses) {
    const auto address = IpAddress::parse(destination.address());
    if (address && ai_addresses) address_owner = ai_addresses->service_at(*address);
    addresses_unknown = !ai_addresses;
  }
  if (first.kind == FirstBytes::Kind::tls)
    route = route_transparent(state.catalog, TransparentRoute::Protocol::tls,
                              TransparentTarget{first.host, first.host_hidden, address_owner}, state.ca != nullptr,
                              state.config.destinations.refuse_ai_addresses);
  else if (first.kind == FirstBytes::Kind::http)
    route = route_transparent(state.catalog, TransparentRoute::Protocol::http, first.host, state.ca != nullptr);
  if (first.kind == FirstBytes::Kind::http_too_large || first.kind == FirstBytes::Kind::http_malformed) {
    // Its Host cannot be known within the limit, or the site might read the head otherwise than we
    // do (request_framing.h): the request loop refuses it (431, 400) in HTTP terms.
    state.metrics.transparent_connection("refused");
    co_await serve_requests(state, worker, stream, buffer, origin);
    co_return;
  }

  if (route.action == Action::splice && unnamed && addresses_unknown) {
    refuse(state, worker, origin, nullptr, destination.to_string(),
           "TLS naming no host, and the AI services' addresses are not resolved yet",
           Refusal::Reason::uninspectable_connection);
    co_return;
  }
  switch (route.action) {
    case Action::refuse:
      refuse(state, worker, origin, route.service, destination.to_string(),
             std::string(first.host_hidden ? "TLS hiding its host (Encrypted Client Hello)" : "TLS naming no host (no SNI)") +
                 " to an address of AI service " + route.service->name + ": it cannot be inspected",
             Refusal::Reason::uninspectable_connection);
      co_return;
    case Action::splice: {
      UpstreamTarget target{false, destination.address(), destination.port(), ""};
      auto connection = co_await upstream::connect_upstream(state, target, why);
      if (!connection) {
        spdlog::info("{} transparent connection to {}: {}", origin.client, destination.to_string(), why);
        state.metrics.transparent_connection("spliced");
        co_return;
      }
      spdlog::debug("{} spliced to {} ({})", origin.client, destination.to_string(),
                    first.host.empty() ? "no host named" : first.host);
      state.metrics.transparent_connection("spliced");
      co_await splice(state, std::move(stream), buffer, std::move(std::get<beast::tcp_stream>(connection->stream)));
      co_return;
    }
    case Action::inspect_http:
      state.metrics.transparent_connection("intercepted");
      co_await serve_requests(state, worker, stream, buffer, origin);
      co_return;
    case Action::close:
      refuse(state, worker, origin, route.service, first.host,
             "TLS to an AI service and interception is off (" + state.interception_off + ")");
      co_return;
    case Action::intercept: {
      auto leaf = mint_leaf(state, first.host, origin.client);
      if (!leaf) {
        refuse(state, worker, origin, route.service, first.host, "no certificate could be made for it");
        co_return;
      }
      state.metrics.transparent_connection("intercepted");
      Origin inner = origin;
      inner.kind = Origin::Kind::intercepted;
      inner.service = route.service;
      inner.host = first.host;
      co_await serve_intercepted(state, worker, std::move(stream), buffer, std::move(leaf), first.host, std::move(inner));
      co_return;
    }
  }
}

}  // namespace

net::awaitable<void> serve_transparent(ServerState& state, Worker& worker, tcp::socket socket,
                                       const TransparentListener& listener) {
  ConnectionCount counted(state);
  boost::system::error_code ec;
  tcp::endpoint client = socket.remote_endpoint(ec);
  if (ec) co_return;  // gone already
  const int handle = socket.native_handle();
  socket.set_option(tcp::no_delay(true), ec);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  // Behind a load balancer (listen.proxy_protocol), the client its PROXY header names. Where the
  // connection was going still comes from this socket (SO_ORIGINAL_DST or TPROXY's local address),
  // never from the header: a balancer in front of this listener makes that the gateway itself, and
  // the loop guard below refuses it (docs/deployment.md: not a supported layout).
  if (auto named = co_await read_client_address(state, stream, buffer, client, "transparent")) client = *named;
  else co_return;
  std::string why;
  auto destination = OriginalDestination::lookup(handle, listener.tproxy, &why);
  if (!destination) {
    // Fail closed: with nowhere known to send it, the connection goes nowhere.
    Origin unknown = transparent_origin(state, client, OriginalDestination("", 0));
    refuse(state, worker, unknown, nullptr, "unknown", why);
    co_return;
  }
  Origin origin = transparent_origin(state, client, *destination);
  if (destination->is_gateway_itself(listener.own_ports)) {
    refuse(state, worker, origin, nullptr, destination->to_string(),
           "loop guard: it was addressed to the gateway itself (connect to listen.proxy, not the transparent port)");
    co_return;
  }
  if (counted.count() > state.config.limits.max_connections) {
    spdlog::warn("{} refused: {} open connections (limit {})", origin.client, counted.count(),
                 state.config.limits.max_connections);
    state.metrics.refusal("overloaded");
    state.metrics.transparent_connection("refused");
    co_return;
  }
  // Errors are handled where they happen; an exception here is a bug, and it must not take the
  // worker down with it.
  try {
    co_await judge_and_serve(state, worker, stream, buffer, origin, *destination);
  } catch (const std::exception& e) {
    spdlog::error("{} transparent connection failed: {}", origin.client, e.what());
  }
}

}  // namespace promptwall::gateway::server
