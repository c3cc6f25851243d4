// Internal to gateway/server/: a WebSocket session of an inspected (or known, uninspected)
// service, relayed between the client and the upstream with Beast's websocket.
//
//   client Upgrade request ─► upstream handshake (same path, subprotocols, cookies, origin ...)
//   ─► the client's handshake answered with the upstream's chosen subprotocol
//   ─► frames relayed both ways as they arrive:
//        upstream → client: as they come (text stays text, binary stays binary); once a client
//          message carried pseudonyms, each text message with those labels restored, whole
//          (gateway/pseudonyms/)
//        client → upstream, inspected service: each TEXT message is one exchange (its own request
//          id and DecisionEvent) inspected with the service's schema; forwarded as is or redacted
//          once its event is durable; a message to block, a BINARY message (it cannot be read) or
//          one whose event cannot be made durable is never forwarded: the client's WebSocket is
//          closed with 1008 and a short bilingual reason (websocket_close_reason), the upstream's
//          with 1000.
//
// Invariants: nothing a client sends reaches the upstream unscanned or unrecorded on an inspected
// service; the session ends when either side closes (each close is passed on).
#pragma once

#include <string>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "gateway/record/exchange.h"
#include "gateway/server/server_state.h"

namespace promptwall::gateway::server {

// Where the session goes: the route of its Upgrade request.
struct WebSocketTarget {
  const Service* service = nullptr;  // null or not inspected: relayed untouched
  UpstreamTarget upstream;
  std::string target;       // request-target sent upstream
  std::string schema_path;  // the path the schema sees
};

struct WebSocketOutcome {
  bool upgraded = false;  // false: the upstream refused or failed the handshake (nothing was sent to the client)
  std::string why;        // English, for the log
};

// Whether a request asks to become a WebSocket (RFC 6455 §4.1: GET, Upgrade: websocket,
// Connection: upgrade).
bool is_websocket_upgrade(const boost::beast::http::request<boost::beast::http::string_body>& request);

// Runs the whole session on an upstream connection already made. `ex` is the Upgrade request's
// exchange (its status becomes 101). ClientStream and UpstreamStream are beast::tcp_stream or
// TlsStream (instantiated in websocket_relay.cpp).
template <class ClientStream, class UpstreamStream>
net::awaitable<WebSocketOutcome> relay_websocket(ServerState& state, Worker& worker, const Origin& origin,
                                                 ClientStream& client,
                                                 boost::beast::http::request<boost::beast::http::string_body>& upgrade,
                                                 UpstreamStream& upstream, const WebSocketTarget& target, Exchange& ex);

}  // namespace promptwall::gateway::server
