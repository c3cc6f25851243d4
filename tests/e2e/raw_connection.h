// RawConnection: one TCP connection to a loopback port that sends exactly the bytes it is given
// and reads exactly what comes back, for the attack suite (attack_test.cpp): no HTTP library would
// send a doubled Content-Length or a bare LF. Optionally TLS over it (after a proxy's CONNECT,
// trusting the organisation CA), through OpenSSL. parse_responses() reads what came back as a
// sequence of HTTP/1.1 responses (Content-Length, chunked, or to the close).
//
// Invariants: every read and write is bounded by a deadline (a test never hangs on a gateway that
// keeps a connection open); the socket closes with the object. Not thread-safe; one per case.
// Errors: a connection that cannot be made throws std::runtime_error; a peer that closes or resets
// is not an error, it is what closed() reports.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace promptwall::e2e {

// One response as the client read it.
struct RawResponse {
  int status = 0;
  std::string head;  // status line and fields, lower-cased names kept as sent
  std::string body;  // de-chunked
  std::string header(std::string_view name) const {
    std::string lname(name);
    for (auto& c : lname) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t at = 0;
    for (size_t nl; (nl = head.find("\r\n", at)) != std::string::npos; at = nl + 2) {
      const std::string line = head.substr(at, nl - at);
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string n = line.substr(0, colon);
      for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (n == lname) {
        size_t v = colon + 1;
        while (v < line.size() && (line[v] == ' ' || line[v] == '\t')) ++v;
        return line.substr(v);
      }
    }
    return {};
  }
};

// The complete responses at the start of `bytes` (interim 1xx ones included, each as its own
// response); `rest` gets what is left (a response cut short, or garbage). A response without
// Content-Length or chunked coding runs to the end of the bytes, so it is complete only when
// `peer_closed`.
inline std::vector<RawResponse> parse_responses(std::string_view bytes, bool peer_closed, std::string* rest = nullptr) {
  std::vector<RawResponse> out;
  for (;;) {
    const size_t head_end = bytes.find("\r\n\r\n");
    if (bytes.substr(0, 5) != "HTTP/" || head_end == std::string_view::npos) break;
    RawResponse r;
    r.head = std::string(bytes.substr(0, head_end + 2));
    const size_t space = r.head.find(' ');
    r.status = space == std::string::npos ? 0 : std::atoi(r.head.c_str() + space + 1);
    std::string_view after = bytes.substr(head_end + 4);
    std::string te = r.header("transfer-encoding");
    for (auto& c : te) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string length = r.header("content-length");
    if ((r.status >= 100 && r.status < 200) || r.status == 204 || r.status == 304) {
      // no body
    } else if (te.find("chunked") != std::string::npos) {
      std::string body;
      bool done = false;
      while (!done) {
        const size_t line_end = after.find("\r\n");
        if (line_end == std::string_view::npos) break;
        const size_t size = std::strtoul(std::string(after.substr(0, line_end)).c_str(), nullptr, 16);
        if (size == 0) {
          const size_t trailers_end = after.find("\r\n\r\n", line_end);  // no trailers: right here
          if (trailers_end == std::string_view::npos) break;
          after = after.substr(trailers_end + 4);
          done = true;
        } else {
          if (after.size() < line_end + 2 + size + 2) break;
          body += after.substr(line_end + 2, size);
          after = after.substr(line_end + 2 + size + 2);
        }
      }
      if (!done) break;
      r.body = std::move(body);
    } else if (!length.empty()) {
      const size_t n = std::strtoul(length.c_str(), nullptr, 10);
      if (after.size() < n) break;
      r.body = std::string(after.substr(0, n));
      after = after.substr(n);
    } else {
      if (!peer_closed) break;
      r.body = std::string(after);
      after = {};
    }
    out.push_back(std::move(r));
    bytes = after;
  }
  if (rest) *rest = std::string(bytes);
  return out;
}

class RawConnection {
 public:
  using Clock = std::chrono::steady_clock;

  // `from`: the loopback address to connect from ("127.0.0.9"), or null for the system's choice.
  explicit RawConnection(uint16_t port, const char* from = nullptr) {
    // SSL_write writes with write(), not send(MSG_NOSIGNAL): a peer that closed mid-body (a
    // refusal before the body is read) must be an error, not SIGPIPE ending the test process.
    ::signal(SIGPIPE, SIG_IGN);
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (from) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      if (fd_ < 0 || ::inet_pton(AF_INET, from, &local.sin_addr) != 1 ||
          ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
        throw std::runtime_error(std::string("cannot bind to ") + from);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  ~RawConnection() {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }

  // TLS from here on, verifying the server's certificate for `host` against `ca_file`. Returns
  // false (with why()) when the handshake fails.
  bool start_tls(const std::string& host, const std::string& ca_file) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) != 1) return fail("cannot load " + ca_file);
    static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(ctx_, kHttp11, sizeof kHttp11);
    ssl_ = SSL_new(ctx_);
    SSL_set_tlsext_host_name(ssl_, host.c_str());
    SSL_set1_host(ssl_, host.c_str());
    SSL_set_fd(ssl_, fd_);
    if (SSL_connect(ssl_) != 1) return fail("TLS handshake: " + std::string(ERR_error_string(ERR_get_error(), nullptr)));
    return true;
  }

  // Sends every byte, or as many as the peer takes before closing. Returns false when it closed.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const long n = ssl_ ? SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()))
                          : ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads until `enough(received)` holds, the peer closes, or `timeout` passes. Returns all that
  // was received on the connection so far.
  const std::string& read_until(const std::function<bool(const std::string&)>& enough,
                                std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!closed_ && !enough(received_)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) break;
      if (!(ssl_ && SSL_pending(ssl_) > 0)) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      }
      char buf[16384];
      const long n = ssl_ ? SSL_read(ssl_, buf, sizeof buf) : ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) received_.append(buf, static_cast<size_t>(n));
      else if (n == 0 || !(errno == EINTR || errno == EAGAIN)) closed_ = true;
    }
    return received_;
  }

  // Reads until `count` complete final (non-1xx) responses arrived, the peer closed, or `timeout`.
  std::vector<RawResponse> responses(size_t count, std::chrono::milliseconds timeout) {
    read_until([&](const std::string& got) { return finals(parse_responses(got, false)) >= count; }, timeout);
    return parse_responses(received_, closed_);
  }

  // Waits up to `timeout` for the peer to close (reading, and keeping, whatever comes first).
  bool wait_closed(std::chrono::milliseconds timeout) {
    read_until([](const std::string&) { return false; }, timeout);
    return closed_;
  }

  // Forgets what was received so far (a proxy's answer to CONNECT, before the TLS inside it).
  void forget_received() { received_.clear(); }

  bool closed() const { return closed_; }
  const std::string& received() const { return received_; }
  const std::string& why() const { return why_; }

  static size_t finals(const std::vector<RawResponse>& rs) {
    size_t n = 0;
    for (const auto& r : rs) n += r.status >= 200 ? 1 : 0;
    return n;
  }

 private:
  bool fail(std::string why) {
    why_ = std::move(why);
    return false;
  }

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string received_;
  bool closed_ = false;
  std::string why_;
};

}  // namespace promptwall::e2e
