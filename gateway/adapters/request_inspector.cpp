#include "gateway/adapters/request_inspector.h"

#include <algorithm>
#include <chrono>

#include "classifiers/redactor.h"
#include "gateway/adapters/body_rewriter.h"
#include "gateway/adapters/content_decoder.h"

namespace promptwall::gateway {

namespace {

bool is_identity(std::string_view encoding) {
  while (!encoding.empty() && (encoding.front() == ' ' || encoding.front() == '\t')) encoding.remove_prefix(1);
  while (!encoding.empty() && (encoding.back() == ' ' || encoding.back() == '\t')) encoding.remove_suffix(1);
  return encoding.empty() || encoding == "identity";
}

Inspection refuse(Inspection out, Refusal::Reason reason, std::string_view request_id, std::string note) {
  out.outcome = Inspection::Outcome::refuse;
  out.refusal = Refusal::because(reason, std::string(request_id));
  out.note = std::move(note);
  return out;
}

// A finding of a scoped pack none of the requester's scopes names: it does not count.
bool is_hidden(const RuleSet& rules, const Finding& f, std::span<const std::string> hidden_packs) {
  if (hidden_packs.empty() || f.rule_index >= rules.rules().size()) return false;
  const std::string& pack = rules.rules()[f.rule_index].rule.pack;
  return std::find(hidden_packs.begin(), hidden_packs.end(), pack) != hidden_packs.end();
}

}  // namespace

std::vector<std::string> Inspection::rules_acting(Action action) const {
  std::vector<std::string> ids;
  for (size_t i = 0; i < findings.size() && i < decision.actions.size(); ++i) {
    if (decision.actions[i] != action) continue;
    const std::string& id = findings[i].finding.rule_id;
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  return ids;
}

RequestInspector::RequestInspector(InspectorLimits limits)
    : limits_(limits), extractor_(ExtractorLimits{limits.max_json_depth}) {}

Inspection RequestInspector::inspect(const InspectionRequest& request, Scanner& scanner,
                                     std::span<const PolicyLayer* const> layers, std::string_view request_id) const {
  Inspection out;
  const Service& service = *request.service;

  // 1. The bytes as the client meant them.
  std::string decoded_storage;
  std::string_view body = request.body;
  const bool encoded = !is_identity(request.content_encoding);
  if (encoded) {
    DecodedBody decoded = decode_content(request.content_encoding, request.body, limits_.max_decoded_body_bytes);
    switch (decoded.status) {
      case DecodedBody::Status::ok: break;
      case DecodedBody::Status::too_large:
        return refuse(std::move(out), Refusal::Reason::body_too_large, request_id, decoded.error);
      case DecodedBody::Status::unsupported:
      case DecodedBody::Status::corrupt:
        return refuse(std::move(out), Refusal::Reason::unreadable_body, request_id, decoded.error);
    }
    decoded_storage = std::move(decoded.body);
    body = decoded_storage;
  }

  // 2. The text that leaves.
  Extraction extraction = extractor_.extract(service.schema, request.content_type, request.path, body);
  if (extraction.status == Extraction::Status::binary)
    return refuse(std::move(out), Refusal::Reason::unreadable_body, request_id,
                  "body is not text: " + extraction.error);
  if (extraction.status == Extraction::Status::unparseable) {
    if (service.unparseable == UnparseablePolicy::block || extraction.segments.empty())
      return refuse(std::move(out), Refusal::Reason::unreadable_body, request_id,
                    "body cannot be parsed: " + extraction.error);
    out.note = "body cannot be parsed (" + extraction.error + "); scanned as raw text";
  }
  out.segments = std::move(extraction.segments);

  // 3. Findings, segment by segment (each scanned whole: no matches lost at chunk edges).
  const auto scan_start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < out.segments.size(); ++i) {
    ScanResult result = scanner.scan(out.segments[i].text);
    for (auto& f : result.findings)
      if (!is_hidden(scanner.ruleset(), f, request.hidden_packs)) out.findings.push_back({std::move(f), i});
  }
  out.scan_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - scan_start).count();

  // 4. The decision: the configured layers, then the service's own, then the requester's scopes.
  std::vector<const PolicyLayer*> all_layers(layers.begin(), layers.end());
  all_layers.push_back(&service.policy);
  all_layers.insert(all_layers.end(), request.scope_layers.begin(), request.scope_layers.end());
  std::vector<Finding> plain;
  plain.reserve(out.findings.size());
  for (const auto& lf : out.findings) plain.push_back(lf.finding);
  out.decision = Policy::decide(plain, all_layers);

  if (out.decision.mode == Mode::monitor || out.decision.verdict == Verdict::allow ||
      out.decision.verdict == Verdict::warn) {
    out.outcome = Inspection::Outcome::forward;
    return out;
  }
  if (out.decision.verdict == Verdict::block) {
    std::vector<std::string> categories;
    for (size_t i = 0; i < out.findings.size(); ++i) {
      if (out.decision.actions[i] != Action::block) continue;
      const std::string& c = out.findings[i].finding.category;
      if (std::find(categories.begin(), categories.end(), c) == categories.end()) categories.push_back(c);
    }
    Refusal blocked = Refusal::sensitive(out.rules_acting(Action::block), std::move(categories), std::string(request_id));
    blocked.service = service.name;
    out.outcome = Inspection::Outcome::refuse;
    out.refusal = std::move(blocked);
    return out;
  }

  // 5. Redact: each segment with findings to redact gets its new text; one Redactor for the whole
  // request keeps [LABEL-n] numbers consistent across segments.
  Redactor redactor(scanner.ruleset());
  std::vector<std::vector<Finding>> per_segment(out.segments.size());
  for (size_t i = 0; i < out.findings.size(); ++i)
    if (out.decision.actions[i] == Action::redact) per_segment[out.findings[i].segment].push_back(out.findings[i].finding);
  std::vector<SegmentReplacement> replacements;
  for (size_t s = 0; s < out.segments.size(); ++s) {
    if (per_segment[s].empty()) continue;
    replacements.push_back({&out.segments[s], redactor.redact(out.segments[s].text, per_segment[s])});
  }
  out.body = rewrite_body(body, std::move(replacements));
  out.outcome = Inspection::Outcome::forward_rewritten;
  return out;
}

}  // namespace promptwall::gateway
