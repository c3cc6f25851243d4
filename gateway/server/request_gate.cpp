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
