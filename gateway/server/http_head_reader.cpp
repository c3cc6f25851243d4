#include "gateway/server/http_head_reader.h"

#include <algorithm>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/verb.hpp>

#include "gateway/catalog/host_name.h"

namespace promptwall::gateway::server {

namespace http = boost::beast::http;

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
  // Bare line endings and obs-fold are judged as their bytes arrive: a head of bare LFs never
  // completes for Beast.
  if (const FramingViolation in_bytes = check_head_bytes(bytes); in_bytes != FramingViolation::none) {
    out.status = HttpHeadRead::Status::head;
    out.framing = in_bytes;
    return out;
  }

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
  if (ec) {
    // It began as a request (a known method and a space), so it is refused, never spliced: a site
    // might read as a request what Beast cannot. Which violation a head shows first depends on how
    // much of it has arrived; every one of them is a refusal.
    out.status = HttpHeadRead::Status::head;
    out.framing = FramingViolation::unparseable;
    return out;
  }
  if (!parser.is_header_done()) return out;  // need_more
  // Beast applies its header limit to what one put() still lacks, not to the head: a head longer
  // than the limit that arrives whole passes it, the same head in pieces does not. Measured here,
  // so the answer does not depend on how the bytes arrived.
  if (find_head_end(bytes) > header_limit) {
    out.status = HttpHeadRead::Status::too_large;
    return out;
  }
  out.status = HttpHeadRead::Status::head;
  const auto& head = parser.get();
  std::vector<HeadField> fields;
  for (const auto& field : head) fields.push_back({field.name_string(), field.value()});
  out.framing = check_request_framing(RequestHeadView{head.method_string(), head.target(), head.version(), fields});
  if (auto it = head.find(http::field::host); it != head.end() && !it->value().empty()) {
    // The port does not matter here (the connection's original destination has it).
    if (auto authority = parse_authority(it->value(), 80)) out.host = std::move(authority->host.text);
    else out.host_invalid = true;
  }
  return out;
}

}  // namespace promptwall::gateway::server
