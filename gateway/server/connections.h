// Internal to gateway/server/: the coroutines that serve one accepted connection.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "gateway/record/exchange.h"
#include "gateway/server/server_state.h"

namespace promptwall::gateway::server {

enum class ListenerKind { gateway, proxy, transparent };

// Serves a client connection of the base-URL gateway or the forward proxy until it closes:
// keep-alive requests, CONNECT tunnels and TLS interception included.
net::awaitable<void> serve_client(ServerState& state, Worker& worker, net::ip::tcp::socket socket, ListenerKind kind);

// Counts a client connection for its whole life, for limits.max_connections and the gauge.
class ConnectionCount {
 public:
  explicit ConnectionCount(ServerState& state) : state_(state) {
    count_ = state_.open_connections.fetch_add(1) + 1;
    state_.metrics.connection_opened();
  }
  ~ConnectionCount() {
    state_.open_connections.fetch_sub(1);
    state_.metrics.connection_closed();
  }
  ConnectionCount(const ConnectionCount&) = delete;
  ConnectionCount& operator=(const ConnectionCount&) = delete;
  size_t count() const { return count_; }

 private:
  ServerState& state_;
  size_t count_;
};

// What every connection of the transparent listener needs to know about it.
struct TransparentListener {
  bool tproxy = false;              // TPROXY (local address = original destination) or REDIRECT
  std::vector<uint16_t> own_ports;  // every port the gateway listens on: the loop guard's list
};

// Serves a connection the firewall redirected to the transparent listener (transparent_session.cpp):
// reads its first bytes, then intercepts it (TLS to an AI service), runs the request loop on it
// (plain HTTP to an AI service), or splices it untouched to its original destination.
net::awaitable<void> serve_transparent(ServerState& state, Worker& worker, net::ip::tcp::socket socket,
                                       const TransparentListener& listener);

// Pieces of client_session.cpp that the forward proxy's CONNECT and the transparent listener share.
//
// A leaf certificate for `host` from the organisation CA (state.ca must be set); null, logged,
// when it cannot be made.
std::shared_ptr<const LeafCertificate> mint_leaf(ServerState& state, const std::string& host,
                                                 const std::string& request_id);
// The AI service whose host resolves to `host`, a literal IP address, while
// destinations.ai_addresses refuses such connections (a connection to an address names no host to
// inspect it as); `unknown` is set when the addresses have not been resolved yet (refused too: we
// cannot tell). Null for a name, or an address no AI host resolves to.
const Service* ai_service_at(const ServerState& state, const HostName& host, bool& unknown);

// TLS interception: terminates TLS on `stream` with `leaf` (the handshake starts with whatever
// `buffer` holds already, such as a peeked ClientHello) and serves the requests inside with the
// request loop of `inner` (kind intercepted, its service set).
net::awaitable<void> serve_intercepted(ServerState& state, Worker& worker, beast::tcp_stream stream,
                                       beast::flat_buffer& buffer, std::shared_ptr<const LeafCertificate> leaf,
                                       std::string host, Origin inner);
// The request loop over a plain connection whose first bytes may already be in `buffer`.
net::awaitable<void> serve_requests(ServerState& state, Worker& worker, beast::tcp_stream& stream,
                                    beast::flat_buffer& buffer, Origin origin);
// A CONNECT on the proxy listener (connect_tunnel.cpp): a blind tunnel, TLS interception, or a
// refusal; `origin` is the proxy connection's, with the CONNECT's requester.
net::awaitable<void> handle_connect(ServerState& state, Worker& worker, beast::tcp_stream stream,
                                    beast::flat_buffer& buffer, beast::http::request<beast::http::string_body> connect, Origin origin);
// Copies bytes both ways untouched, `buffer`'s first, until both sides are done.
net::awaitable<void> splice(ServerState& state, beast::tcp_stream client, beast::flat_buffer& buffer,
                            beast::tcp_stream upstream);

// Reloads the rules off the hot path and swaps them in when they pass; returns what happened.
using ReloadFunction = std::function<net::awaitable<RuleLoad>()>;

// Answers one request of the officers' review page (audit::ReviewSite) off the admin listener's
// thread: SQLite and password hashing block. By reference, alive in the caller's frame until the
// await ends: moving it into the pool coroutine's lambda capture freed it twice under GCC 12.
using ReviewFunction = std::function<net::awaitable<audit::ReviewResponse>(const audit::ReviewRequest&)>;

// Serves an admin connection: /healthz, /readyz, /metrics, /rules, POST /reload, and /review/...
// (the officers' page: its own sign-in, never the bearer token).
net::awaitable<void> serve_admin(ServerState& state, net::ip::tcp::socket socket, ReloadFunction reload,
                                 ReviewFunction review);

}  // namespace promptwall::gateway::server
