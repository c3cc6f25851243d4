// RequestFraming (gateway/server/request_framing.h): the RFC 9112 framing rules a request head
// must meet before the gateway reads its body, and the obs-fold Beast hides, on heads given as
// views, without a socket. The end-to-end side is tests/e2e/attack_test.cpp.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "gateway/server/http_head_reader.h"
#include "gateway/server/request_framing.h"

namespace promptwall::gateway::server {
namespace {

using V = FramingViolation;

struct Head {
  std::string method = "POST";
  std::string target = "/openai/v1/chat/completions";
  unsigned version = 11;
  std::vector<std::pair<std::string, std::string>> fields = {{"Host", "gw.example:8080"}};

  Head& add(std::string name, std::string value) {
    fields.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  Head& without_host() {
    fields.clear();
    return *this;
  }
  V check() const {
    std::vector<HeadField> views;
    for (const auto& [name, value] : fields) views.push_back({name, value});
    return check_request_framing(RequestHeadView{method, target, version, views});
  }
};

TEST_CASE("framing: an ordinary request passes", "[framing]") {
  CHECK(Head().check() == V::none);
  CHECK(Head().add("Content-Length", "42").check() == V::none);
  CHECK(Head().add("Transfer-Encoding", "chunked").check() == V::none);
  CHECK(Head().add("Content-Length", "0").check() == V::none);
  CHECK(Head().add("Upgrade", "websocket").add("Connection", "Upgrade").check() == V::none);
  Head http10;
  http10.version = 10;
  CHECK(http10.without_host().check() == V::none);  // HTTP/1.0 may omit Host
  CHECK(http10.add("Host", "a.example").check() == V::none);
}

TEST_CASE("framing: Transfer-Encoding must be exactly one chunked", "[framing]") {
  // Any case and surrounding whitespace is still the one token chunked.
  for (const char* ok : {"chunked", "Chunked", "CHUNKED", " chunked ", "\tchunked"}) {
    INFO(ok);
    CHECK(Head().add("Transfer-Encoding", ok).check() == V::none);
  }
  // Beast reads a body whose last coding is not chunked as absent: refused, never guessed.
  for (const char* bad : {"x-chunked", "chunked, identity", "identity", "gzip", "gzip, chunked", "chunked;q=1",
                          "chunked chunked", "", "chunk", "chunked\x0b"}) {
    INFO(bad);
    CHECK(Head().add("Transfer-Encoding", bad).check() == V::transfer_encoding_not_chunked);
  }
  CHECK(Head().add("Transfer-Encoding", "chunked").add("Transfer-Encoding", "chunked").check() ==
        V::transfer_encoding_not_chunked);
  CHECK(Head().add("transfer-encoding", "gzip").add("TRANSFER-ENCODING", "chunked").check() ==
        V::transfer_encoding_not_chunked);
  Head http10;
  http10.version = 10;
  CHECK(http10.add("Transfer-Encoding", "chunked").check() == V::transfer_encoding_in_http10);
}

TEST_CASE("framing: Transfer-Encoding and Content-Length together, in either order", "[framing]") {
  CHECK(Head().add("Content-Length", "5").add("Transfer-Encoding", "chunked").check() ==
        V::transfer_encoding_with_content_length);
  CHECK(Head().add("Transfer-Encoding", "chunked").add("Content-Length", "5").check() ==
        V::transfer_encoding_with_content_length);
  CHECK(Head().add("Transfer-Encoding", "chunked").add("Content-Length", "0").check() ==
        V::transfer_encoding_with_content_length);
}

TEST_CASE("framing: one Content-Length of digits only", "[framing]") {
  CHECK(Head().add("Content-Length", "5").add("Content-Length", "5").check() == V::content_length_repeated);
  CHECK(Head().add("Content-Length", "5").add("content-length", "6").check() == V::content_length_repeated);
  for (const char* bad : {"5, 5", "5,5", "+5", "-1", "0x10", "1e3", "5 5", "", " ", "five", "18446744073709551616",
                          "99999999999999999999999"}) {
    INFO(bad);
    CHECK(Head().add("Content-Length", bad).check() == V::content_length_invalid);
  }
  CHECK(Head().add("Content-Length", "18446744073709551615").check() == V::none);  // fits; the body limit refuses it
  CHECK(Head().add("Content-Length", " 7 ").check() == V::none);  // OWS around a field value is not part of it
  CHECK(Head().add("Content-Length", "007").check() == V::none);
}

TEST_CASE("framing: Host, once, and an authority", "[framing]") {
  CHECK(Head().without_host().check() == V::host_missing);
  const Head connect{"CONNECT", "api.openai.com:443", 11, {}};
  CHECK(connect.check() == V::none);  // its target names the authority
  CHECK(Head().add("Host", "gw.example:8080").check() == V::host_repeated);
  CHECK(Head().add("host", "other.example").check() == V::host_repeated);
  for (const char* bad : {"", "user@gw.example", "user:pw@gw.example", "gw.example:0", "gw.example:99999", "a b",
                          "gw.example/path", "[::1", "gw.example:port"}) {
    INFO(bad);
    Head h;
    h.fields = {{"Host", bad}};
    CHECK(h.check() == V::host_invalid);
  }
  for (const char* ok : {"gw.example", "127.0.0.1:8080", "[::1]:443", "xn--bcher-kva.example", "b\xc3\xbc" "cher.example"}) {
    INFO(ok);
    Head h;
    h.fields = {{"Host", ok}};
    CHECK(h.check() == V::none);
  }
  // HTTP/1.0 with two Hosts is as ambiguous as HTTP/1.1 with two.
  Head http10;
  http10.version = 10;
  CHECK(http10.add("Host", "b.example").check() == V::host_repeated);
}

TEST_CASE("framing: an absolute-form target's authority is not compared with Host", "[framing]") {
  // The sessions route by the target and send the upstream its own Host (RFC 9112 7.2).
  const Head h{"POST", "http://api.anthropic.com/v1/messages", 11, {{"Host", "evil.example"}}};
  CHECK(h.check() == V::none);
}

TEST_CASE("framing: versions other than HTTP/1.0 and 1.1, and h2c, are refused", "[framing]") {
  const Head preface{"PRI", "*", 20, {}};
  CHECK(preface.check() == V::unsupported_version);
  for (unsigned v : {9u, 12u, 19u, 20u, 30u, 0u}) {
    Head h;
    h.version = v;
    CHECK(h.check() == V::unsupported_version);
  }
  CHECK(Head().add("Upgrade", "h2c").add("HTTP2-Settings", "AAMAAABkAAQAAP__").check() == V::h2c_upgrade);
  CHECK(Head().add("Upgrade", "websocket, H2C").check() == V::h2c_upgrade);
  CHECK(Head().add("Upgrade", "h2c/1.0").check() == V::h2c_upgrade);
  CHECK(Head().add("Upgrade", "h2").check() == V::none);  // not cleartext HTTP/2 over this connection
}

TEST_CASE("framing: a fragment in the request target, in any form", "[framing]") {
  const Head origin_form{"POST", "/openai/v1/chat/completions#x", 11, {{"Host", "gw.example"}}};
  CHECK(origin_form.check() == V::target_fragment);
  const Head absolute{"GET", "http://api.anthropic.com/v1/messages#frag", 11, {{"Host", "api.anthropic.com"}}};
  CHECK(absolute.check() == V::target_fragment);
  const Head encoded{"GET", "/v1/messages%23frag", 11, {{"Host", "gw.example"}}};
  CHECK(encoded.check() == V::none);  // an encoded '#' is a path character
}

TEST_CASE("framing: the first violation in the enum's order is named", "[framing]") {
  Head h;
  h.version = 20;
  h.without_host().add("Transfer-Encoding", "gzip");
  CHECK(h.check() == V::unsupported_version);
  CHECK(Head().without_host().add("Transfer-Encoding", "gzip").check() == V::transfer_encoding_not_chunked);
  CHECK(to_string(V::obs_fold) == "obs_fold");
  CHECK(to_string(V::transfer_encoding_not_chunked) == "transfer_encoding_not_chunked");
}

TEST_CASE("framing: where a head ends, and whether a header line is folded", "[framing]") {
  CHECK(find_head_end("") == 0);
  CHECK(find_head_end("GET / HTTP/1.1\r\nHost: a\r\n") == 0);
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  CHECK(find_head_end(head) == head.size());
  CHECK(find_head_end(head + "POST / HTTP/1.1\r\n\r\n") == head.size());  // pipelined: the first head only
  CHECK(find_head_end("GET / HTTP/1.1\nHost: a\n\n") == 0);               // bare LF: no CRLF CRLF (Beast refuses it)

  CHECK(check_head_bytes(head) == V::none);
  CHECK(check_head_bytes(head + "POST / HTTP/1.1\r\nX: a\r\n b\r\n\r\n") == V::none);  // the next head is its own
  CHECK(check_head_bytes("GET / HTTP/1.1\r\nHost: a\r\nX-A: b c\r\n\r\n") == V::none);
  CHECK(check_head_bytes("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n") == V::obs_fold);
  CHECK(check_head_bytes("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n") == V::obs_fold);
  CHECK(check_head_bytes("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n") == V::obs_fold);
  CHECK(check_head_bytes("GET / HTTP/1.1\r\n Host: a\r\n\r\n") == V::obs_fold);  // whitespace before the first field
  CHECK(check_head_bytes("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c") == V::obs_fold);  // seen before the head ends
  // Bare line endings, complete or not: a head of bare LFs never ends for Beast.
  CHECK(check_head_bytes("GET / HTTP/1.1\nHost: a\n\n") == V::bare_line_ending);
  CHECK(check_head_bytes("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n") == V::bare_line_ending);
  CHECK(check_head_bytes("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n") == V::bare_line_ending);
  CHECK(check_head_bytes("GET / HTTP/1.1\r") == V::none);  // its LF may follow
  CHECK(check_head_bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody\nwith\rbare ends") == V::none);  // the body is not the head's
  CHECK(check_head_bytes("") == V::none);
}

TEST_CASE("framing: the transparent listener's first-bytes reader judges the framing too", "[framing]") {
  // A redirected head the site behind might read otherwise is never spliced (transparent_session).
  CHECK(read_http_head("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", 16384).framing == V::none);
  CHECK(read_http_head("GET / HTTP/1.0\r\n\r\n", 16384).framing == V::none);
  const HttpHeadRead two_hosts = read_http_head("GET / HTTP/1.1\r\nHost: a.example\r\nHost: api.openai.com\r\n\r\n", 16384);
  CHECK(two_hosts.status == HttpHeadRead::Status::head);
  CHECK(two_hosts.host == "a.example");
  CHECK(two_hosts.framing == V::host_repeated);
  CHECK(read_http_head("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 16384).framing ==
        V::transfer_encoding_not_chunked);
  // Bare LFs are judged before the head completes (for Beast it never would).
  const HttpHeadRead bare = read_http_head("GET / HTTP/1.1\nHost: a.example\n", 16384);
  CHECK(bare.status == HttpHeadRead::Status::head);
  CHECK(bare.framing == V::bare_line_ending);
  CHECK(read_http_head("GET / HTTP/1.1\r\nHost: a.example\r\nX: a\r\n b\r\n\r\n", 16384).framing == V::obs_fold);
}

}  // namespace
}  // namespace promptwall::gateway::server
