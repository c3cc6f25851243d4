// Exchange: one request as it goes through a ClientSession; its audit event (built here, written
// by audit::AuditWriter) and its record once answered: metrics and the operational log line.
// No Beast here.
//
// Invariants: nothing logged holds request content; the path is logged without its query
// (queries can carry API keys). The audit event holds findings by rule id, category and location,
// with masked excerpts and keyed hashes (audit::EvidenceMaker), never matched text.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "audit/event.h"
#include "audit/evidence.h"
#include "gateway/adapters/block_response.h"
#include "gateway/adapters/request_inspector.h"
#include "gateway/catalog/service.h"
#include "gateway/identity/identity.h"
#include "gateway/identity/ip_network.h"
#include "gateway/record/gateway_metrics.h"
#include "rules/ruleset.h"

namespace promptwall::gateway::server {

// Where the client connection came from and what it is: decides how requests are routed.
struct Origin {
  // transparent_http: plain HTTP the firewall redirected to the transparent listener (origin-form
  // targets, routed by their Host header).
  enum class Kind { gateway, proxy, intercepted, transparent_http };
  Kind kind = Kind::gateway;
  std::string client;                  // "ip:port" of the client
  const Service* service = nullptr;    // intercepted: the service of the CONNECT host (or the SNI)
  std::string host;                    // intercepted: the CONNECT host or SNI (lower case), for upstream_for_host()
  // Transparent connections: where the client was going. Plain HTTP for a host that is not a
  // service goes on there, untouched but for hop-by-hop headers.
  std::string original_address;        // "10.0.2.20"
  uint16_t original_port = 0;
  IpAddress address;                   // the client's address
  // Who sent the requests: from the address at connection start; per request on the gateway and
  // proxy listeners; from the CONNECT for an intercepted tunnel (its inner requests carry none).
  Identity identity;
};

struct Exchange {
  std::string request_id;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  const Service* service = nullptr;
  std::string method;
  std::string path;  // without query
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  std::shared_ptr<const RuleSet> rules;
  std::optional<Inspection> inspection;
  std::optional<Refusal> refusal;  // a refusal that did not come from the inspection
  unsigned status = 0;
  bool client_aborted = false;
  bool forwarded = false;        // the request (or its redacted version) went upstream
  uint64_t bytes_forwarded = 0;
  uint32_t pseudonyms = 0;       // labels the forwarded body carries for the reply's restoring (a count only)
  bool audited = false;          // its event was handed to the audit trail
  bool traffic_counted = false;  // counted once in the per-hour traffic counts (ServerState::traffic)
  // The coaching step (gateway/coaching/): the justification this request went on with, or the
  // token its coaching answer issued (ids only; the reason masked).
  audit::EventJustification justification;

  std::string verdict() const {
    // A coaching answer is the decision warn or justify, not forwarded (the event's reason says
    // justification_required or override_cap_reached).
    if (refusal && inspection &&
        (refusal->reason == Refusal::Reason::justification_required ||
         refusal->reason == Refusal::Reason::override_cap_reached))
      return std::string(to_string(inspection->decision.verdict));
    if (refusal || (inspection && inspection->outcome == Inspection::Outcome::refuse))
      return inspection && inspection->refusal && inspection->refusal->reason == Refusal::Reason::sensitive_content
                 ? "block"
                 : "refused";
    if (!inspection) return "allow";
    return std::string(to_string(inspection->decision.verdict));
  }
  const Refusal* any_refusal() const {
    if (refusal) return &*refusal;
    if (inspection && inspection->refusal) return &*inspection->refusal;
    return nullptr;
  }
};


// Whether the exchange becomes an audit event: everything but a clean allow, which only when
// `record_clean`. Any finding counts, so monitor-mode findings are recorded too.
bool needs_audit_event(const Exchange& ex, bool record_clean);

// The audit event of an exchange as it stands now (call it when the decision is made). `random`
// gives the event id's randomness.
audit::DecisionEvent decision_event(const Origin& origin, const Exchange& ex, const audit::EvidenceMaker& evidence,
                                    uint64_t random_high, uint64_t random_low);

// Counts the exchange in `metrics` and logs one line.
void record(GatewayMetrics& metrics, const Origin& origin, const Exchange& ex);

}  // namespace promptwall::gateway::server
