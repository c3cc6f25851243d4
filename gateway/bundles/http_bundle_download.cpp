#include "gateway/bundles/http_bundle_download.h"

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace promptwall::gateway {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using net::use_awaitable;

constexpr std::chrono::seconds kStepLimit{30};

class HttpBundleDownload final : public BundleDownload {
 public:
  HttpBundleDownload(const RulesBundleConfig& config, const std::filesystem::path& upstream_ca, uint64_t max_bytes)
      : url_(config.url), target_(*config.target), max_bytes_(max_bytes) {
    tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    SSL_CTX_set_min_proto_version(tls_.native_handle(), TLS1_2_VERSION);
    tls_.set_default_verify_paths();
    if (!upstream_ca.empty()) {
      boost::system::error_code ec;
      tls_.load_verify_file(upstream_ca.string(), ec);
      if (ec) throw std::runtime_error("tls.upstream_ca " + upstream_ca.string() + ": " + ec.message());
    }
    tls_.set_verify_mode(ssl::verify_peer);
  }

  std::string where() const override { return url_; }

  Result fetch() override {
    net::io_context ioc{1};
    Result result;
    net::co_spawn(ioc, get(result), [&result](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        result = Result{Result::Kind::failed, {}, x.what()};
      }
    });
    ioc.run();
    return result;
  }

 private:
  // Fills `out`; errors as Kind::failed with the step that failed.
  net::awaitable<void> get(Result& out) {
    auto fail = [&out](std::string why) { out = Result{Result::Kind::failed, {}, std::move(why)}; };
    auto executor = co_await net::this_coro::executor;
    boost::system::error_code ec;
    tcp::resolver resolver(executor);
    auto endpoints = co_await resolver.async_resolve(target_.host, std::to_string(target_.port),
                                                     net::redirect_error(use_awaitable, ec));
    if (ec) co_return fail("cannot resolve " + target_.host + ": " + ec.message());

    http::request<http::empty_body> req{http::verb::get, target_.base_path, 11};
    req.set(http::field::host, (target_.port == (target_.tls ? 443 : 80)) ? target_.host
                                                                         : target_.host + ":" + std::to_string(target_.port));
    req.set(http::field::user_agent, "promptwall-bundle");
    if (!etag_.empty()) req.set(http::field::if_none_match, etag_);
    if (!last_modified_.empty()) req.set(http::field::if_modified_since, last_modified_);

    http::response_parser<http::string_body> parser;
    parser.body_limit(max_bytes_);
    beast::flat_buffer buffer;
    if (target_.tls) {
      beast::ssl_stream<beast::tcp_stream> stream(executor, tls_);
      SSL* s = stream.native_handle();
      X509_VERIFY_PARAM* param = SSL_get0_param(s);
      boost::system::error_code ip_ec;
      net::ip::make_address(target_.host, ip_ec);
      if (!ip_ec) {
        X509_VERIFY_PARAM_set1_ip_asc(param, target_.host.c_str());
      } else {
        SSL_set_tlsext_host_name(s, target_.host.c_str());
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        X509_VERIFY_PARAM_set1_host(param, target_.host.c_str(), target_.host.size());
      }
      beast::get_lowest_layer(stream).expires_after(kStepLimit);
      co_await beast::get_lowest_layer(stream).async_connect(endpoints, net::redirect_error(use_awaitable, ec));
      if (ec) co_return fail("cannot connect: " + ec.message());
      beast::get_lowest_layer(stream).expires_after(kStepLimit);
      co_await stream.async_handshake(ssl::stream_base::client, net::redirect_error(use_awaitable, ec));
      if (ec) {
        std::string why = ec.message();
        if (const long verify = SSL_get_verify_result(s); verify != X509_V_OK)
          why += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
        co_return fail("TLS handshake failed: " + why);
      }
      beast::get_lowest_layer(stream).expires_after(kStepLimit);
      co_await http::async_write(stream, req, net::redirect_error(use_awaitable, ec));
      if (!ec) {
        beast::get_lowest_layer(stream).expires_after(kStepLimit);
        co_await http::async_read(stream, buffer, parser, net::redirect_error(use_awaitable, ec));
      }
    } else {
      beast::tcp_stream stream(executor);
      stream.expires_after(kStepLimit);
      co_await stream.async_connect(endpoints, net::redirect_error(use_awaitable, ec));
      if (ec) co_return fail("cannot connect: " + ec.message());
      stream.expires_after(kStepLimit);
      co_await http::async_write(stream, req, net::redirect_error(use_awaitable, ec));
      if (!ec) {
        stream.expires_after(kStepLimit);
        co_await http::async_read(stream, buffer, parser, net::redirect_error(use_awaitable, ec));
      }
    }
    if (ec == http::error::body_limit) co_return fail("the bundle is over the limit of " + std::to_string(max_bytes_) + " bytes");
    if (ec) co_return fail("HTTP exchange failed: " + ec.message());
    auto& res = parser.get();
    if (res.result() == http::status::not_modified) {
      out = Result{Result::Kind::not_modified, {}, {}};
      co_return;
    }
    if (res.result() != http::status::ok) co_return fail("HTTP status " + std::to_string(res.result_int()));
    etag_ = std::string(res[http::field::etag]);
    last_modified_ = std::string(res[http::field::last_modified]);
    out = Result{Result::Kind::bytes, std::move(res.body()), {}};
  }

  std::string url_;
  UpstreamTarget target_;
  uint64_t max_bytes_;
  ssl::context tls_{ssl::context::tls_client};
  std::string etag_, last_modified_;
};

}  // namespace

std::unique_ptr<BundleDownload> make_http_bundle_download(const RulesBundleConfig& config,
                                                          const std::filesystem::path& upstream_ca, uint64_t max_bytes) {
  return std::make_unique<HttpBundleDownload>(config, upstream_ca, max_bytes);
}

}  // namespace promptwall::gateway
