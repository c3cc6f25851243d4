#include "gateway/server/gateway_server.h"

#include <fcntl.h>
#include <ifaddrs.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <iomanip>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include "central/central_connection.h"
#include "central/central_store.h"
#include "gateway/bundles/http_bundle_download.h"
#include "gateway/config/state_dir.h"
#include "gateway/server/connections.h"
#include "gateway/server/original_destination.h"

namespace promptwall::gateway {

namespace server {

using tcp = net::ip::tcp;
using net::use_awaitable;

// ---------------------------------------------------------------------------------------------
// Per-worker pieces

std::unique_ptr<UpstreamConnection> UpstreamPool::take(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  const auto now = std::chrono::steady_clock::now();
  while (!list.empty()) {
    auto conn = std::move(list.back());
    list.pop_back();
    if (now - conn->idle_since < kMaxIdle) return conn;
  }
  return nullptr;
}

void UpstreamPool::put(std::unique_ptr<UpstreamConnection> connection) {
  auto& list = idle_[connection->key];
  if (list.size() >= kMaxIdlePerTarget) list.erase(list.begin());
  list.push_back(std::move(connection));
}

Scanner& ScannerSlot::for_rules(const std::shared_ptr<const RuleSet>& rules) {
  if (!scanner_ || scanner_->ruleset_ptr() != rules) scanner_ = std::make_unique<Scanner>(rules);
  return *scanner_;
}

// ---------------------------------------------------------------------------------------------
// Shared state

namespace {

InspectorLimits inspector_limits(const Limits& l) { return InspectorLimits{l.max_decoded_body_bytes, l.max_json_depth}; }

std::string rules_cache_dir(const RulesConfig& rules) {
  return rules.cache_dir.empty() ? RuleSetCompiler::default_cache_dir() : rules.cache_dir;
}

int select_http11(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                  void*) {
  // Only http/1.1 is offered: the inspection speaks HTTP/1.1. A client offering only h2 gets no
  // ALPN answer and falls back to HTTP/1.1.
  static constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kHttp11, sizeof kHttp11, in, inlen) == OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

// This host's interface addresses (getifaddrs): a listener on every address answers on each.
std::vector<IpAddress> local_addresses() {
  std::vector<IpAddress> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (const ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (i->ifa_addr->sa_family == AF_INET)
      inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof text);
    else if (i->ifa_addr->sa_family == AF_INET6)
      inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr, text, sizeof text);
    if (auto address = IpAddress::parse(text)) out.push_back(*address);
  }
  freeifaddrs(list);
  return out;
}

// The SSRF guard for this configuration: its own listeners (a name or an unspecified address
// counts as every address of this host: fail closed), this host's addresses, forbidden_networks.
DestinationGuard destination_guard(const GatewayConfig& config) {
  std::vector<OwnListener> own;
  for (const auto* e : {&config.gateway_listen, &config.proxy_listen, &config.transparent_listen, &config.admin.listen}) {
    if (!*e) continue;
    std::optional<IpAddress> address = IpAddress::parse((*e)->host);
    if (address && std::all_of(address->bytes.begin(), address->bytes.end(), [](uint8_t b) { return b == 0; }))
      address.reset();
    if (address && address->is_v4() && address->bytes[12] == 0) address.reset();  // 0.0.0.0
    own.push_back({address, (*e)->port});
  }
  return DestinationGuard(config.destinations.forbidden_networks, std::move(own), local_addresses());
}

}  // namespace

std::string random_admin_token() {
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("cannot generate a random admin token");
  std::ostringstream out;
  for (unsigned char b : bytes) out << std::hex << std::setw(2) << std::setfill('0') << static_cast<int>(b);
  return out.str();
}

// Writes `token` to DIR/admin-token.generated, created 0600 (O_EXCL after removing the last run's,
// so it is never readable by anyone else, not even for a moment). Returns the path, or "" when the
// file cannot be written.
std::string write_generated_token(const std::filesystem::path& dir, const std::string& token) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::filesystem::path file = dir / "admin-token.generated";
  std::filesystem::remove(file, ec);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return {};
  const std::string line = token + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  return written ? file.string() : std::string();
}

namespace {

// The sandbox runs this very binary as `promptwall extract-worker` (extractors/sandbox/), through
// /proc/self/exe: the running image, so a package upgrade that replaces the file on disk does not
// start workers of another version (whose wire format would not match) until the restart.
extractors::sandbox::ExtractionPool::Options extraction_pool_options(const DocumentsConfig& documents) {
  extractors::sandbox::ExtractionPool::Options options;
  options.worker_executable = "/proc/self/exe";
  options.concurrency = documents.workers ? documents.workers : std::max(2u, std::thread::hardware_concurrency());
  options.spares = documents.spares;
  options.limits = documents.limits;
  return options;
}

// The packs policy scopes may name, as files (PolicyScopes hides each from requesters whose scopes
// do not name it): rules.scoped_packs, or with rules.bundle the names the scopes use, since a
// bundle must carry exactly those as scoped packs (BundleSource refuses any other).
std::set<std::string> scope_pack_names(const GatewayConfig& config) {
  std::set<std::string> names;
  for (const auto* scopes : {&config.scopes.units, &config.scopes.groups})
    for (const auto& [name, scope] : *scopes)
      for (const auto& pack : scope.packs) names.insert(pack);
  return names;
}

std::vector<std::string> scoped_pack_files(const GatewayConfig& config) {
  if (!config.rules.bundle.enabled()) return config.rules.scoped_packs;
  std::vector<std::string> files;
  for (const auto& name : scope_pack_names(config)) files.push_back(name + ".yaml");
  return files;
}

// rules.bundle's source: the directory or the URL, the authors' key, where the last good bundle is
// kept, and the scoped packs the policy scopes name (a bundle must carry exactly those).
std::unique_ptr<BundleSource> make_bundle_source(const GatewayConfig& config) {
  const RulesBundleConfig& b = config.rules.bundle;
  BundleSource::Options options;
  options.dir = b.dir;
  if (!b.url.empty()) options.download = make_http_bundle_download(b, config.tls.upstream_ca, options.limits.max_bundle_bytes);
  options.state_dir = b.state_dir;
  if (options.state_dir.empty()) {
    const auto state = default_state_dir();
    if (state.empty())
      throw std::runtime_error("rules.bundle: no state directory for the last good bundle: set rules.bundle.state_dir, "
                               "PROMPTWALL_STATE_DIR or HOME");
    options.state_dir = state / "bundles";
  }
  options.scoped_pack_names = scope_pack_names(config);
  return std::make_unique<BundleSource>(std::move(options), b.public_key);
}

}  // namespace

ServerState::ServerState(GatewayConfig cfg)
    : config(std::move(cfg)),
      catalog(config.services),
      inspector(inspector_limits(config.limits), config.documents.limits.files_per_request),
      scopes(config.scopes, scoped_pack_files(config)),
      loader(config.rules.packs, rules_cache_dir(config.rules), config.rules.scoped_packs),
      destinations(destination_guard(config)) {
  base_layers.push_back(&config.policy);
  if (config.pseudonyms.enabled)
    pseudonyms = std::make_unique<PseudonymVault>(PseudonymLimits{config.pseudonyms.ttl, config.pseudonyms.max_entries});
  documents = std::make_unique<extractors::sandbox::ExtractionPool>(extraction_pool_options(config.documents));
  // Who sends requests: the users and groups files must load, or the server does not start.
  try {
    identity = std::make_unique<RequesterIdentity>(config);
  } catch (const IdentityFileError& e) {
    throw std::runtime_error(std::string("identity: ") + e.what());
  }

  // Upstreams: always verified, against the system store plus the configured extra CA.
  upstream_tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                           ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  // TLS 1.2 at least, whatever the system's OpenSSL configuration allows (a MinProtocol of TLSv1 in
  // openssl.cnf applies when the context is made; this comes after it).
  SSL_CTX_set_min_proto_version(upstream_tls.native_handle(), TLS1_2_VERSION);
  upstream_tls.set_default_verify_paths();
  if (!config.tls.upstream_ca.empty()) {
    boost::system::error_code ec;
    upstream_tls.load_verify_file(config.tls.upstream_ca.string(), ec);
    if (ec) throw std::runtime_error("tls.upstream_ca " + config.tls.upstream_ca.string() + ": " + ec.message());
  }
  upstream_tls.set_verify_mode(ssl::verify_peer);

  // Interception: the organisation CA from the config, or from the default state directory.
  intercept_tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                            ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  SSL_CTX_set_min_proto_version(intercept_tls.native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_alpn_select_cb(intercept_tls.native_handle(), select_http11, nullptr);
  std::filesystem::path ca_cert = config.tls.ca_cert, ca_key = config.tls.ca_key;
  const bool configured = !ca_cert.empty();
  if (!configured) {
    const auto dir = default_state_dir();
    ca_cert = dir / "ca.crt";
    ca_key = dir / "ca.key";
  }
  std::error_code exists_ec;
  if (configured || std::filesystem::exists(ca_cert, exists_ec)) {
    // A configured CA that cannot be loaded is an error; a default one that is absent is not.
    ca = CertificateAuthority::load(ca_cert, ca_key, config.tls.leaf_validity);
  } else {
    interception_off = "no organisation CA at " + ca_cert.string() + "; run `promptwall ca init` or set tls.ca_cert";
  }

  admin_token = config.admin.token;

  // The trail. Its keys are made on first start; a trail that cannot be written now does not stop
  // the start: the writer retries, and until it succeeds AI traffic is refused and /readyz says why.
  const AuditPaths paths = resolve_audit_paths(config.audit);
  evidence = std::make_unique<const audit::EvidenceMaker>(audit::EvidenceMaker::load_or_create(paths.evidence_key));
  audit::AuditWriterOptions options;
  options.dir = paths.dir;
  options.rotate_bytes = config.audit.rotate_bytes;
  options.rotate_daily = config.audit.rotate_daily;
  options.checkpoint_interval = config.audit.checkpoint_interval;
  options.signing_key = std::make_shared<const audit::SigningKey>(audit::SigningKey::load_or_create(paths.signing_key));
  audit = std::make_unique<audit::AuditWriter>(std::move(options));
  if (config.rules.bundle.enabled()) bundles = make_bundle_source(config);
  if (config.audit.siem.address) {
    siem = std::make_unique<SiemShipper>(SiemShipperOptions{
        .trail_dir = paths.dir,
        .siem = config.audit.siem,
        .durable_seq = [writer = audit.get()] { return writer->durable_seq(); },
        .metrics = &metrics});
  }
  if (config.audit.central.enabled()) {
    central = std::make_unique<CentralShipper>(CentralShipperOptions{
        .trail_dir = paths.dir,
        .central = config.audit.central,
        .gateway_id = config.fleet.gateway_id,
        .province = config.fleet.province,
        .durable_seq = [writer = audit.get()] { return writer->durable_seq(); },
        .metrics = &metrics});
  }
  traffic_recorder = std::make_unique<TrafficRecorder>(traffic, *audit, config.audit.traffic_interval);
}

std::string ServerState::new_request_id(Worker& worker) const {
  std::ostringstream out;
  out << std::hex << std::setw(16) << std::setfill('0') << worker.random();
  return out.str();
}

}  // namespace server

// ---------------------------------------------------------------------------------------------
// The server

namespace net = boost::asio;

struct GatewayServer::Impl {
  std::unique_ptr<server::ServerState> state;
  std::vector<std::unique_ptr<server::Worker>> workers;
  struct Listening {
    server::ListenerKind kind;
    bool admin = false;
    std::unique_ptr<net::ip::tcp::acceptor> acceptor;
    std::string name;
  };
  std::vector<Listening> listeners;
  server::TransparentListener transparent;  // what the transparent listener's connections need
  net::thread_pool reload_pool{1};  // rule compilation runs here, off the workers
  net::thread_pool review_pool{1};  // the review page's SQLite queries and password hashing
  size_t next_worker = 0;

  server::Worker& pick_worker() { return *workers[next_worker++ % workers.size()]; }
  // Builds each worker's Scanner for `rules` on that worker's thread, so no request pays for it.
  void warm_scanners(const std::shared_ptr<const RuleSet>& rules) {
    for (auto& w : workers) net::post(w->ioc, [worker = w.get(), rules] { worker->scanner.for_rules(rules); });
  }
  net::awaitable<RuleLoad> reload();
  net::awaitable<void> return_freed_memory(std::weak_ptr<const RuleSet> previous);
  // After a load on the reload thread: log it ("rules reloaded<from>: ..."), count it, warm the
  // workers, free the old set. `from`: "" for a reload, " from the bundle source" for a bundle poll.
  void report_load(const RuleLoad& load, std::weak_ptr<const RuleSet> previous, std::string_view from);

  // Signed rule bundles (rules.bundle, gateway/bundles/), all on the reload thread but the timer.
  // A candidate's packs compiled and their examples run; served only when all pass.
  RuleLoad try_bundle(const BundleCandidate& candidate);
  // Polls the source: a new bundle tried, refusals logged and counted; nullopt when nothing new.
  std::optional<RuleLoad> poll_bundles();
  // SIGHUP and POST /reload: a new bundle if the source has one, else the one served again.
  RuleLoad reload_bundle();
  // At start: the source's bundle, else the last good one, else none (AI traffic refused).
  void start_from_bundle();
  std::string unreachable_logged;  // the source's last unreachable message logged (reload thread)
  std::unique_ptr<net::steady_timer> bundle_timer;
  void schedule_bundle_poll();
  net::awaitable<audit::ReviewResponse> review(const audit::ReviewRequest& request);

  // The AI-address snapshot (server_state.h: ai_addresses), refreshed on its own thread: getaddrinfo
  // blocks, and no worker may wait for DNS.
  std::thread address_thread;
  std::mutex address_mutex;
  std::condition_variable address_wake;
  bool address_stop = false;  // guarded by address_mutex
  void resolve_ai_addresses();
  void stop_resolving() {
    {
      std::lock_guard lock(address_mutex);
      address_stop = true;
    }
    address_wake.notify_all();
    if (address_thread.joinable()) address_thread.join();
  }
  net::awaitable<void> accept_loop(Listening& listening);
};

}  // namespace promptwall::gateway

namespace promptwall::gateway {

using server::ListenerKind;
using tcp = boost::asio::ip::tcp;
using net::use_awaitable;

// Compiles and tests the configured packs (or polls the bundle source) on the reload thread, then
// swaps the set in atomically. Requests already holding the old set finish with it; one reload runs
// at a time (one thread).
net::awaitable<RuleLoad> GatewayServer::Impl::reload() {
  server::ServerState& s = *state;
  std::string identity_problem;
  std::weak_ptr<const RuleSet> previous = s.rules.load();
  RuleLoad load = co_await net::co_spawn(
      reload_pool,
      [this, &s, &identity_problem]() -> net::awaitable<RuleLoad> {
        // The users and groups files first: they are cheap, and independent of the rules.
        identity_problem = s.identity->reload();
        RuleLoad result = s.bundles ? reload_bundle() : s.loader.load();
        if (result.ok()) s.rules.store(result.ruleset);
        co_return result;
      },
      use_awaitable);
  if (!identity_problem.empty())
    spdlog::error("identity files not reloaded; still using the previous ones:\n{}", identity_problem);
  else if (!s.config.identity.users_file.empty() || !s.config.identity.groups_file.empty())
    spdlog::info("identity files reloaded");
  report_load(load, std::move(previous), "");
  co_return load;
}

void GatewayServer::Impl::report_load(const RuleLoad& load, std::weak_ptr<const RuleSet> previous, std::string_view from) {
  server::ServerState& s = *state;
  if (load.ok()) {
    if (previous.lock() != load.ruleset) net::co_spawn(reload_pool, return_freed_memory(std::move(previous)), net::detached);
    // "rules reloaded" is what operators and the package test look for in the journal.
    spdlog::info("rules reloaded{}: version {}{} ({} rules, {} examples passed{})", from, load.ruleset->version().substr(0, 12),
                 load.ruleset->bundle().empty() ? std::string() : ", bundle " + load.ruleset->bundle(),
                 load.ruleset->rules().size(), load.examples_run, load.examples_remembered ? " before, with this build" : "");
    s.metrics.ruleset_loaded(load.ruleset->version(), true);
    warm_scanners(load.ruleset);
  } else {
    auto active = s.rules.load();
    spdlog::error("rule reload{} refused; still serving {}:\n{}", from, active ? active->version().substr(0, 12) : "nothing",
                  load.error_text());
    s.metrics.ruleset_loaded(active ? active->version() : "", false);
  }
}

RuleLoad GatewayServer::Impl::try_bundle(const BundleCandidate& candidate) {
  server::ServerState& s = *state;
  RuleLoad load = bundle_loader(candidate.bundle, s.loader.cache_dir()).load();
  if (!load.ok()) {
    spdlog::error("rule bundle refused; still serving {}: {}",
                  s.bundles->served_version().empty() ? "no bundle" : "bundle " + s.bundles->served_version(),
                  s.bundles->refuse(candidate, load.error_text()));
    s.metrics.rules_bundle_refused();
    return load;
  }
  try {
    s.bundles->accept(candidate);
  } catch (const std::exception& e) {
    spdlog::error("rule bundle {} serves, but is not kept for the next start: {}", candidate.bundle.version, e.what());
  }
  s.metrics.rules_bundle_served(candidate.bundle.version);
  spdlog::info("rule bundle {} (created {}, signed by key {}) from {}", candidate.bundle.version, candidate.bundle.created,
               candidate.bundle.signed_by, candidate.origin);
  return load;
}

std::optional<RuleLoad> GatewayServer::Impl::poll_bundles() {
  server::ServerState& s = *state;
  BundlePoll poll = s.bundles->poll();
  const std::string served = s.bundles->served_version();
  for (const auto& refusal : poll.refusals) {
    spdlog::error("rule bundle refused; still serving {}: {}", served.empty() ? "no bundle" : "bundle " + served, refusal);
    s.metrics.rules_bundle_refused();
  }
  if (poll.unreachable != unreachable_logged) {
    if (!poll.unreachable.empty())
      spdlog::warn("rule bundle source unreachable (still serving {}): {}", served.empty() ? "no bundle" : "bundle " + served,
                   poll.unreachable);
    else
      spdlog::info("rule bundle source reachable again: {}", s.bundles->where());
    unreachable_logged = poll.unreachable;
  }
  if (!poll.candidate) {
    if (!poll.refusals.empty()) {
      RuleLoad refused;
      for (const auto& refusal : poll.refusals) {
        Diagnostic d;
        d.message = refusal;
        refused.diagnostics.push_back(std::move(d));
      }
      return refused;
    }
    return std::nullopt;
  }
  return try_bundle(*poll.candidate);
}

RuleLoad GatewayServer::Impl::reload_bundle() {
  server::ServerState& s = *state;
  if (std::optional<RuleLoad> polled = poll_bundles()) return std::move(*polled);
  RuleLoad current;
  current.ruleset = s.rules.load();
  if (!current.ruleset) {
    Diagnostic none;
    none.message = s.bundles->problem();
    current.diagnostics.push_back(std::move(none));
  }
  return current;
}

void GatewayServer::Impl::start_from_bundle() {
  server::ServerState& s = *state;
  // The last good bundle first: it sets the floor, so a source replaying an older signed bundle
  // cannot roll a restarted gateway back; then the source, for anything newer.
  std::optional<RuleLoad> load;
  if (std::optional<BundleCandidate> kept = s.bundles->last_good()) {
    load = try_bundle(*kept);
    if (load->ok()) spdlog::info("rules: starting on the last good bundle {}", kept->bundle.version);
  }
  if (std::optional<RuleLoad> polled = poll_bundles(); polled && (polled->ok() || !load || !load->ok()))
    load = std::move(polled);
  if (load && load->ok()) {
    s.rules.store(load->ruleset);
    s.metrics.ruleset_loaded(load->ruleset->version(), true);
    spdlog::info("rules: version {}, bundle {} ({} rules in {} packs, {} examples passed{}{})",
                 load->ruleset->version().substr(0, 12), load->ruleset->bundle(), load->ruleset->rules().size(),
                 load->ruleset->packs().size(), load->examples_run, load->examples_remembered ? " before, with this build" : "",
                 load->ruleset->loaded_from_cache() ? ", from cache" : "");
    return;
  }
  if (load && s.bundles->served_version().empty())
    s.bundles->set_problem("the bundle from " + s.bundles->where() + " was refused and there is no last good bundle");
  else if (!unreachable_logged.empty())
    s.bundles->set_problem(s.bundles->problem() + "; " + unreachable_logged);
  spdlog::error("rules: no rule bundle can be served ({}); AI traffic is refused until one verifies (polling every {} s)",
                s.bundles->problem(), std::chrono::duration_cast<std::chrono::seconds>(s.config.rules.bundle.poll_interval).count());
}

// The bundle source is polled every rules.bundle.poll_interval on the reload thread; the timer runs
// on the main worker, and each poll is queued behind any reload in progress.
void GatewayServer::Impl::schedule_bundle_poll() {
  bundle_timer->expires_after(state->config.rules.bundle.poll_interval);
  bundle_timer->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    net::co_spawn(
        workers[0]->ioc,
        [this]() -> net::awaitable<void> {
          server::ServerState& s = *state;
          std::weak_ptr<const RuleSet> previous = s.rules.load();
          std::optional<RuleLoad> load = co_await net::co_spawn(
              reload_pool,
              [this, &s]() -> net::awaitable<std::optional<RuleLoad>> {
                std::optional<RuleLoad> result = poll_bundles();
                if (result && result->ok()) s.rules.store(result->ruleset);
                co_return result;
              },
              use_awaitable);
          // Refusals were logged and counted by poll_bundles; only a swap is reported here.
          if (load && load->ok()) report_load(*load, std::move(previous), " from the bundle source");
          schedule_bundle_poll();
        },
        net::detached);
  });
}

// Once the rule set a reload replaced is gone (the workers' scanners and the requests in flight
// drop it within seconds), gives the pages it held back to the system. A set is tens of MB of
// Hyperscan databases and RE2 programs; glibc keeps freed pages of that size in its arenas, so
// without this RSS steps up at each of the first reloads and never comes back (the soak showed
// +33 MB per reload with the heap in use flat). Polls on the reload thread, which is idle between
// reloads; gives up after five minutes (a request stuck that long still holds the set).
net::awaitable<void> GatewayServer::Impl::return_freed_memory(std::weak_ptr<const RuleSet> previous) {
  net::steady_timer timer(co_await net::this_coro::executor);
  for (int second = 0; second < 300 && !previous.expired(); ++second) {
    timer.expires_after(std::chrono::seconds(1));
    boost::system::error_code ec;
    co_await timer.async_wait(net::redirect_error(use_awaitable, ec));
    if (ec) co_return;  // shutting down
  }
  if (previous.expired()) malloc_trim(0);
}

// Answers a review-page request on the review thread, and logs what officers did (never a note).
// `request` lives in the caller's frame until this returns: only references cross into the pool.
net::awaitable<audit::ReviewResponse> GatewayServer::Impl::review(const audit::ReviewRequest& request) {
  audit::ReviewSite& site = *state->review;
  audit::ReviewResponse response = co_await net::co_spawn(
      review_pool, [&site, &request]() -> net::awaitable<audit::ReviewResponse> {
        co_return site.handle(request);
      },
      use_awaitable);
  if (response.activity) {
    const auto& a = *response.activity;
    using Kind = audit::ReviewActivity::Kind;
    if (a.kind == Kind::triage)
      spdlog::info("review: officer '{}' from {} set event {} to {}", a.officer, a.client, a.event_id, a.state);
    else if (a.kind == Kind::login || a.kind == Kind::logout)
      spdlog::info("review: {} of officer '{}' from {}", audit::to_string(a.kind), a.officer, a.client);
    else
      spdlog::warn("review: {} for name '{}' from {}", audit::to_string(a.kind), a.officer, a.client);
  }
  if (!response.problem.empty()) spdlog::error("review page: {}", response.problem);
  co_return response;
}

namespace {

// The addresses `name` resolves to now; nullopt when it does not resolve.
std::optional<std::vector<IpAddress>> resolve(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(name.c_str(), nullptr, &hints, &result) != 0) return std::nullopt;
  std::vector<IpAddress> out;
  for (const addrinfo* r = result; r; r = r->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (r->ai_family == AF_INET)
      inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(r->ai_addr)->sin_addr, text, sizeof text);
    else if (r->ai_family == AF_INET6)
      inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(r->ai_addr)->sin6_addr, text, sizeof text);
    if (auto address = IpAddress::parse(text)) out.push_back(*address);
  }
  freeaddrinfo(result);
  return out;
}

}  // namespace

// Resolves every inspected or unapproved host now and then every destinations.ai_address_refresh,
// and swaps in a new snapshot each round. A host that fails to resolve keeps its last answer: a DNS
// outage never empties the map (which would let a CONNECT to an AI address through).
void GatewayServer::Impl::resolve_ai_addresses() {
  server::ServerState& s = *state;
  const auto hosts = AiAddressMap::hosts_to_resolve(s.catalog);
  std::map<std::string, std::vector<IpAddress>, std::less<>> last_good;
  bool first = true;
  for (;;) {
    size_t failed = 0;
    for (const auto& host : hosts) {
      {
        std::lock_guard lock(address_mutex);
        if (address_stop) return;
      }
      if (auto literal = parse_host(host.name); literal && literal->is_ip_literal()) continue;
      if (auto addresses = resolve(host.name)) last_good[host.name] = std::move(*addresses);
      else ++failed;
    }
    auto map = std::make_shared<const AiAddressMap>(AiAddressMap::build(s.catalog, last_good));
    const size_t count = map->size();
    s.ai_addresses.store(std::move(map));
    if (first || failed > 0)
      spdlog::log(failed > 0 ? spdlog::level::warn : spdlog::level::info,
                  "AI service addresses: {} from {} hosts ({} did not resolve; their last addresses are kept)", count,
                  hosts.size(), failed);
    first = false;
    std::unique_lock lock(address_mutex);
    if (address_wake.wait_for(lock, s.config.destinations.ai_address_refresh, [this] { return address_stop; })) return;
  }
}

net::awaitable<void> GatewayServer::Impl::accept_loop(Listening& listening) {
  for (;;) {
    boost::system::error_code ec;
    if (listening.admin) {
      tcp::socket socket = co_await listening.acceptor->async_accept(net::redirect_error(use_awaitable, ec));
      if (ec == net::error::operation_aborted) co_return;
      if (ec) continue;
      net::co_spawn(
          socket.get_executor(),
          server::serve_admin(*state, std::move(socket), [this]() { return reload(); },
                              [this](const audit::ReviewRequest& request) { return review(request); }),
          net::detached);
      continue;
    }
    // Each connection goes to the next worker and lives there.
    server::Worker& worker = pick_worker();
    tcp::socket socket = co_await listening.acceptor->async_accept(worker.ioc, net::redirect_error(use_awaitable, ec));
    if (ec == net::error::operation_aborted) co_return;
    if (ec) {
      // Out of file descriptors and the like: log, breathe, go on.
      spdlog::warn("accept on {}: {}", listening.name, ec.message());
      net::steady_timer pause(co_await net::this_coro::executor, std::chrono::milliseconds(50));
      co_await pause.async_wait(net::redirect_error(use_awaitable, ec));
      continue;
    }
    if (listening.kind == ListenerKind::transparent)
      net::co_spawn(worker.ioc, server::serve_transparent(*state, worker, std::move(socket), transparent), net::detached);
    else
      net::co_spawn(worker.ioc, server::serve_client(*state, worker, std::move(socket), listening.kind), net::detached);
  }
}

GatewayServer::GatewayServer(GatewayConfig config) : impl_(std::make_unique<Impl>()) {
  Impl& impl = *impl_;
  impl.state = std::make_unique<server::ServerState>(std::move(config));
  server::ServerState& s = *impl.state;
  const GatewayConfig& cfg = s.config;

  if (s.bundles) {
    // A bundle source that cannot be reached or has no valid bundle does not stop the start: the
    // last good bundle serves, or none (AI traffic refused, /readyz says why) until one verifies.
    impl.start_from_bundle();
  } else {
    RuleLoad load = s.loader.load();
    if (!load.ok()) throw std::runtime_error("the rule packs cannot be served:\n" + load.error_text());
    s.rules.store(load.ruleset);
    s.metrics.ruleset_loaded(load.ruleset->version(), true);
    spdlog::info("rules: version {} ({} rules in {} packs, {} examples passed{}{})", load.ruleset->version().substr(0, 12),
                 load.ruleset->rules().size(), load.ruleset->packs().size(), load.examples_run,
                 load.examples_remembered ? " before, with this build" : "",
                 load.ruleset->loaded_from_cache() ? ", from cache" : "");
  }

  unsigned threads = cfg.threads ? cfg.threads : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < threads; ++i) impl.workers.push_back(std::make_unique<server::Worker>());
  if (auto rules = s.rules.load()) impl.warm_scanners(rules);

  auto bind = [&](const Endpoint& endpoint, ListenerKind kind, bool admin, std::string name) {
    boost::system::error_code ec;
    auto address = net::ip::make_address(endpoint.host, ec);
    tcp::endpoint ep;
    if (ec) {
      tcp::resolver resolver(impl.workers[0]->ioc);
      auto results = resolver.resolve(endpoint.host, std::to_string(endpoint.port), ec);
      if (ec || results.empty())
        throw std::runtime_error("cannot listen on " + endpoint.to_string() + ": cannot resolve " + endpoint.host);
      ep = results.begin()->endpoint();
    } else {
      ep = tcp::endpoint(address, endpoint.port);
    }
    auto acceptor = std::make_unique<tcp::acceptor>(impl.workers[0]->ioc);
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(net::socket_base::reuse_address(true), ec);
    if (!ec && kind == ListenerKind::transparent && cfg.transparent.tproxy) {
      // TPROXY: the listener accepts connections addressed to anyone, so it must be transparent
      // before bind.
      std::string why;
      if (!server::OriginalDestination::make_listener_transparent(acceptor->native_handle(), ep.address().is_v6(), &why))
        throw std::runtime_error("cannot listen on " + endpoint.to_string() + " (" + name + "): " + why);
    }
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(net::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on " + endpoint.to_string() + " (" + name + "): " + ec.message());
    spdlog::info("{} listening on {}", name, endpoint.to_string());
    impl.listeners.push_back({kind, admin, std::move(acceptor), std::move(name)});
  };
  if (cfg.gateway_listen) bind(*cfg.gateway_listen, ListenerKind::gateway, false, "base-URL gateway");
  if (cfg.proxy_listen) bind(*cfg.proxy_listen, ListenerKind::proxy, false, "forward proxy");
  if (cfg.transparent_listen) {
    bind(*cfg.transparent_listen, ListenerKind::transparent, false,
         cfg.transparent.tproxy ? "transparent listener (TPROXY)" : "transparent listener (REDIRECT)");
    impl.transparent.tproxy = cfg.transparent.tproxy;
    // The loop guard refuses a redirected connection addressed to any of these on this host.
    for (const auto* e : {&cfg.gateway_listen, &cfg.proxy_listen, &cfg.transparent_listen, &cfg.admin.listen})
      if (*e) impl.transparent.own_ports.push_back((*e)->port);
  }
  if (cfg.admin.listen) {
    if (s.admin_token.empty()) {
      s.admin_token = server::random_admin_token();
      // A secret never goes into a log (logs are shipped and read by many): the operator reads it
      // from a file only this user may read.
      const std::filesystem::path dir = default_state_dir();
      if (const std::string where = dir.empty() ? std::string() : server::write_generated_token(dir, s.admin_token);
          !where.empty())
        spdlog::warn("admin.token is not set: this run's token for /metrics, /rules and /reload is in {} (mode 0600)",
                     where);
      else
        spdlog::warn("admin.token is not set and no state directory is writable: /metrics, /rules and /reload "
                     "cannot be used this run (set admin.token or admin.token_file)");
    }
    bind(*cfg.admin.listen, ListenerKind::gateway, true, "admin");
  }
  if (cfg.identity.proxy_auth != ProxyAuthMode::off)
    spdlog::info("proxy authentication {} (realm \"{}\")",
                 cfg.identity.proxy_auth == ProxyAuthMode::required ? "required" : "optional", cfg.identity.realm);
  if (s.ca)
    spdlog::info("TLS interception on: leaves signed by the organisation CA, valid {} h", cfg.tls.leaf_validity.count());
  else if (cfg.proxy_listen)
    spdlog::warn("TLS interception off: {}; CONNECT to AI services will be refused", s.interception_off);
  if (!s.ca && cfg.transparent_listen)
    spdlog::warn("TLS interception off: {}; redirected TLS to AI services will be closed", s.interception_off);
  // The officers' review page, on the admin listener (its index beside the trail).
  audit::OfficerAuthOptions officers;
  for (const auto& o : cfg.audit.review.officers) officers.officers.push_back({o.name, o.password_hash});
  officers.session_lifetime = cfg.audit.review.session_lifetime;
  // What the pages read: this trail's SQLite index, or the fleet's central store
  // (audit.central.review), opened on the first page so an unreachable server fails pages, not
  // the start.
  audit::ReviewSite::StoreOpener open_store;
  if (cfg.audit.central.review && cfg.audit.central.enabled()) {
    const std::string password =
        cfg.audit.central.password_file.empty() ? "" : central::read_password_file(cfg.audit.central.password_file);
    open_store = [conninfo = central::make_conninfo(cfg.audit.central.url, password), gateway = cfg.fleet.gateway_id,
                  province = cfg.fleet.province, zone = cfg.audit.review.time_zone]() -> std::unique_ptr<audit::EventStore> {
      return std::make_unique<central::CentralStore>(conninfo, gateway, province, audit::LocalTime(zone));
    };
  } else {
    open_store = [dir = s.audit->dir()]() -> std::unique_ptr<audit::EventStore> {
      return std::make_unique<audit::AuditIndex>(dir, dir / "index.sqlite");
    };
  }
  try {
    s.review = std::make_unique<audit::ReviewSite>(std::move(officers), s.audit->dir(), std::move(open_store), *s.audit,
                                                   audit::LocalTime(cfg.audit.review.time_zone));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("audit.review: ") + e.what());
  }
  if (cfg.admin.listen && s.review->enabled())
    spdlog::info("review page: http://{}/review ({} officers, {}, times in {})", cfg.admin.listen->to_string(),
                 cfg.audit.review.officers.size(),
                 cfg.audit.central.review && cfg.audit.central.enabled()
                     ? "the central store " + central::describe_target(cfg.audit.central.url)
                     : std::string("this gateway's trail"),
                 cfg.audit.review.time_zone);

  const auto health = s.audit->health();
  if (health.available)
    spdlog::info("audit trail: {} (last record {}{})", s.audit->dir().string(), health.last_seq,
                 cfg.audit.record_clean ? "; clean requests recorded too" : "");
  else
    spdlog::error("audit trail unavailable: {}; AI traffic is refused until it can be written", health.error);
}

GatewayServer::~GatewayServer() {
  if (impl_) impl_->stop_resolving();
  // Completions of events still queued post to the workers' io_contexts, which must still exist.
  // The extraction pool's answers post there too: stop it (killing and reaping its workers) first.
  if (impl_ && impl_->state) impl_->state->documents.reset();
  if (impl_ && impl_->state && impl_->state->audit) impl_->state->audit->close();
}

int GatewayServer::run() {
  Impl& impl = *impl_;
  server::ServerState& s = *impl.state;
  net::io_context& main = impl.workers[0]->ioc;

  for (auto& l : impl.listeners) net::co_spawn(main, impl.accept_loop(l), net::detached);

  net::signal_set stop_signals(main, SIGINT, SIGTERM);
  stop_signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: stopping", signal);
    s.ready = false;
    for (auto& w : impl.workers) w->ioc.stop();
  });
  net::signal_set hangup(main, SIGHUP);
  std::function<void()> wait_hangup = [&]() {
    hangup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      spdlog::info("SIGHUP: reloading rules");
      net::co_spawn(main, [&]() -> net::awaitable<void> { co_await impl.reload(); }, net::detached);
      wait_hangup();
    });
  };
  wait_hangup();

  // The trail's health, in the log as it changes (it is on /readyz always).
  net::steady_timer audit_watch(main);
  bool audit_was_available = s.audit->health().available;
  std::function<void()> watch_audit = [&]() {
    audit_watch.expires_after(std::chrono::milliseconds(500));
    audit_watch.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      const auto health = s.audit->health();
      if (health.available != audit_was_available) {
        if (health.available)
          spdlog::warn("audit trail writable again (last record {}); AI traffic flows again", health.last_seq);
        else
          spdlog::error("audit trail unavailable: {}; AI traffic is refused until it can be written", health.error);
        audit_was_available = health.available;
      }
      watch_audit();
    });
  };
  watch_audit();

  if (s.siem) s.siem->start();
  if (s.central) s.central->start();
  s.traffic_recorder->start();
  if (s.bundles) {
    impl.bundle_timer = std::make_unique<net::steady_timer>(main);
    impl.schedule_bundle_poll();
  }
  impl.address_thread = std::thread([&impl] { impl.resolve_ai_addresses(); });
  s.ready = true;
  spdlog::info("promptwall ready ({} worker threads)", impl.workers.size());
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl.workers.size(); ++i) {
    threads.emplace_back([&, i] {
      auto guard = net::make_work_guard(impl.workers[i]->ioc);
      impl.workers[i]->ioc.run();
    });
  }
  main.run();
  for (auto& w : impl.workers) w->ioc.stop();
  for (auto& t : threads) t.join();
  impl.reload_pool.join();
  impl.review_pool.join();
  impl.stop_resolving();
  s.documents.reset();  // no worker process outlives the gateway
  s.identity->stop();
  if (s.siem) s.siem->stop();
  // The last traffic counts go into the trail before the central shipper stops (the next start ships them).
  s.traffic_recorder->stop();
  if (s.central) s.central->stop();
  s.audit->close();  // commits what is queued, then a final checkpoint
  return 0;
}

}  // namespace promptwall::gateway
