// Exchange: one request as it goes through a ClientSession, and its record once answered:
// metrics, the operational log line and the decisions-log line. No Beast here.
//
// Invariant: nothing recorded holds request content; the path is logged without its query
// (queries can carry API keys), findings by rule id, category and location only.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "gateway/block_response.h"
#include "gateway/decision_log.h"
#include "gateway/gateway_metrics.h"
#include "gateway/request_inspector.h"
#include "gateway/service.h"
#include "rules/ruleset.h"

namespace promptwall::gateway::server {

// Where the client connection came from and what it is: decides how requests are routed.
struct Origin {
  enum class Kind { gateway, proxy, intercepted };
  Kind kind = Kind::gateway;
  std::string client;                  // "ip:port" of the client
  const Service* service = nullptr;    // intercepted: the service of the CONNECT host
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

  std::string verdict() const {
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


// Counts the exchange in `metrics`, logs one line, and appends its decision to `decisions` (when on).
void record(GatewayMetrics& metrics, DecisionLog* decisions, const Origin& origin, const Exchange& ex);

}  // namespace promptwall::gateway::server
