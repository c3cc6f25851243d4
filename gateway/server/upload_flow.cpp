#include "gateway/server/upload_flow.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "gateway/server/server_state.h"
#include "gateway/uploads/file_registry.h"
#include "gateway/uploads/upload_responses.h"
#include "gateway/uploads/upload_store.h"

namespace promptwall::gateway::server {

namespace {

// The store refused a piece or could not assemble the file: the file cannot be read whole, so the
// step is refused as a file not inspected, with the nearest cause.
Refusal store_refusal(UploadStore::Refusal why, std::string_view request_id) {
  using R = UploadStore::Refusal;
  const extractors::Unscannable cause = why == R::store_full || why == R::upload_too_big || why == R::too_many_pieces
                                            ? extractors::Unscannable::too_big
                                            : extractors::Unscannable::truncated;
  return Refusal::unreadable_file("upload", std::string(extractors::describe_vi(cause)),
                                  std::string(extractors::describe_en(cause)), std::string(request_id));
}

// A string at `path` in a JSON body ({"file": {"displayName": "x"}}); "" when absent or not a string.
// The body is scanned by the gate as usual; this only remembers a name to show later.
std::string json_string_at(std::string_view body, std::initializer_list<const char*> path) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  const nlohmann::json* at = &j;
  for (const char* key : path) {
    if (!at->is_object()) return {};
    const auto it = at->find(key);
    if (it == at->end()) return {};
    at = &*it;
  }
  return at->is_string() ? at->get<std::string>() : std::string();
}

// ChatGPT's blob PUT and its announce are different services (chatgpt-uploads, chatgpt-web): the
// name travels under one schema.
constexpr Schema kBlobSchema = Schema::chatgpt_web;

// OpenAI's complete: {"part_ids": ["part_…", ...], "md5": "…"}; nullopt when not that shape.
std::optional<std::vector<std::string>> part_ids_of(std::string_view body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  const auto it = j.find("part_ids");
  if (it == j.end() || !it->is_array()) return std::nullopt;
  std::vector<std::string> ids;
  for (const auto& id : *it) {
    if (!id.is_string()) return std::nullopt;
    ids.push_back(id.get<std::string>());
  }
  return ids;
}

// What the registry keeps of a file the gate read (never its text).
FileRecord record_of(const InspectedFile& file) {
  FileRecord r;
  r.sha256 = file.sha256;
  r.name = file.name;
  r.type = file.file_type;
  r.size = file.size;
  if (file.unscannable != extractors::Unscannable::none) {
    r.verdict = FileRecord::Verdict::unscannable;
    r.cause = file.unscannable;
    r.note = std::string(extractors::to_string(file.unscannable));
  } else {
    r.verdict = file.findings ? FileRecord::Verdict::findings : FileRecord::Verdict::clean;
    r.note = std::to_string(file.findings) + " findings";
  }
  return r;
}

// The file this step carried whole: the completed upload, else the body's first file.
const InspectedFile* carried_file(const Inspection* inspection) {
  if (!inspection) return nullptr;
  for (const auto& f : inspection->files)
    if (f.location == "upload") return &f;
  for (const auto& f : inspection->files)
    if (!f.sha256.empty()) return &f;
  return nullptr;
}

}  // namespace

bool UploadFlow::learns_from_answer() const {
  switch (step.kind) {
    case UploadStep::Kind::file_create:
    case UploadStep::Kind::upload_create:
    case UploadStep::Kind::upload_part:
    case UploadStep::Kind::upload_complete:
    case UploadStep::Kind::resumable_start:
    case UploadStep::Kind::resumable_chunk:
    case UploadStep::Kind::multipart_upload:
    case UploadStep::Kind::raw_upload:
    case UploadStep::Kind::chatgpt_file_announce:
    case UploadStep::Kind::blob_put:
      return true;
    default:
      return false;
  }
}

UploadFlow begin_upload(ServerState& state, const Service& service, std::string_view method,
                        std::string_view schema_path, const HeaderLookup& headers, std::string_view body,
                        std::string gateway_base, std::string_view request_id) {
  UploadFlow flow;
  flow.step = classify_upload(service.schema, method, schema_path, headers);
  flow.gateway_base = std::move(gateway_base);
  const UploadKey key{service.schema, flow.step.id};
  // The whole file of an upload this request completes, for the gate to read; or its refusal.
  auto complete = [&](UploadFlow& f, UploadStore::Assembly file) {
    if (!file.ok()) {
      f.refusal = store_refusal(file.refusal, request_id);
      f.note = "upload not assembled: " + file.error;
      return;
    }
    f.completed = CarriedFile{"upload", "", file.bytes.size(), state.upload_names.take(key), std::move(file.bytes), true};
  };
  using K = UploadStep::Kind;
  switch (flow.step.kind) {
    case K::malformed:
      flow.note = "upload step not readable: " + flow.step.error;
      flow.refusal = Refusal::because(Refusal::Reason::unsupported_request, std::string(request_id));
      break;
    case K::upload_part:
      flow.pieces = UploadPieces::files;  // kept once the upstream names the part (learn_from_answer)
      break;
    case K::upload_create:
      flow.opened_name = json_string_at(body, {"filename"});
      break;
    case K::resumable_start:
      flow.opened_name = json_string_at(body, {"file", "displayName"});
      if (flow.opened_name.empty()) flow.opened_name = json_string_at(body, {"file", "display_name"});
      break;
    case K::chatgpt_file_announce:
      flow.opened_name = json_string_at(body, {"file_name"});
      break;
    case K::blob_put:
      flow.body_file_name = state.upload_names.take(UploadKey{kBlobSchema, flow.step.id});
      break;
    case K::chatgpt_file_uploaded: {
      // The app says the blob is in place: only a file the gateway read clean may be used. The
      // blob PUT of a refused file never arrived, so this is where the app learns it failed.
      const std::optional<FileRecord> known = state.files.find(service.schema, flow.step.id);
      if (known && known->verdict == FileRecord::Verdict::clean) break;
      if (known && known->verdict == FileRecord::Verdict::findings) {
        flow.refusal = Refusal::sensitive({}, {}, std::string(request_id));
        flow.refusal->file_name = known->name.empty() ? "file" : known->name;
        flow.note = "uploaded: the file's blob had findings";
        break;
      }
      const extractors::Unscannable cause = known ? known->cause : extractors::Unscannable::unscanned_reference;
      if (service.file_policy(extractors::to_string(cause)) != FilePolicy::block) break;
      flow.refusal = Refusal::unreadable_file(known && !known->name.empty() ? known->name : "file",
                                              std::string(extractors::describe_vi(cause)),
                                              std::string(extractors::describe_en(cause)), std::string(request_id));
      flow.note = "uploaded: the file id's blob was not read clean (" + std::string(extractors::to_string(cause)) + ")";
      break;
    }
    case K::upload_complete: {
      const auto ids = part_ids_of(body);
      if (!ids) {
        flow.refusal = Refusal::because(Refusal::Reason::unreadable_body, std::string(request_id));
        flow.note = "upload complete without a part_ids list";
        break;
      }
      complete(flow, state.uploads.assemble_parts(key, *ids));
      break;
    }
    case K::resumable_chunk: {
      flow.pieces = UploadPieces::body;
      if (flow.step.carries_bytes) {
        UploadStore::Outcome kept = state.uploads.add_chunk(key, flow.step.offset, body);
        if (!kept.ok()) {
          flow.refusal = store_refusal(kept.refusal, request_id);
          flow.note = "upload chunk not kept: " + kept.error;
          break;
        }
      }
      if (flow.step.finalize) complete(flow, state.uploads.assemble_chunks(key));
      break;
    }
    case K::upload_cancel:
    case K::resumable_cancel:
      state.uploads.cancel(key);
      break;
    default:
      break;
  }
  return flow;
}

std::optional<std::string> learn_from_answer(ServerState& state, const Service& service, const UploadFlow& flow,
                                             const Inspection* inspection, unsigned status,
                                             const HeaderLookup& answer_headers, std::string_view answer_body) {
  if (status < 200 || status > 299) return std::nullopt;
  const UploadAnswer answer = read_upload_answer(flow.step, static_cast<int>(status), answer_headers, answer_body);
  using K = UploadStep::Kind;
  switch (flow.step.kind) {
    case K::upload_part:
      if (!answer.part_id.empty() && inspection && !inspection->held_files.empty()) {
        const UploadStore::Outcome kept =
            state.uploads.add_part(UploadKey{service.schema, flow.step.id}, answer.part_id, inspection->held_files.front().bytes);
        if (!kept.ok()) spdlog::warn("upload part not kept ({}): its upload cannot complete through the gateway", kept.error);
      }
      return std::nullopt;
    case K::upload_create:
      state.upload_names.remember(UploadKey{service.schema, answer.upload_id}, flow.opened_name);
      return std::nullopt;
    case K::resumable_start:
      state.upload_names.remember(UploadKey{service.schema, answer.session_key}, flow.opened_name);
      if (!flow.gateway_base.empty() && service.upstream) {
        // Through the base-URL gateway the client must send its chunks back here, not to Google.
        // A URL that cannot be pointed back is withheld (""): the SDK then fails the upload rather
        // than sending the bytes around the gateway.
        if (answer.upload_url.empty()) return std::string();
        return rewrite_upload_url(answer.upload_url, *service.upstream, flow.gateway_base).value_or(std::string());
      }
      return std::nullopt;
    case K::chatgpt_file_announce:
      if (!answer.file_id.empty() && !answer.blob_key.empty()) {
        state.files.announce(answer.blob_key, answer.file_id);
        state.upload_names.remember(UploadKey{kBlobSchema, answer.blob_key}, flow.opened_name);
      }
      return std::nullopt;
    case K::blob_put:
      if (const InspectedFile* file = carried_file(inspection)) state.files.settle_blob(flow.step.id, record_of(*file));
      return std::nullopt;
    default:
      break;
  }
  if (!answer.file_id.empty())
    if (const InspectedFile* file = carried_file(inspection)) state.files.record(service.schema, answer.file_id, record_of(*file));
  return std::nullopt;
}

}  // namespace promptwall::gateway::server
