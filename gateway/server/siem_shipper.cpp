#include "gateway/server/siem_shipper.h"

#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include "audit/event.h"
#include "audit/siem_format.h"
#include "audit/trail_reader.h"
#include "gateway/server/cursor_file.h"

namespace promptwall::gateway::server {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

std::string errno_text(int error) { return std::strerror(error); }

// ---------------------------------------------------------------------------------------------
// One connection to the SIEM, plain TCP or TLS, blocking. Errors are thrown as std::runtime_error
// with a one-line reason for the log.

class SiemConnection {
 public:
  SiemConnection(const SiemConfig& config, ssl::context* tls) : config_(config), tls_(tls) {}

  // Connects (and shakes hands). `on_socket` gets the socket's descriptor as soon as it exists
  // (and -1 when it is closed), so stop() can shut it down under a blocked call.
  void connect(const std::function<void(int)>& on_socket) {
    const Endpoint& address = *config_.address;
    boost::system::error_code ec;
    tcp::resolver resolver(ioc_);
    auto endpoints = resolver.resolve(address.host, std::to_string(address.port), ec);
    if (ec) throw std::runtime_error("cannot resolve " + address.host + ": " + ec.message());

    close(on_socket);
    tcp::socket& socket = tls_ ? stream_.emplace<TlsSocket>(std::in_place, ioc_, *tls_)->next_layer()
                               : *stream_.emplace<PlainSocket>(std::in_place, ioc_);
    for (const auto& entry : endpoints) {
      if (socket.is_open()) {
        on_socket(-1);
        socket.close(ec);
      }
      socket.open(entry.endpoint().protocol(), ec);
      if (ec) continue;
      tune(socket.native_handle());
      on_socket(socket.native_handle());
      socket.connect(entry.endpoint(), ec);
      if (!ec) break;
    }
    if (ec || !socket.is_open()) {
      close(on_socket);
      throw std::runtime_error("cannot connect to " + address.to_string() + ": " + ec.message());
    }
    fd_ = socket.native_handle();
    if (tls_) handshake(*std::get<TlsSocket>(stream_));
  }

  void write(const std::string& bytes) {
    boost::system::error_code ec;
    if (auto* tls = std::get_if<TlsSocket>(&stream_))
      net::write(**tls, net::buffer(bytes), ec);
    else
      net::write(*std::get<PlainSocket>(stream_), net::buffer(bytes), ec);
    if (ec) throw std::runtime_error("cannot send: " + ec.message());
  }

  // Waits until the peer's TCP has acknowledged every byte written (nothing left in the send
  // queue), polling every few milliseconds. Throws on a connection error, a peer that reset the
  // connection, a timeout, or when `stopping` is set.
  void wait_acknowledged(std::chrono::milliseconds timeout, const std::atomic<bool>& stopping) {
    const int fd = fd_;
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      int error = 0;
      socklen_t len = sizeof error;
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
      if (error != 0) throw std::runtime_error("connection lost: " + errno_text(error));
      int unacknowledged = 0;
      if (::ioctl(fd, SIOCOUTQ, &unacknowledged) != 0) throw std::runtime_error("SIOCOUTQ: " + errno_text(errno));
      if (unacknowledged == 0) {
        // Acknowledged, unless the connection died with nothing queued (then it is closed now).
        tcp_info info{};
        socklen_t info_len = sizeof info;
        if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &info_len) != 0) throw std::runtime_error("TCP_INFO: " + errno_text(errno));
        if (info.tcpi_state == TCP_ESTABLISHED || info.tcpi_state == TCP_CLOSE_WAIT) return;
        throw std::runtime_error("connection closed before the batch was acknowledged");
      }
      if (stopping.load()) throw std::runtime_error("stopping");
      if (Clock::now() >= deadline)
        throw std::runtime_error(std::to_string(unacknowledged) + " bytes not acknowledged within " +
                                 std::to_string(timeout.count()) + " ms");
      // Wake early on an error or hang-up; otherwise look again in 2 ms.
      pollfd p{fd, POLLRDHUP, 0};
      ::poll(&p, 1, 2);
    }
  }

  // Whether the peer has closed its side (its FIN or an error is pending): a SIEM restarted while
  // the connection was idle. Checked before each batch, so a batch is not written into a dead
  // connection whose first write would "succeed".
  bool peer_closed() const {
    pollfd p{fd_, POLLRDHUP, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
  }

  bool is_open() const { return fd_ >= 0; }
  // Forgets the descriptor (on_socket(-1)) before closing it, so stop() never shuts down a
  // descriptor number the process has meanwhile reused.
  void close(const std::function<void(int)>& on_socket) {
    on_socket(-1);
    fd_ = -1;
    stream_ = std::monostate{};  // the socket's destructor closes it
  }

 private:
  using PlainSocket = std::optional<tcp::socket>;
  using TlsSocket = std::optional<ssl::stream<tcp::socket>>;

  // Bounds on a SIEM that vanishes: SYN retries (~15 s), unacknowledged data (30 s), and a quiet
  // connection is probed, so a dead peer is found even while idle.
  static void tune(int fd) {
    int syn_retries = 4, user_timeout_ms = 30'000, keepalive = 1, idle = 60, interval = 10, count = 3, nodelay = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syn_retries, sizeof syn_retries);
    ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &keepalive, sizeof keepalive);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay);
  }

  // TLS: SNI and the certificate's name (or IP address) checked against server_name, by default
  // the address's host; the chain against the system store plus siem.ca (the context's job).
  void handshake(ssl::stream<tcp::socket>& stream) {
    const std::string name = config_.server_name.empty() ? config_.address->host : config_.server_name;
    SSL* s = stream.native_handle();
    X509_VERIFY_PARAM* param = SSL_get0_param(s);
    boost::system::error_code ec;
    net::ip::make_address(name, ec);
    const bool is_ip = !ec;
    if (is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    } else {
      SSL_set_tlsext_host_name(s, name.c_str());
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    }
    stream.handshake(ssl::stream_base::client, ec);
    if (ec) {
      std::string reason = ec.message();
      long verify = SSL_get_verify_result(s);
      if (verify != X509_V_OK) reason += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
      throw std::runtime_error("TLS handshake with " + name + " failed: " + reason);
    }
  }

  const SiemConfig& config_;
  ssl::context* tls_;
  net::io_context ioc_{1};
  std::variant<std::monostate, PlainSocket, TlsSocket> stream_;
  int fd_ = -1;  // the connected socket's descriptor; -1 when not connected
};

std::string default_hostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "";
  std::string host = name;
  // RFC 5424 wants printable US-ASCII; a name that is not is replaced by NILVALUE.
  for (char c : host)
    if (c < 33 || c > 126) return "";
  return host.size() <= 255 ? host : "";
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct SiemShipper::Impl {
  explicit Impl(SiemShipperOptions o)
      : options(std::move(o)),
        formatter({.hostname = options.siem.hostname.empty() ? default_hostname() : options.siem.hostname,
                   .procid = std::to_string(::getpid())}),
        cursor_file(options.trail_dir / kCursorFileName) {
    if (options.siem.tls) {
      tls.emplace(ssl::context::tls_client);
      tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      // TLS 1.2 at least, over whatever the system's openssl.cnf allows.
      SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
      tls->set_default_verify_paths();
      if (!options.siem.ca.empty()) {
        boost::system::error_code ec;
        tls->load_verify_file(options.siem.ca.string(), ec);
        if (ec) throw std::runtime_error("audit.siem.ca " + options.siem.ca.string() + ": " + ec.message());
      }
      tls->set_verify_mode(ssl::verify_peer);
    }
  }

  // A record read and formatted, waiting for the SIEM to acknowledge it.
  struct Pending {
    uint64_t seq = 0;
    audit::Clock::time_point time;
    std::string framed;  // empty for a record that is not shipped (a checkpoint): passed over
  };

  void run();
  void fill_batch();
  bool deliver_batch(SiemConnection& connection);  // true when the whole batch was acknowledged
  void advance_cursor();
  void report_lag();
  void note_outage(const std::string& reason);
  void wait(std::chrono::milliseconds how_long) {
    std::unique_lock lock(mutex);
    wake.wait_for(lock, how_long, [&] { return stopping.load(); });
  }
  // The connection's descriptor, for stop(); a new one while stopping aborts the connect.
  void set_socket(int fd) {
    std::lock_guard lock(mutex);
    if (fd >= 0 && stopping) throw std::runtime_error("stopping");
    socket_fd = fd;
  }

  SiemShipperOptions options;
  audit::SiemFormatter formatter;
  CursorFile cursor_file;
  std::optional<ssl::context> tls;

  std::thread thread;
  std::atomic<bool> stopping{false};
  std::mutex mutex;               // guards socket_fd against stop(); the condition's mutex too
  std::condition_variable wake;
  int socket_fd = -1;             // the connection's descriptor while one exists
  const std::function<void(int)> on_socket = [this](int fd) { set_socket(fd); };

  std::atomic<uint64_t> delivered{0};  // the cursor
  uint64_t next_seq = 1;               // the next record to read
  std::optional<audit::TrailReader> reader;
  std::deque<Pending> batch;
  size_t batch_bytes = 0;

  // Outage bookkeeping, for one warning per outage and one note when it has drained.
  bool down = false;
  uint64_t outage_first_seq = 0;  // the first seq not delivered when the outage began
  std::string last_reader_error;
  bool cursor_checked = false;  // whether the cursor was checked against the trail's end
};

void SiemShipper::Impl::run() {
  const std::string address = options.siem.address->to_string();
  try {
    delivered = cursor_file.load();
  } catch (const std::exception& e) {
    spdlog::error("SIEM shipping to {} stopped: {}", address, e.what());
    return;
  }
  next_seq = delivered + 1;
  spdlog::info("SIEM shipping to {}{} from record {}", address, options.siem.tls ? " (TLS)" : "", next_seq);

  SiemConnection connection(options.siem, tls ? &*tls : nullptr);
  while (!stopping) {
    fill_batch();
    report_lag();
    if (batch.empty()) {
      if (down && connection.is_open()) {
        spdlog::info("SIEM {} reachable again: {} audit records queued during the outage were delivered", address,
                     delivered - outage_first_seq + 1);
        down = false;
      }
      wait(options.poll_interval);
      continue;
    }
    if (!deliver_batch(connection)) {
      if (stopping) break;
      wait(options.siem.retry_interval);
      continue;
    }
    advance_cursor();
  }
  connection.close(on_socket);
}

// Sends the batch and waits for the SIEM's acknowledgement; on any failure closes the connection
// (the batch stays, to be sent whole on the next one) and returns false.
bool SiemShipper::Impl::deliver_batch(SiemConnection& connection) {
  std::string bytes;
  bytes.reserve(batch_bytes);
  for (const auto& p : batch) bytes += p.framed;
  if (bytes.empty()) return true;  // checkpoints only: nothing for the SIEM
  try {
    if (connection.is_open() && connection.peer_closed()) connection.close(on_socket);
    if (!connection.is_open()) connection.connect(on_socket);
    connection.write(bytes);
    connection.wait_acknowledged(options.ack_timeout, stopping);
    return true;
  } catch (const std::exception& e) {
    connection.close(on_socket);
    if (!stopping) note_outage(e.what());
    return false;
  }
}

// The batch is acknowledged: the cursor moves past it, durably.
void SiemShipper::Impl::advance_cursor() {
  size_t shipped = 0;
  for (const auto& p : batch) shipped += p.framed.empty() ? 0 : 1;
  const uint64_t last = batch.back().seq;
  try {
    cursor_file.store(last);
  } catch (const std::exception& e) {
    // The SIEM has the batch; without a durable cursor a restart sends it again, which is better
    // than losing it. Keep going and say so.
    spdlog::error("SIEM cursor: {}", e.what());
  }
  delivered = last;
  batch.clear();
  batch_bytes = 0;
  if (options.metrics) options.metrics->siem_shipped(shipped);
}

// Reads durable records after the batch, up to the batch limits.
void SiemShipper::Impl::fill_batch() {
  const uint64_t durable = options.durable_seq();
  if (!cursor_checked && durable > 0) {
    // A cursor past the end of the trail belongs to another trail (this one was replaced): ship
    // this one from its start rather than skip its first records. Checked once the writer has a
    // record, since a writer that could not open its trail yet reports 0.
    cursor_checked = true;
    if (delivered > durable) {
      spdlog::warn("SIEM: {} says record {} was delivered but the trail ends at {}; sending this trail from its start",
                   cursor_file.path().string(), delivered.load(), durable);
      delivered = 0;
      next_seq = 1;
      reader.reset();
    }
  }
  try {
    while (next_seq <= durable && batch.size() < options.max_batch_records && batch_bytes < options.max_batch_bytes) {
      if (!reader) reader.emplace(options.trail_dir, next_seq);
      auto record = reader->next();
      if (!record) break;
      if (record->seq < next_seq) continue;  // before the cursor: already delivered
      if (record->seq > durable) {
        // Written but not yet durable: it may still be cut off. Read this line again later.
        reader.emplace(options.trail_dir, record->file, record->offset);
        break;
      }
      if (record->seq != next_seq)
        spdlog::error("audit trail: record {} follows record {} (run `promptwall audit verify`)", record->seq,
                      next_seq - 1);
      Pending p{record->seq, {}, {}};
      try {
        const auto json = nlohmann::json::parse(record->line);
        if (auto message = formatter.format(json, record->seq)) {
          p.framed = audit::frame_octet_counted(*message);
          if (auto t = audit::parse_time(json.value("time", ""))) p.time = *t;
        }
      } catch (const std::exception& e) {
        // A record the SIEM cannot be given must not stop every later one; the trail keeps it.
        spdlog::error("SIEM: record {} cannot be formatted, not sent: {}", record->seq, e.what());
      }
      batch_bytes += p.framed.size();
      batch.push_back(std::move(p));
      next_seq = record->seq + 1;
      last_reader_error.clear();
    }
  } catch (const std::exception& e) {
    // An unreadable trail (a damaged line, a missing file): say so once, start reading afresh.
    if (last_reader_error != e.what()) spdlog::error("SIEM: cannot read the audit trail: {}", e.what());
    last_reader_error = e.what();
    reader.reset();
  }
}

void SiemShipper::Impl::report_lag() {
  if (!options.metrics) return;
  const uint64_t durable = options.durable_seq();
  const uint64_t behind = durable > delivered ? durable - delivered : 0;
  double seconds = 0;
  for (const auto& p : batch) {
    if (p.framed.empty()) continue;
    seconds = std::max(0.0, std::chrono::duration<double>(audit::Clock::now() - p.time).count());
    break;
  }
  options.metrics->siem_lag(behind, seconds);
}

void SiemShipper::Impl::note_outage(const std::string& reason) {
  if (down) return;
  down = true;
  outage_first_seq = delivered + 1;
  spdlog::warn("SIEM {} unreachable: {}; audit events stay in the trail and are sent when it is back (retry every {} ms)",
               options.siem.address->to_string(), reason, options.siem.retry_interval.count());
}

// ---------------------------------------------------------------------------------------------

SiemShipper::SiemShipper(SiemShipperOptions options) {
  if (!options.siem.address) throw std::invalid_argument("SiemShipper needs audit.siem.address");
  if (!options.durable_seq) throw std::invalid_argument("SiemShipper needs durable_seq");
  impl_ = std::make_unique<Impl>(std::move(options));
}

SiemShipper::~SiemShipper() { stop(); }

void SiemShipper::start() {
  if (impl_->thread.joinable()) return;
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

void SiemShipper::stop() {
  if (!impl_->thread.joinable()) return;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
    // Unblocks a connect or write in progress; the thread sees `stopping` and leaves.
    if (impl_->socket_fd >= 0) ::shutdown(impl_->socket_fd, SHUT_RDWR);
  }
  impl_->wake.notify_all();
  impl_->thread.join();
}

uint64_t SiemShipper::delivered_seq() const { return impl_->delivered.load(); }

}  // namespace promptwall::gateway::server
