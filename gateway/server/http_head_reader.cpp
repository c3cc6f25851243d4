#include "gateway/server/http_head_reader.h"

#include <algorithm>
#include <cctype>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/verb.hpp>

namespace promptwall::gateway::server {

namespace http = boost::beast::http;

namespace {

// "Example.COM:8080" → "example.com"; "[2001:db8::1]:80" → "2001:db8::1". Beast has split the head
// into fields; this only drops the port of the one value.
std::string host_of(std::string_view value) {
  std::string_view host = value;
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    host = close == std::string_view::npos ? std::string_view() : host.substr(1, close - 1);
  } else if (const size_t colon = host.rfind(':'); colon != std::string_view::npos && host.find(':') == colon) {
    host = host.substr(0, colon);
  }
  std::string out(host);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

}  // namespace

HttpHeadRead read_http_head(std::string_view bytes, size_t header_limit) {
  HttpHeadRead out;
  // Beast judges a head only once it has all of it (or the limit is reached), so a binary
  // protocol would wait for the limit. Its method tells sooner: Beast's verb table must know it.
  constexpr size_t kLongestMethod = 16;
  const size_t space = bytes.find(' ');
  const std::string_view method = bytes.substr(0, std::min(space, bytes.size()));
  const bool method_letters = std::all_of(method.begin(), method.end(), [](char c) { return (c >= 'A' && c <= 'Z') || c == '-'; });
  if (!method_letters || method.size() > kLongestMethod ||
      (space != std::string_view::npos && http::string_to_verb(method) == http::verb::unknown)) {
    out.status = HttpHeadRead::Status::not_http;
    return out;
  }
  if (space == std::string_view::npos) return out;

  http::request_parser<http::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(std::min<size_t>(header_limit, UINT32_MAX)));
  parser.eager(false);  // the head is all we want; the body stays for the request loop
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec == http::error::need_more) {
    // Incomplete: more may come, unless the limit is reached already.
    if (bytes.size() >= header_limit) out.status = HttpHeadRead::Status::too_large;
    return out;
  }
  if (ec == http::error::header_limit) {
    out.status = HttpHeadRead::Status::too_large;
    return out;
  }
  if (ec || !parser.is_header_done()) {
    out.status = HttpHeadRead::Status::not_http;
    return out;
  }
  out.status = HttpHeadRead::Status::head;
  const auto& head = parser.get();
  if (auto it = head.find(http::field::host); it != head.end()) out.host = host_of(it->value());
  return out;
}

}  // namespace promptwall::gateway::server
