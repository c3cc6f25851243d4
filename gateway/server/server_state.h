// Internal to gateway/server/: what every connection of a running gateway shares, and what each
// worker thread owns. Includes Asio; only the server's own translation units see it.
//
// Threading: one io_context per worker thread ("a thread per core"). A connection lives on one
// worker for its whole life, so its coroutine never runs on two threads and needs no strand; the
// worker's scanner and upstream pool are touched only by that worker's thread. Shared state is
// either immutable after start (config, catalog, TLS contexts) or internally synchronised
// (the active RuleSet, metrics, the audit writer, leaf-certificate cache).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it
#include <variant>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "audit/audit_writer.h"
#include "audit/evidence.h"
#include "audit/review_site.h"
#include "classifiers/scanner.h"
#include "extractors/sandbox/extraction_pool.h"
#include "gateway/adapters/request_inspector.h"
#include "gateway/bundles/bundle_source.h"
#include "gateway/uploads/file_registry.h"
#include "gateway/uploads/upload_names.h"
#include "gateway/uploads/upload_store.h"
#include "gateway/pseudonyms/pseudonym_vault.h"
#include "gateway/coaching/coaching_step.h"
#include "gateway/coaching/justification_token.h"
#include "gateway/coaching/override_ledger.h"
#include "gateway/catalog/ai_address_map.h"
#include "gateway/catalog/destination_guard.h"
#include "gateway/catalog/service_catalog.h"
#include "gateway/config/config.h"
#include "gateway/identity/policy_scopes.h"
#include "gateway/identity/requester_identity.h"
#include "gateway/record/gateway_metrics.h"
#include "gateway/record/traffic_counter.h"
#include "gateway/server/central_shipper.h"
#include "gateway/server/siem_shipper.h"
#include "gateway/server/traffic_recorder.h"
#include "gateway/tls/certificate_authority.h"
#include "gateway/tls/client_hello_reader.h"
#include "rules/ruleset_loader.h"

namespace promptwall::gateway::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// A connection to an upstream, plain or TLS, reusable for further requests to the same target.
struct UpstreamConnection {
  std::variant<beast::tcp_stream, TlsStream> stream;
  std::string key;  // "https://host:port"
  std::chrono::steady_clock::time_point idle_since;
};

// Idle keep-alive connections to upstreams, per worker (so no locking).
class UpstreamPool {
 public:
  static constexpr size_t kMaxIdlePerTarget = 64;
  static constexpr std::chrono::seconds kMaxIdle{30};

  std::unique_ptr<UpstreamConnection> take(const std::string& key);
  void put(std::unique_ptr<UpstreamConnection> connection);

 private:
  std::map<std::string, std::vector<std::unique_ptr<UpstreamConnection>>, std::less<>> idle_;
};

// The worker's Scanner for a RuleSet snapshot, rebuilt when the snapshot changes. Scanning is
// synchronous (no co_await inside), so one Scanner per worker is never used by two requests at once.
class ScannerSlot {
 public:
  Scanner& for_rules(const std::shared_ptr<const RuleSet>& rules);

 private:
  std::unique_ptr<Scanner> scanner_;
};

struct Worker {
  net::io_context ioc{1};
  UpstreamPool pool;
  ScannerSlot scanner;
  std::mt19937_64 random{std::random_device{}()};
};

struct ServerState {
  explicit ServerState(GatewayConfig cfg);

  const GatewayConfig config;
  const ServiceCatalog catalog;
  const RequestInspector inspector;
  // The policy layers every request starts from (the configuration's global layer).
  std::vector<const PolicyLayer*> base_layers;
  // What each requester's unit and groups change, and who the requester is.
  const PolicyScopes scopes;
  std::unique_ptr<RequesterIdentity> identity;

  std::atomic<std::shared_ptr<const RuleSet>> rules;  // null only while rules.bundle has served no bundle yet
  RuleSetLoader loader;
  // rules.bundle: where signed bundles come from and the last good one (gateway/bundles/); null when
  // the rules are pack files. Used on the reload thread (gateway_server.cpp); problem() from any.
  std::unique_ptr<BundleSource> bundles;

  GatewayMetrics metrics;
  // Where carried files are read: sandboxed worker processes (`promptwall extract-worker`), one
  // per document, `documents.workers` at once. Its own threads; the gate awaits it (request_gate).
  std::unique_ptr<extractors::sandbox::ExtractionPool> documents;
  // Uploads (gateway/uploads/, server/upload_flow.h): what the gateway learned of each file id it
  // saw uploaded, and the pieces of uploads not yet complete. Each locks for itself.
  FileRegistry files;
  UploadStore uploads;
  UploadNames upload_names;
  // Which [CCCD-n] stands for which value, per requester (gateway/pseudonyms/): in memory only,
  // shared by the workers (locks for itself); null when `pseudonyms.enabled` is false.
  std::unique_ptr<PseudonymVault> pseudonyms;
  // The coaching step (gateway/coaching/, server/request_gate): tokens signed under a key made at
  // start (no token outlives the process), the ledger of used tokens, form approvals and daily
  // counts (locks for itself), and the step that judges with both.
  const coaching::JustificationTokenSigner justification_signer =
      coaching::JustificationTokenSigner::with_random_key(config.coaching.token_lifetime);
  coaching::OverrideLedger overrides{coaching::OverrideLedger::Limits{100'000, config.coaching.daily_override_cap}};
  const coaching::CoachingStep coaching{config.coaching, justification_signer, overrides};
  // Every decided request per hour, unit and service (issue 17): declared before `audit`, whose
  // completions may put counts back into it, so it outlives the writer.
  TrafficCounter traffic;
  // The audit trail: every decision worth recording is durable here before its request leaves.
  std::unique_ptr<audit::AuditWriter> audit;
  std::unique_ptr<const audit::EvidenceMaker> evidence;
  std::unique_ptr<SiemShipper> siem;  // null when audit.siem.address is unset; stops before `audit` closes
  std::unique_ptr<CentralShipper> central;  // null when audit.central.url is unset; stops before `audit` closes
  std::unique_ptr<TrafficRecorder> traffic_recorder;  // writes `traffic` records; stops before `audit` closes
  std::unique_ptr<audit::ReviewSite> review;  // the officers' page; off (404) when no officer is configured

  // Interception: null when no organisation CA is available (`interception_off` says why).
  std::unique_ptr<CertificateAuthority> ca;
  std::string interception_off;
  ssl::context intercept_tls{ssl::context::tls_server};
  ssl::context upstream_tls{ssl::context::tls_client};
  // The transparent listener's SNI reader (OpenSSL parses; nothing is answered).
  const ClientHelloReader client_hellos;

  // Where a proxy client may not make the gateway connect (SSRF): loopback, link-local, our own
  // listeners, destinations.forbidden_networks. Built at start, immutable.
  const DestinationGuard destinations;
  // Which AI service an address belongs to, for connections that name no host (a CONNECT to an IP,
  // TLS without SNI or with ECH). Resolved in the background (gateway_server.cpp) and swapped
  // whole; null until the first round is done, and then such connections are refused (we cannot
  // tell yet whether the address is an AI service's).
  std::atomic<std::shared_ptr<const AiAddressMap>> ai_addresses;

  std::string admin_token;
  std::atomic<size_t> open_connections{0};
  std::atomic<bool> ready{false};

  std::string new_request_id(Worker& worker) const;
};

}  // namespace promptwall::gateway::server
