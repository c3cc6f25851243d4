#include "gateway/server/proxy_header_reader.h"

#include <algorithm>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "gateway/identity/proxy_header.h"
#include "gateway/identity/requester_identity.h"

namespace promptwall::gateway::server {

namespace {

using tcp = net::ip::tcp;

net::ip::address to_asio(const IpAddress& a) {
  if (a.is_v4()) return net::ip::address_v4({a.bytes[12], a.bytes[13], a.bytes[14], a.bytes[15]});
  net::ip::address_v6::bytes_type bytes;
  std::copy(a.bytes.begin(), a.bytes.end(), bytes.begin());
  return net::ip::address_v6(bytes);
}

}  // namespace

bool expects_proxy_header(const GatewayConfig& config, std::string_view listener, const net::ip::address& peer) {
  const ProxyProtocolConfig& pp = config.proxy_protocol;
  const bool on = listener == "gateway" ? pp.gateway : listener == "proxy" ? pp.proxy
                : listener == "transparent" ? pp.transparent : listener == "admin" && pp.admin;
  if (!on) return false;
  const IpAddress address = to_ip_address(peer);
  return std::any_of(pp.from.begin(), pp.from.end(), [&](const IpNetwork& n) { return n.contains(address); });
}

net::awaitable<std::optional<tcp::endpoint>> read_client_address(ServerState& state, beast::tcp_stream& stream,
                                                                 beast::flat_buffer& buffer, const tcp::endpoint& peer,
                                                                 std::string_view listener) {
  if (!expects_proxy_header(state.config, listener, peer.address())) co_return peer;
  stream.expires_after(state.config.limits.timeouts.header);
  for (;;) {
    const auto data = buffer.data();
    const ProxyHeaderScan scan =
        scan_proxy_header(std::string_view(static_cast<const char*>(data.data()), data.size()));
    if (scan.status == ProxyHeaderScan::Status::complete) {
      buffer.consume(scan.length);
      if (scan.header.command == ProxyHeader::Command::local) co_return peer;
      co_return tcp::endpoint(to_asio(scan.header.source), scan.header.source_port);
    }
    if (scan.status == ProxyHeaderScan::Status::invalid) {
      spdlog::warn("{}:{} on the {} listener: {}; connection closed (listen.proxy_protocol: this address must "
                   "send a PROXY header)",
                   peer.address().to_string(), peer.port(), listener, scan.why);
      state.metrics.refusal("proxy_header_invalid");
      co_return std::nullopt;
    }
    boost::system::error_code ec;
    const size_t room = std::min<size_t>(kMaxProxyHeaderBytes - std::min(kMaxProxyHeaderBytes, buffer.size()), 1024);
    const size_t n = co_await stream.async_read_some(buffer.prepare(std::max<size_t>(room, 1)),
                                                     net::redirect_error(net::use_awaitable, ec));
    buffer.commit(n);
    if (ec) {
      // A balancer's TCP check opens and closes without a byte: not worth a warning.
      if (buffer.size() > 0 || ec == beast::error::timeout)
        spdlog::warn("{}:{} on the {} listener: no complete PROXY header ({}); connection closed",
                     peer.address().to_string(), peer.port(), listener,
                     ec == beast::error::timeout ? "not within the header timeout" : ec.message());
      state.metrics.refusal("proxy_header_missing");
      co_return std::nullopt;
    }
  }
}

}  // namespace promptwall::gateway::server
