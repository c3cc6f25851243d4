// Internal to gateway/server/: the PROXY protocol header at the start of a connection from a load
// balancer (`listen.proxy_protocol`, gateway/identity/proxy_header.h), read before anything else.
//
// read_client_address() decides who the connection's client is:
//   - the listener does not take PROXY headers, or the socket's peer is not in
//     `listen.proxy_protocol.from`: the peer itself; nothing is read (a header such a client
//     sends is its request's first bytes, and the request parser refuses it: never believed);
//   - else the connection must open with a valid header within limits.timeouts.header: PROXY
//     names the client (its address and port); LOCAL (the balancer's own health check) leaves
//     the peer. Anything else (no header, a broken one, a timeout, the peer closing) returns
//     nullopt: the caller closes the connection (fail closed), and it is logged and counted in
//     /metrics (refusals_total{reason="proxy_header_missing|proxy_header_invalid"}).
// The bytes after the header stay in `buffer`, the client's own, for the request reader.
// Threads: runs on the connection's worker, like the session that awaits it.
#pragma once

#include <optional>
#include <string_view>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "gateway/server/server_state.h"

namespace promptwall::gateway::server {

// Whether `listener` ("gateway", "proxy", "transparent", "admin") takes PROXY headers from `peer`.
bool expects_proxy_header(const GatewayConfig& config, std::string_view listener, const net::ip::address& peer);

net::awaitable<std::optional<net::ip::tcp::endpoint>> read_client_address(ServerState& state, beast::tcp_stream& stream,
                                                                          beast::flat_buffer& buffer,
                                                                          const net::ip::tcp::endpoint& peer,
                                                                          std::string_view listener);

}  // namespace promptwall::gateway::server
