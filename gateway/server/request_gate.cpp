#include "gateway/server/request_gate.h"

#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

#include "gateway/server/audit_events.h"

namespace promptwall::gateway::server {

namespace {

GateDecision refused(Exchange& ex, Refusal refusal) {
  ex.refusal = refusal;
  return GateDecision{std::move(refusal), {}, false};
}

// A path segment that holds a finding (adapters/head_segments.h) is recorded as "[*]": the path
// goes into the audit event and the log line, which never carry what was found.
void withhold_found_path_segments(Exchange& ex) {
  const Inspection& in = *ex.inspection;
  std::vector<std::string_view> found;
  for (const auto& f : in.findings) {
    const Segment& segment = in.segments[f.segment];
    if (f.segment >= in.first_head_segment && segment.location.starts_with("path[")) found.push_back(segment.text);
  }
  if (!found.empty()) ex.path = withhold_path_segments(ex.path, found);
}

}  // namespace

std::optional<Inspection> inspect_for_requester(ServerState& state, Worker& worker, const Origin& origin,
                                                InspectionRequest request, const Exchange& ex) {
  const RequesterScopes scopes = state.scopes.for_requester(origin.identity);
  request.scope_layers = scopes.layers;
  request.hidden_packs = scopes.hidden_packs;
  try {
    Scanner& scanner = worker.scanner.for_rules(ex.rules);
    return state.inspector.inspect(request, scanner, state.base_layers, ex.request_id);
  } catch (const std::exception& e) {
    spdlog::error("{} inspection failed: {}", ex.request_id, e.what());
    return std::nullopt;
  }
}

net::awaitable<GateDecision> decide_and_record(ServerState& state, Worker& worker, const Origin& origin, Exchange& ex,
                                               Outgoing out) {
  GateDecision decision;
  decision.body = std::move(out.body);
  if (!out.service) co_return decision;

  if (out.service->inspect) {
    if (!ex.rules) co_return refused(ex, Refusal::because(Refusal::Reason::internal_error, ex.request_id));
    InspectionRequest in{out.service, out.schema_path, out.content_type, out.content_encoding, decision.body};
    in.head = &out.head;
    ex.inspection = inspect_for_requester(state, worker, origin, in, ex);
    // Fail closed: what we could not inspect does not leave.
    if (!ex.inspection) co_return refused(ex, Refusal::because(Refusal::Reason::internal_error, ex.request_id));
    withhold_found_path_segments(ex);
    Inspection& inspection = *ex.inspection;
    if (inspection.outcome == Inspection::Outcome::refuse)
      co_return GateDecision{*inspection.refusal, {}, false};  // recorded in ex.inspection already
    if (inspection.outcome == Inspection::Outcome::forward_rewritten) {
      decision.body = std::move(inspection.body);
      decision.rewritten = true;
    }
  }

  // It leaves only once its audit event is durable.
  ex.forwarded = true;
  ex.bytes_forwarded = decision.body.size();
  if (!co_await write_event_durably(state, worker, origin, ex)) {
    ex.forwarded = false;
    ex.bytes_forwarded = 0;
    spdlog::error("{} refused: its audit event could not be made durable", ex.request_id);
    co_return refused(ex, Refusal::because(Refusal::Reason::audit_unavailable, ex.request_id, out.service->name));
  }
  co_return decision;
}

}  // namespace promptwall::gateway::server
