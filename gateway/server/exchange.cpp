#include "gateway/server/exchange.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace promptwall::gateway::server {

void record(GatewayMetrics& metrics, DecisionLog* decisions, const Origin& origin, const Exchange& ex) {
  const double latency = std::chrono::duration<double>(std::chrono::steady_clock::now() - ex.started).count();
  const std::string service = ex.service ? ex.service->name : "none";
  const std::string verdict = ex.verdict();
  metrics.request_done(service, verdict, latency, ex.bytes_in, ex.bytes_out);
  const Refusal* refusal = ex.any_refusal();
  if (refusal) metrics.refusal(to_string(refusal->reason));
  if (ex.inspection) {
    if (!ex.inspection->segments.empty()) metrics.scan_done(ex.inspection->scan_seconds);
    for (const auto& f : ex.inspection->findings) metrics.finding(f.finding.rule_id);
  }

  if (verdict == "allow") {
    spdlog::debug("{} {} {} {} {} -> {} {:.1f} ms", ex.request_id, origin.client, service, ex.method, ex.path,
                  ex.status, latency * 1000);
  } else {
    spdlog::info("{} {} {} {} {} -> {} {}{}{} {:.1f} ms", ex.request_id, origin.client, service, ex.method, ex.path,
                 ex.status, verdict, refusal ? " " : "", refusal ? to_string(refusal->reason) : "",
                 latency * 1000);
  }
  if (ex.inspection && !ex.inspection->note.empty()) spdlog::info("{} {}", ex.request_id, ex.inspection->note);
  if (ex.client_aborted) spdlog::info("{} the client went away before the whole response", ex.request_id);

  if (!decisions) return;
  DecisionRecord r;
  r.time = std::chrono::system_clock::now();
  r.request_id = ex.request_id;
  r.client = origin.client;
  r.service = service;
  r.method = ex.method;
  r.path = ex.path;
  r.verdict = verdict;
  r.mode = ex.inspection ? std::string(to_string(ex.inspection->decision.mode)) : "enforce";
  if (refusal) r.refusal_reason = std::string(to_string(refusal->reason));
  if (ex.inspection) {
    const Inspection& in = *ex.inspection;
    for (size_t i = 0; i < in.findings.size(); ++i) {
      const Finding& f = in.findings[i].finding;
      auto it = std::find_if(r.findings.begin(), r.findings.end(),
                             [&](const DecisionRecord::RuleCount& c) { return c.rule_id == f.rule_id; });
      if (it == r.findings.end()) {
        DecisionRecord::RuleCount c;
        c.rule_id = f.rule_id;
        c.category = f.category;
        c.severity = std::string(to_string(f.severity));
        c.action = i < in.decision.actions.size() ? std::string(to_string(in.decision.actions[i])) : "";
        r.findings.push_back(std::move(c));
        it = r.findings.end() - 1;
      }
      ++it->count;
      const std::string& where = in.segments[in.findings[i].segment].location;
      if (std::find(it->locations.begin(), it->locations.end(), where) == it->locations.end())
        it->locations.push_back(where);
    }
    r.scan_ms = in.scan_seconds * 1000;
  }
  r.ruleset_version = ex.rules ? ex.rules->version() : "";
  r.bytes_in = ex.bytes_in;
  r.bytes_out = ex.bytes_out;
  r.latency_ms = latency * 1000;
  if (!decisions->append(r)) spdlog::error("decisions log: cannot write: {}", decisions->last_error());
}

}  // namespace promptwall::gateway::server
