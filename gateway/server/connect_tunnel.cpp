// CONNECT on the forward proxy: a blind tunnel to a host that is not an AI service, TLS
// interception for a host of an inspected service (the request loop of client_session.cpp then
// runs inside the TLS), a refusal for an unapproved one or when interception is off. Never a
// tunnel to an AI host: what cannot be inspected is refused.
//
// Before anything is connected, in this order:
//   1. the target parses (catalog/host_name.h: every IPv4 spelling is its one address);
//   2. SSRF: loopback, link-local, unspecified, our own listeners, forbidden_networks
//      (catalog/destination_guard.h) → forbidden_destination;
//   3. the catalog: an AI host is intercepted or refused;
//   4. a literal IP address an AI service's host resolves to (catalog/ai_address_map.h) →
//      uninspectable_connection, unless destinations.ai_addresses is tunnel;
//   5. a tunnel: the name is resolved here, each address judged by the guard again, and only the
//      addresses that passed are connected to (no second lookup a DNS answer could change).
// Every refusal is an exchange with its reason: the audit trail and /metrics record it.
#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <spdlog/spdlog.h>

#include "gateway/catalog/host_name.h"
#include "gateway/server/connections.h"
#include "gateway/server/refusal_writer.h"
#include "gateway/server/upstream_relay.h"

namespace promptwall::gateway::server {

using tcp = net::ip::tcp;
using net::use_awaitable;
using upstream::connect_upstream;

namespace {

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

// Answers a CONNECT that goes no further and ends its exchange; the connection then closes.
net::awaitable<void> refuse_connect(ServerState& state, Worker& worker, beast::tcp_stream& stream,
                                    const Request& connect, const Origin& origin, Exchange& ex,
                                    const Refusal& refusal, const Service* service) {
  ex.refusal = refusal;
  co_await send_refusal(state, stream, refusal, service, &connect, false, ex);
  finish(state, worker, origin, ex);
}

}  // namespace

// connections.h
const Service* ai_service_at(const ServerState& state, const HostName& host, bool& unknown) {
  unknown = false;
  if (!host.is_ip_literal() || !state.config.destinations.refuse_ai_addresses) return nullptr;
  const std::optional<IpAddress> address = IpAddress::parse(host.text);
  const std::shared_ptr<const AiAddressMap> map = state.ai_addresses.load();
  if (!address) return nullptr;
  if (!map) {
    unknown = true;
    return nullptr;
  }
  return map->service_at(*address);
}

std::shared_ptr<const LeafCertificate> mint_leaf(ServerState& state, const std::string& host,
                                                 const std::string& request_id) {
  try {
    return state.ca->leaf_for(host);
  } catch (const std::exception& e) {
    spdlog::error("{} cannot mint a certificate for {}: {}", request_id, host, e.what());
  }
  return nullptr;
}

net::awaitable<void> splice(ServerState& state, beast::tcp_stream client, beast::flat_buffer& buffer,
                            beast::tcp_stream upstream) {
  co_await tunnel(state, std::move(client), buffer, std::move(upstream));
}

net::awaitable<void> handle_connect(ServerState& state, Worker& worker, beast::tcp_stream stream,
                                    beast::flat_buffer& buffer, Request connect, Origin origin) {
  Exchange ex;
  ex.request_id = state.new_request_id(worker);
  ex.method = "CONNECT";
  ex.path = std::string(connect.target());
  // The CONNECT target names the host as every host is read (catalog/host_name.h); garbage and
  // userinfo are refused, never tunnelled as "not an AI host".
  const std::optional<Authority> authority = parse_authority(connect.target(), 443);
  if (!authority) {
    const Refusal r = Refusal::because(Refusal::Reason::unsupported_request, ex.request_id);
    co_await refuse_connect(state, worker, stream, connect, origin, ex, r, nullptr);
    co_return;
  }
  if (auto reason = state.destinations.forbidden_host(authority->host, authority->port)) {
    spdlog::warn("{} {} CONNECT {} refused: {}", ex.request_id, origin.client, ex.path, *reason);
    const Refusal r = Refusal::because(Refusal::Reason::forbidden_destination, ex.request_id);
    co_await refuse_connect(state, worker, stream, connect, origin, ex, r, nullptr);
    co_return;
  }
  const Service* service = state.catalog.by_host(authority->host);
  ex.service = service;
  if (!service) {
    bool unknown = false;
    if (const Service* owner = ai_service_at(state, authority->host, unknown); owner || unknown) {
      spdlog::warn("{} {} CONNECT {} refused: {} (a connection to an address names no host to inspect it as)",
                   ex.request_id, origin.client, ex.path,
                   owner ? "the address of AI service " + owner->name : "AI service addresses not resolved yet");
      ex.service = owner;
      const Refusal r =
          Refusal::because(Refusal::Reason::uninspectable_connection, ex.request_id, owner ? owner->name : "");
      co_await refuse_connect(state, worker, stream, connect, origin, ex, r, nullptr);
      co_return;
    }
  }
  ServiceAccess access = service ? state.scopes.access(*service, origin.identity) : ServiceAccess{};
  if (service && !access.allowed) {
    const Refusal r = service_refusal(*service, access, ex.request_id);
    co_await refuse_connect(state, worker, stream, connect, origin, ex, r, service);
    co_return;
  }
  boost::system::error_code ec;
  static constexpr std::string_view kEstablished = "HTTP/1.1 200 Connection established\r\n\r\n";

  if (!service || !service->inspect) {
    // Not an AI service: a blind tunnel to where the client asked.
    std::string why;
    bool forbidden = false;
    const UpstreamTarget target{false, authority->host.text, authority->port, ""};
    auto conn = co_await connect_upstream(state, target, why, &state.destinations, &forbidden);
    if (!conn) {
      if (forbidden) spdlog::warn("{} {} CONNECT {} refused: {}", ex.request_id, origin.client, ex.path, why);
      else spdlog::info("{} {} CONNECT {}: {}", ex.request_id, origin.client, ex.path, why);
      const Refusal r = Refusal::because(
          forbidden ? Refusal::Reason::forbidden_destination : Refusal::Reason::upstream_unavailable, ex.request_id);
      co_await refuse_connect(state, worker, stream, connect, origin, ex, r, nullptr);
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
    const Refusal r = Refusal::because(Refusal::Reason::unsupported_request, ex.request_id, service->name);
    co_await refuse_connect(state, worker, stream, connect, origin, ex, r, service);
    co_return;
  }
  std::shared_ptr<const LeafCertificate> leaf = mint_leaf(state, authority->host.text, ex.request_id);
  if (!leaf) {
    const Refusal r = Refusal::because(Refusal::Reason::internal_error, ex.request_id, service->name);
    co_await refuse_connect(state, worker, stream, connect, origin, ex, r, service);
    co_return;
  }
  co_await net::async_write(stream, net::buffer(kEstablished), net::redirect_error(use_awaitable, ec));
  if (ec) co_return;

  Origin inner = origin;
  inner.kind = Origin::Kind::intercepted;
  inner.service = service;
  inner.host = authority->host.text;
  co_await serve_intercepted(state, worker, std::move(stream), buffer, std::move(leaf), authority->host.text,
                             std::move(inner));
}

}  // namespace promptwall::gateway::server
