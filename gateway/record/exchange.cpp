#include "gateway/record/exchange.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace promptwall::gateway::server {

bool needs_audit_event(const Exchange& ex, bool record_clean) {
  if (record_clean) return true;
  if (ex.verdict() != "allow") return true;
  return ex.inspection && !ex.inspection->findings.empty();
}

audit::DecisionEvent decision_event(const Origin& origin, const Exchange& ex, const audit::EvidenceMaker& evidence,
                                    uint64_t random_high, uint64_t random_low) {
  audit::DecisionEvent e;
  e.time = std::chrono::system_clock::now();
  uint8_t random[10];
  for (int i = 0; i < 8; ++i) random[i] = static_cast<uint8_t>(random_high >> (8 * i));
  random[8] = static_cast<uint8_t>(random_low);
  random[9] = static_cast<uint8_t>(random_low >> 8);
  e.event_id = audit::new_event_id(e.time, random);
  e.request_id = ex.request_id;
  e.client = origin.client;
  e.user = origin.identity.user;
  e.unit = origin.identity.unit;
  e.groups = origin.identity.groups;
  e.service = ex.service ? ex.service->name : "none";
  e.method = ex.method;
  e.path = ex.path;
  e.decision = ex.verdict();
  e.mode = ex.inspection ? std::string(to_string(ex.inspection->decision.mode)) : "enforce";
  if (const Refusal* refusal = ex.any_refusal()) e.reason = std::string(to_string(refusal->reason));
  e.forwarded = ex.forwarded;
  e.justification = ex.justification;
  if (ex.inspection) {
    const Inspection& in = *ex.inspection;
    for (size_t i = 0; i < in.findings.size(); ++i) {
      const Finding& f = in.findings[i].finding;
      auto it = std::find_if(e.findings.begin(), e.findings.end(),
                             [&](const audit::EventFinding& c) { return c.rule_id == f.rule_id; });
      if (it == e.findings.end()) {
        audit::EventFinding c;
        c.rule_id = f.rule_id;
        c.category = f.category;
        c.severity = std::string(to_string(f.severity));
        c.action = i < in.decision.actions.size() ? std::string(to_string(in.decision.actions[i])) : "";
        e.findings.push_back(std::move(c));
        it = e.findings.end() - 1;
      }
      ++it->count;
      const Segment& segment = in.segments[in.findings[i].segment];
      // In a document, the finer place ("file report.docx: sheet 2, cell B3").
      const std::string& location = in.findings[i].location.empty() ? segment.location : in.findings[i].location;
      if (std::find(it->locations.begin(), it->locations.end(), location) == it->locations.end())
        it->locations.push_back(location);
      if (it->evidence.size() < audit::kMaxEvidencePerRule) {
        // The segment's other findings are masked too where this one's context reaches them.
        std::vector<std::pair<size_t, size_t>> others;
        for (size_t j = 0; j < in.findings.size(); ++j)
          if (j != i && in.findings[j].segment == in.findings[i].segment)
            others.emplace_back(in.findings[j].finding.span.begin, in.findings[j].finding.span.end);
        it->evidence.push_back(evidence.make(segment.text, f.span.begin, f.span.end, location, 16, others));
      }
    }
    for (const InspectedFile& file : in.files) {
      audit::EventFile out;
      out.name = file.display_name;
      out.location = file.location;
      out.type = file.type.empty() ? "unknown" : file.type;
      out.size = file.size;
      out.sha256 = file.sha256;
      if (file.unscannable != extractors::Unscannable::none) {
        out.unscannable = std::string(extractors::to_string(file.unscannable));
        out.policy = file.policy ? std::string(to_string(*file.policy)) : "block";
      }
      out.findings = static_cast<uint32_t>(file.findings);
      e.files.push_back(std::move(out));
    }
    e.scan_ms = in.scan_seconds * 1000;
  }
  e.ruleset = ex.rules ? ex.rules->version() : "";
  e.rules_bundle = ex.rules ? ex.rules->bundle() : "";
  e.bytes_in = ex.bytes_in;
  e.bytes_forwarded = ex.bytes_forwarded;
  e.pseudonyms = ex.pseudonyms;
  e.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - ex.started).count();
  return e;
}

void record(GatewayMetrics& metrics, const Origin& origin, const Exchange& ex) {
  const double latency = std::chrono::duration<double>(std::chrono::steady_clock::now() - ex.started).count();
  const std::string service = ex.service ? ex.service->name : "none";
  const std::string verdict = ex.verdict();
  metrics.request_done(service, verdict, latency, ex.bytes_in, ex.bytes_out);
  const Refusal* refusal = ex.any_refusal();
  if (refusal) metrics.refusal(to_string(refusal->reason));
  if (ex.inspection) {
    if (!ex.inspection->segments.empty()) metrics.scan_done(ex.inspection->scan_seconds);
    for (const auto& f : ex.inspection->findings) metrics.finding(f.finding.rule_id);
    for (const auto& file : ex.inspection->files)
      metrics.file_read(file.type.empty() ? "unknown" : file.type,
                        file.unscannable == extractors::Unscannable::none ? "read" : extractors::to_string(file.unscannable),
                        file.seconds);
  }

  // Who, when known: "user@unit", "user", "@unit" (never anything the request carried unchecked).
  const Identity& who = origin.identity;
  const std::string requester = who.user.empty() && who.unit.empty() ? "" : " " + who.user + (who.unit.empty() ? "" : "@" + who.unit);
  if (verdict == "allow") {
    spdlog::debug("{} {}{} {} {} {} -> {} {:.1f} ms", ex.request_id, origin.client, requester, service, ex.method,
                  ex.path, ex.status, latency * 1000);
  } else {
    spdlog::info("{} {}{} {} {} {} -> {} {}{}{} {:.1f} ms", ex.request_id, origin.client, requester, service, ex.method,
                 ex.path, ex.status, verdict, refusal ? " " : "", refusal ? to_string(refusal->reason) : "",
                 latency * 1000);
  }
  if (ex.inspection && !ex.inspection->note.empty()) spdlog::info("{} {}", ex.request_id, ex.inspection->note);
  if (ex.client_aborted) spdlog::info("{} the client went away before the whole response", ex.request_id);
}

}  // namespace promptwall::gateway::server
