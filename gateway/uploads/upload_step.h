// UploadStep: which step of which API's file upload a request is, and the ids it carries, read
// from its method, path and headers alone (never the body), so that the gateway can decide what
// to do with the body before reading it as text: a whole file to scan, a piece of a file to keep
// until the rest arrives (UploadStore), or the moment a file becomes usable upstream.
//
// What is recognised, as the official SDKs send it (tests/unit/upload_step_test.cpp records each
// shape with the SDK source it was read from):
//   OpenAI (schema openai; paths under /v1, or Azure OpenAI's /openai and /openai/v1):
//     POST /v1/files                      file_create      multipart: `file` part + `purpose`
//     POST /v1/uploads                    upload_create    JSON {bytes, filename, mime_type, purpose}
//     POST /v1/uploads/{id}/parts         upload_part      multipart: `data` part; id = upload id
//     POST /v1/uploads/{id}/complete      upload_complete  JSON {part_ids, md5?}; id = upload id
//     POST /v1/uploads/{id}/cancel        upload_cancel    no body; id = upload id
//   Anthropic (schema anthropic):
//     POST /v1/files                      file_create      multipart: `file` part
//   Google's upload protocol (Gemini API, and the Gemini app's upload host), by its headers
//   whatever the service's schema (Google's upload hosts are configured with schema json):
//     X-Goog-Upload-Protocol: resumable + X-Goog-Upload-Command: start      resumable_start
//         (POST; the body is JSON metadata; declared_size from X-Goog-Upload-Header-Content-Length)
//     X-Goog-Upload-Command naming `upload` and/or `finalize` (POST or PUT)  resumable_chunk
//         id = the session key: the `upload_id` query parameter, or the path without its query
//         when there is none; offset = X-Goog-Upload-Offset; finalize when the command says so.
//         The SDK sends no X-Goog-Upload-Protocol on chunks, and Content-Type: application/json
//         (its default header) over the file's raw bytes: never read a chunk as JSON.
//     X-Goog-Upload-Command: cancel                                          resumable_cancel
//     X-Goog-Upload-Protocol: multipart (POST; multipart/related: JSON metadata + the file) multipart_upload
//     X-Goog-Upload-Protocol: raw (POST; the body is the file)                             raw_upload
//   ChatGPT web (schema chatgpt_web; as observed in the app, not a published API):
//     POST /backend-api/files             chatgpt_file_announce  JSON {file_name, file_size, use_case, ...}
//     POST /backend-api/files/{id}/uploaded  chatgpt_file_uploaded  id = the file id
//   Azure Blob Storage's Put Blob (where ChatGPT web PUTs the bytes: *.oaiusercontent.com,
//   *.blob.core.windows.net), by its required `x-ms-blob-type` header whatever the schema:
//     PUT {blob path}?{SAS query}         blob_put         id = the path without its query
//   anything else                         none
// A request that is one of these steps but whose id or offset cannot be read (an empty or
// over-long id, an offset that is not a decimal number, a command naming nothing known) is
// `malformed`, with `error` saying why: the gateway cannot key its bytes and should refuse it.
//
// Ids are taken as sent, percent-decoded once (the SDKs percent-encode path parameters); a path
// used as a key (a session or blob path) is kept as sent; either is at most 256 bytes of printable
// ASCII, else the step is malformed. Paths compare case-sensitively, as the upstreams
// route them; the query is ignored except where named above.
//
// Threads: pure function, no state. Errors: values only; nothing throws beyond std::bad_alloc.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/catalog/service.h"

namespace promptwall::gateway {

// A request header's value by name, compared case-insensitively (Beast's fields are); nullopt when
// absent. The view must stay valid while the call that was given the lookup runs.
using HeaderLookup = std::function<std::optional<std::string_view>(std::string_view name)>;

struct UploadStep {
  enum class Kind : uint8_t {
    none,
    file_create,            // OpenAI, Anthropic: the whole file in one multipart request
    upload_create,          // OpenAI: an Upload announced (no bytes)
    upload_part,            // OpenAI: a part's bytes (multipart `data`)
    upload_complete,        // OpenAI: the parts become a file, in the order part_ids lists them
    upload_cancel,          // OpenAI
    resumable_start,        // Google: a resumable session asked for (metadata only)
    resumable_chunk,        // Google: bytes at an offset, possibly finalizing the file
    resumable_cancel,       // Google
    multipart_upload,       // Google: metadata and the whole file in one multipart/related body
    raw_upload,             // Google: the whole file as the body
    chatgpt_file_announce,  // ChatGPT web: a file announced; the answer names its blob upload URL
    chatgpt_file_uploaded,  // ChatGPT web: the app says the blob PUT is done
    blob_put,               // Azure Put Blob: the whole file as the body
    malformed,              // one of the above, but its ids or offset cannot be read (`error`)
  };
  Kind kind = Kind::none;
  // upload_part, upload_complete, upload_cancel: the OpenAI upload id ("upload_abc");
  // resumable_chunk, resumable_cancel: the session key; chatgpt_file_uploaded: the file id;
  // blob_put: the blob's path ("/files/00000000-2554-…/raw"). Empty otherwise.
  std::string id;
  uint64_t offset = 0;                  // resumable_chunk: X-Goog-Upload-Offset
  bool carries_bytes = false;           // resumable_chunk: the command names `upload`
  bool finalize = false;                // resumable_chunk: the command names `finalize`
  std::optional<uint64_t> declared_size;  // resumable_start: X-Goog-Upload-Header-Content-Length
  std::string error;                    // malformed: English, no ids or content

  bool is_upload() const { return kind != Kind::none; }
};

std::string_view to_string(UploadStep::Kind k);  // "upload_part": logs, metrics, audit notes

// `path` is the request target after the service prefix, with its query
// ("/v1/uploads/upload_abc/parts", "/upload/v1beta/files?upload_id=x&upload_protocol=resumable").
UploadStep classify_upload(Schema schema, std::string_view method, std::string_view path, const HeaderLookup& headers);

// The session key a Google resumable chunk sent to `path_and_query` carries (UploadStep::id): its
// `upload_id` query parameter, percent-decoded, or else the path without its query; nullopt when
// it has no readable one (upload_id twice or empty). upload_responses.h reads the start answer's
// X-Goog-Upload-URL with it, so both ends key the session alike.
std::optional<std::string> resumable_session_key(std::string_view path_and_query);

}  // namespace promptwall::gateway
