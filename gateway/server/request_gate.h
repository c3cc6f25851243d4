// Internal to gateway/server/: the one gate every outgoing request and WebSocket message passes.
// Includes Asio.
//
//   decide_and_record(what would leave)
//     ─► inspect it as its requester (unit and group layers, scoped packs), when the service is
//        inspected ─► refuse | forward as is | forward rewritten
//     ─► the coaching step, when a finding warns or needs a justification and none blocks (enforce
//        mode; gateway/coaching/): without a valid justification the request is answered with a
//        coaching message (what was found, masked, and how to go on) and nothing leaves
//     ─► the exchange's audit event made durable (group-committed fsync), when it is for a service
//     ─► GateDecision: forward exactly `body`, or send `refusal`
//
// This is the product's one promise: nothing reaches an AI service unscanned or unrecorded. HTTP
// requests (client_session.cpp) and WebSocket messages (websocket_relay.cpp) both call it, and
// neither forwards anything it did not return.
//
// Invariants: a decision without a refusal means the audit event, when the exchange needs one, is
// durable and `ex.forwarded` is set; with a refusal nothing may leave, and the refusal is already
// recorded on the exchange (`ex.refusal`, or the inspection's own), so the caller only answers the
// client and finishes the exchange. Fails closed: no rule set, an inspection that threw, a trail
// that cannot be written all refuse.
// Threads: runs on the connection's worker; the scanner is the worker's own.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/awaitable.hpp>

#include "gateway/record/exchange.h"
#include "gateway/server/server_state.h"

namespace promptwall::gateway::server {

// What would leave: the body (or message) and what the schema needs to read it.
struct Outgoing {
  const Service* service = nullptr;  // null: not an AI service; passes unrecorded and unscanned
  std::string_view schema_path;      // the path the service's schema sees
  std::string_view content_type;
  std::string_view content_encoding;
  std::string body;
  // The request head's text (adapters/head_segments.h), scanned with the body whenever the service
  // is inspected; empty for a WebSocket message (its head was scanned at the Upgrade).
  HeadText head{};
  // An upload step (server/upload_flow.h): pieces not read alone, the file this request completes.
  UploadPieces pieces = UploadPieces::none;
  const CarriedFile* completed_upload = nullptr;
  std::string_view body_file_name = {};
  // The coaching step: the request's method (part of what a justification token is bound to), the
  // justification headers as sent (unset: absent; coaching/justification_input.h), and where the
  // client reached the service ("https://chatgpt.com", "http://gw:8080"), for the form's link.
  std::string_view method = {};
  std::optional<std::string_view> justification_token = std::nullopt;
  std::optional<std::string_view> justification_reason = std::nullopt;
  std::string justify_origin = {};
};

struct GateDecision {
  std::optional<Refusal> refusal;  // set: nothing leaves; answer the client with it
  std::string body;                // otherwise: exactly what may leave
  bool rewritten = false;          // body is the redacted text (decoded: no Content-Encoding)
  // The pseudonyms this body carries ([CCCD-1] → its value), for restoring the reply; empty for
  // most requests, whose replies are relayed untouched.
  std::vector<Pseudonym> pseudonyms = {};
};

net::awaitable<GateDecision> decide_and_record(ServerState& state, Worker& worker, const Origin& origin, Exchange& ex,
                                               Outgoing outgoing);

// Decides one body or message with the worker's scanner, as the requester of `origin`: their
// unit's and groups' layers and scoped packs apply; `documents` are the texts of the reading's
// files. nullopt when inspection threw (logged with the request id): the caller refuses, failing
// closed. decide_and_record() is its one caller.
std::optional<Inspection> inspect_for_requester(ServerState& state, Worker& worker, const Origin& origin,
                                                InspectionRequest request, BodyReading reading,
                                                std::vector<extractors::ExtractedDocument> documents, const Exchange& ex);

// Reads the files a body carries (up to files_per_request) in the sandboxed pool, all at once,
// resuming on the caller's worker when the last is read. Moves each file's bytes out of `reading`.
// documents[i] belongs to reading.files()[i]; a file that cannot be read (a data: URL that did not
// decode) is left default (decide() records its cause).
net::awaitable<std::vector<extractors::ExtractedDocument>> read_documents(ServerState& state, BodyReading& reading);

}  // namespace promptwall::gateway::server
