#include "gateway/server/request_gate.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include "audit/evidence.h"
#include "encoding/web_text.h"
#include "gateway/coaching/justification_input.h"
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

// A justification's reason as the trail may hold it: bounded, then scanned with the worker's
// scanner, and every finding's span masked as evidence masks a match (audit/evidence).
std::string recordable_reason(Scanner& scanner, std::string_view reason, size_t max_bytes) {
  const std::string bounded = coaching::bound_reason(reason, max_bytes);
  if (bounded.empty()) return bounded;
  const ScanResult scanned = scanner.scan(bounded);
  if (scanned.findings.empty()) return bounded;
  std::vector<std::pair<size_t, size_t>> spans;
  for (const auto& f : scanned.findings) spans.emplace_back(f.span.begin, f.span.end);
  return audit::masked_excerpt(bounded, spans.front().first, spans.front().second, coaching::count_chars(bounded),
                               spans);
}

// What a coaching answer shows of each warn or justify finding: its rule (id and message), its
// category and the masked excerpt the trail records; one line per rule, at most five.
std::vector<Refusal::CoachedFinding> coached_findings(const Inspection& in, const RuleSet& rules) {
  constexpr size_t kMaxShown = 5;
  std::vector<Refusal::CoachedFinding> out;
  for (size_t i = 0; i < in.findings.size() && i < in.decision.actions.size() && out.size() < kMaxShown; ++i) {
    const Action action = in.decision.actions[i];
    if (action != Action::warn && action != Action::justify) continue;
    const Finding& f = in.findings[i].finding;
    if (std::any_of(out.begin(), out.end(), [&](const auto& c) { return c.rule_id == f.rule_id; })) continue;
    Refusal::CoachedFinding c;
    c.rule_id = f.rule_id;
    c.category = f.category;
    if (f.rule_index < rules.rules().size()) {
      c.message_vi = rules.rules()[f.rule_index].rule.message_vi;
      c.message_en = rules.rules()[f.rule_index].rule.message_en;
    }
    // Masked exactly as decision_event() masks it (record/exchange.cpp): the segment's other
    // findings masked where the context reaches them.
    const Segment& segment = in.segments[in.findings[i].segment];
    std::vector<std::pair<size_t, size_t>> others;
    for (size_t j = 0; j < in.findings.size(); ++j)
      if (j != i && in.findings[j].segment == in.findings[i].segment)
        others.emplace_back(in.findings[j].finding.span.begin, in.findings[j].finding.span.end);
    c.excerpt = audit::masked_excerpt(segment.text, f.span.begin, f.span.end, 16, others);
    out.push_back(std::move(c));
  }
  return out;
}

// The coaching step (gateway/coaching/coaching_step.h) for a request that Decision::coaches():
// nullopt when it goes on (ex.justification says with what), else the answer. `body` is the body
// as received: what the token is bound to, with the method, service, path and flagged head pieces.
std::optional<Refusal> coaching_step(ServerState& state, Worker& worker, const Origin& origin, Exchange& ex,
                                     const Outgoing& out, std::string_view body) {
  Inspection& in = *ex.inspection;
  const bool justify = std::find(in.decision.actions.begin(), in.decision.actions.end(), Action::justify) !=
                       in.decision.actions.end();
  const std::string client_ip = origin.address.to_string();
  const std::string requester = coaching::requester_key(origin.identity, client_ip);
  std::vector<std::string> head_pieces;
  for (size_t s = in.first_head_segment; s < in.segments.size(); ++s) head_pieces.push_back(in.segments[s].text);
  const std::string digest = coaching::request_digest(
      {out.method, out.service->name, out.schema_path, out.content_encoding, body, head_pieces});
  const size_t max_reason = state.config.coaching.max_reason_bytes;
  Scanner& scanner = worker.scanner.for_rules(ex.rules);
  std::optional<coaching::PresentedJustification> presented;
  if (out.justification_token) {
    presented.emplace();
    presented->token = std::string(encoding::trim_ows(*out.justification_token));
    // A reason that is not readable text counts as none (justify then asks again, saying so).
    if (out.justification_reason)
      if (auto decoded = coaching::decode_reason_header(*out.justification_reason))
        presented->reason = recordable_reason(scanner, *decoded, max_reason);
  }
  const auto now = std::chrono::system_clock::now();
  coaching::CoachingResult r = state.coaching.judge(justify, origin.identity, requester, digest, presented, now);
  const std::string kind(coaching::to_string(r.kind));
  switch (r.outcome) {
    case coaching::CoachingResult::Outcome::proceed:
      ex.justification = {r.token_id, r.reason, coaching::requester_name(origin.identity, client_ip), r.via, ""};
      state.metrics.justified(kind, r.via);
      return std::nullopt;
    case coaching::CoachingResult::Outcome::not_permitted: {
      // justify acts as a block for a requester who may not justify.
      std::vector<std::string> categories;
      for (size_t i = 0; i < in.decision.actions.size(); ++i) {
        if (in.decision.actions[i] != Action::justify && in.decision.actions[i] != Action::block) continue;
        in.decision.actions[i] = Action::block;
        const std::string& c = in.findings[i].finding.category;
        if (std::find(categories.begin(), categories.end(), c) == categories.end()) categories.push_back(c);
      }
      in.decision.verdict = Verdict::block;
      Refusal blocked = Refusal::sensitive(in.rules_acting(Action::block), std::move(categories), ex.request_id);
      blocked.service = out.service->name;
      blocked.may_not_override = true;
      in.outcome = Inspection::Outcome::refuse;
      in.refusal = blocked;
      state.metrics.justification_refused("not_permitted");
      return blocked;
    }
    case coaching::CoachingResult::Outcome::over_cap:
      ex.justification.token = r.refused_token_id;
      ex.justification.refused = "over_cap";
      state.metrics.justification_refused("over_cap");
      return Refusal::because(Refusal::Reason::override_cap_reached, ex.request_id, out.service->name);
    case coaching::CoachingResult::Outcome::coach:
      break;
  }
  const CoachingConfig& config = state.config.coaching;
  Refusal::Coaching c;
  c.findings = coached_findings(in, *ex.rules);
  c.guidance_url = config.guidance_url;
  c.token = r.token;
  if (auto token = coaching::parse_justification_token(r.token))
    c.form_secret = state.justification_signer.form_secret(*token, requester);
  c.form_action = std::string(coaching::kJustifyPath);
  if (!out.justify_origin.empty())
    c.justify_url = out.justify_origin + std::string(coaching::kJustifyPath) + "?t=" + r.token;
  c.reason_required = justify;
  c.min_reason_chars = std::max<size_t>(config.min_reason_chars, 1);
  c.lifetime_minutes = static_cast<unsigned>(std::max<int64_t>(1, config.token_lifetime.count() / 60));
  if (r.problem != coaching::TokenProblem::none) {
    c.problem = std::string(coaching::to_string(r.problem));
    ex.justification.refused = c.problem;
    state.metrics.justification_refused(c.problem);
  }
  ex.justification.token = r.token_id;
  state.metrics.coaching_answer(kind);
  return Refusal::coaching_answer(std::move(c), out.service->name, ex.request_id);
}

}  // namespace

std::optional<Inspection> inspect_for_requester(ServerState& state, Worker& worker, const Origin& origin,
                                                InspectionRequest request, BodyReading reading,
                                                std::vector<extractors::ExtractedDocument> documents, const Exchange& ex) {
  const RequesterScopes scopes = state.scopes.for_requester(origin.identity);
  request.scope_layers = scopes.layers;
  request.hidden_packs = scopes.hidden_packs;
  try {
    Scanner& scanner = worker.scanner.for_rules(ex.rules);
    return state.inspector.decide(request, std::move(reading), std::move(documents), scanner, state.base_layers,
                                  ex.request_id);
  } catch (const std::exception& e) {
    spdlog::error("{} inspection failed: {}", ex.request_id, e.what());
    return std::nullopt;
  }
}

net::awaitable<std::vector<extractors::ExtractedDocument>> read_documents(ServerState& state, BodyReading& reading) {
  const size_t count = std::min<size_t>(reading.files().size(), state.inspector.files_per_request());
  std::vector<size_t> wanted;  // files that can be read (a data: URL that did not decode cannot)
  for (size_t i = 0; i < count; ++i)
    if (reading.files()[i].decoded) wanted.push_back(i);
  std::vector<extractors::ExtractedDocument> documents(count);
  if (wanted.empty()) co_return documents;
  auto executor = co_await net::this_coro::executor;
  // The files are read at once, each by its own worker; the coroutine resumes on its worker's
  // thread when the last answer is in (the pool answers each exactly once, on its own threads).
  struct Gather {
    std::mutex mutex;
    std::vector<extractors::ExtractedDocument>* out;
    size_t remaining;
  };
  co_await net::async_initiate<decltype(net::use_awaitable), void()>(
      [&](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        auto gather = std::make_shared<Gather>();
        gather->out = &documents;
        gather->remaining = wanted.size();
        for (size_t i : wanted) {
          CarriedFile& file = reading.extraction.files[i];
          state.documents->submit(std::move(file.bytes), file.name,
                                  [gather, shared, executor, i](extractors::ExtractedDocument doc) {
                                    bool last = false;
                                    {
                                      std::lock_guard lock(gather->mutex);
                                      (*gather->out)[i] = std::move(doc);
                                      last = --gather->remaining == 0;
                                    }
                                    if (last) net::post(executor, [shared]() mutable { (*shared)(); });
                                  });
        }
      },
      net::use_awaitable);
  co_return documents;
}

net::awaitable<GateDecision> decide_and_record(ServerState& state, Worker& worker, const Origin& origin, Exchange& ex,
                                               Outgoing out) {
  GateDecision decision;
  decision.body = std::move(out.body);
  if (!out.service) co_return decision;

  if (out.service->inspect) {
    if (!ex.rules) co_return refused(ex, Refusal::because(Refusal::Reason::internal_error, ex.request_id));
    InspectionRequest in{out.service, out.schema_path, out.content_type, out.content_encoding, decision.body};
    // Pseudonyms are numbered in this requester's scope and remembered for this request's reply.
    std::optional<RequestPseudonyms> pseudonyms;
    if (state.pseudonyms) {
      pseudonyms.emplace(*state.pseudonyms,
                         PseudonymVault::scope_of(origin.identity.user, origin.address.to_string(), out.service->name),
                         std::chrono::steady_clock::now());
      in.pseudonyms = &*pseudonyms;
    }
    in.head = &out.head;
    in.pieces = out.pieces;
    in.completed_upload = out.completed_upload;
    in.body_file_name = out.body_file_name;
    in.registry = &state.files;
    // Read the body; then the files it carries, in the sandbox, without blocking this worker.
    std::optional<BodyReading> reading;
    try {
      reading = state.inspector.read_body(in, ex.request_id);
    } catch (const std::exception& e) {
      spdlog::error("{} reading the body failed: {}", ex.request_id, e.what());
    }
    if (!reading) co_return refused(ex, Refusal::because(Refusal::Reason::internal_error, ex.request_id));
    std::vector<extractors::ExtractedDocument> documents;
    if (!reading->refused && !reading->files().empty()) documents = co_await read_documents(state, *reading);
    ex.inspection = inspect_for_requester(state, worker, origin, in, std::move(*reading), std::move(documents), ex);
    // Fail closed: what we could not inspect does not leave.
    if (!ex.inspection) co_return refused(ex, Refusal::because(Refusal::Reason::internal_error, ex.request_id));
    withhold_found_path_segments(ex);
    Inspection& inspection = *ex.inspection;
    if (inspection.outcome == Inspection::Outcome::refuse)
      co_return GateDecision{*inspection.refusal, {}, false};  // recorded in ex.inspection already
    if (inspection.decision.coaches())
      if (std::optional<Refusal> answer = coaching_step(state, worker, origin, ex, out, decision.body))
        co_return refused(ex, std::move(*answer));
    if (inspection.outcome == Inspection::Outcome::forward_rewritten) {
      decision.body = std::move(inspection.body);
      decision.rewritten = true;
      if (pseudonyms) decision.pseudonyms = pseudonyms->issued();
      ex.pseudonyms = static_cast<uint32_t>(decision.pseudonyms.size());
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
