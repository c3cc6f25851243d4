// Internal to gateway/server/: a file upload's steps around the gate and the relay (the pure
// pieces are in gateway/uploads/, README.md there). Beast-free.
//
//   begin_upload(request)        which step (UploadStep); Google chunks kept in the UploadStore;
//                                an OpenAI complete or a Google finalize assembles the file, which
//                                the gate reads as this request's file ("upload"); a piece is not
//                                read alone (UploadPieces)
//   ─► decide_and_record(...)    the gate, as for any request (files read in the sandbox)
//   ─► relay, with learn_from_answer() as the relay's AnswerHook when the step has ids to learn:
//                                an OpenAI part's id (its bytes go into the store), a file's id
//                                (its verdict into the FileRegistry, so a later request citing it
//                                is judged by it), ChatGPT's announced blob path, and Google's
//                                upload URL pointed back at the base-URL gateway.
//
// Invariants: a piece is forwarded only after it is kept (Google) or kept only once the upstream
// acknowledged it (OpenAI: the part id comes from the answer); the step that makes a file usable
// upstream (complete, finalize) leaves only after the whole file passed the gate. A step whose ids
// cannot be read, or an upload the store cannot assemble, is refused here, before the gate.
// Threads: called on the connection's worker; the store and the registry lock for themselves.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "gateway/adapters/block_response.h"
#include "gateway/adapters/request_inspector.h"
#include "gateway/uploads/upload_step.h"

namespace promptwall::gateway::server {

struct ServerState;

struct UploadFlow {
  UploadStep step;
  UploadPieces pieces = UploadPieces::none;
  std::optional<CarriedFile> completed;  // the assembled file this request completes
  std::optional<Refusal> refusal;        // set: refuse before the gate
  std::string note;                      // English, for the log (never ids or bytes)
  // The gateway's own base for the service ("http://gw:8080/gemini") when the client came through
  // the base-URL gateway: a Google upload URL is pointed back there. Empty otherwise.
  std::string gateway_base;
  // The file name this step gives for the upload it opens (OpenAI create's `filename`, Google
  // start's `displayName`, ChatGPT announce's `file_name`): remembered under the id the answer
  // names (UploadNames). And the name an earlier step gave the file this request carries whole
  // (a ChatGPT blob PUT), for the inspector.
  std::string opened_name;
  std::string body_file_name;

  bool learns_from_answer() const;
};

// Before the gate. `headers` looks up the request's header fields; `body` is the body as received.
UploadFlow begin_upload(ServerState& state, const Service& service, std::string_view method,
                        std::string_view schema_path, const HeaderLookup& headers, std::string_view body,
                        std::string gateway_base, std::string_view request_id);

// After a forwarded request's answer (any status; only 2xx teach anything). `inspection` is the
// gate's. Returns the X-Goog-Upload-URL to send the client instead of the upstream's, if any; ""
// means remove it (through the base-URL gateway, a URL that cannot be pointed back at the gateway
// must not reach the client, or its chunks would bypass the gateway).
std::optional<std::string> learn_from_answer(ServerState& state, const Service& service, const UploadFlow& flow,
                                             const Inspection* inspection, unsigned status,
                                             const HeaderLookup& answer_headers, std::string_view answer_body);

}  // namespace promptwall::gateway::server
