#include "gateway/server/audit_events.h"

#include <memory>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace promptwall::gateway::server {

namespace {

// Every request the gateway decided (an AI service's), once, in the per-hour traffic counts.
void count_traffic(ServerState& state, const Origin& origin, Exchange& ex) {
  if (ex.traffic_counted || !ex.service) return;
  ex.traffic_counted = true;
  state.traffic.add(audit::Clock::now(), origin.identity.unit, ex.service->name,
                    ex.inspection && !ex.inspection->findings.empty());
}

std::string event_json(ServerState& state, Worker& worker, const Origin& origin, Exchange& ex) {
  ex.audited = true;
  const uint64_t high = worker.random(), low = worker.random();
  return audit::to_json_object(decision_event(origin, ex, *state.evidence, high, low));
}

}  // namespace

bool audit_available(const ServerState& state) { return state.audit->health().available; }

net::awaitable<bool> write_event_durably(ServerState& state, Worker& worker, const Origin& origin, Exchange& ex) {
  count_traffic(state, origin, ex);
  if (!needs_audit_event(ex, state.config.audit.record_clean)) co_return true;
  std::string object = event_json(state, worker, origin, ex);
  auto executor = co_await net::this_coro::executor;
  // The writer completes on its own thread; the coroutine resumes on its worker's thread.
  const bool durable = co_await net::async_initiate<decltype(net::use_awaitable), void(bool)>(
      [&state, executor, &object](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        state.audit->append(std::move(object), [shared, executor](bool ok) {
          net::post(executor, [shared, ok]() mutable { (*shared)(ok); });
        });
      },
      net::use_awaitable);
  co_return durable;
}

void write_event(ServerState& state, Worker& worker, const Origin& origin, Exchange& ex) {
  if (ex.audited) return;  // written already, or not a decision (a 407 asking for credentials)
  count_traffic(state, origin, ex);
  if (!needs_audit_event(ex, state.config.audit.record_clean)) return;
  std::string request_id = ex.request_id;
  // During an outage every refusal would say the same; the writer counts them for its outage record.
  const Refusal* refusal = ex.any_refusal();
  const bool quiet = refusal && refusal->reason == Refusal::Reason::audit_unavailable;
  state.audit->append(event_json(state, worker, origin, ex), [request_id, quiet](bool ok) {
    if (!ok && !quiet) spdlog::error("{} its audit event could not be written (the trail is unavailable)", request_id);
  });
}

}  // namespace promptwall::gateway::server
