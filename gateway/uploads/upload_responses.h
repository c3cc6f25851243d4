// UploadAnswer: what an upstream's answer to an upload step (upload_step.h) tells the gateway: the
// id of the file it made, of the Upload or part it opened, or where the bytes are to go next.
// Read from the status, headers and body the upstream sent, before they are relayed.
//
// Shapes read (each as the SDK that waits for it reads it; tests/unit/upload_responses_test.cpp):
//   file_create (OpenAI)          {"id": "file-…", "object": "file", ...}       → file_id
//   file_create (Anthropic)       {"id": "file_…", "type": "file", ...}         → file_id
//   upload_create (OpenAI)        {"id": "upload_…", "object": "upload", ...}   → upload_id
//   upload_part (OpenAI)          {"id": "part_…", "object": "upload.part", "upload_id": ...} → part_id
//   upload_complete (OpenAI)      {"id": "upload_…", "object": "upload", "status": "completed",
//                                  "file": {"id": "file-…", ...}}              → file_id
//   resumable_start (Google)      header X-Goog-Upload-URL (the SDK fails without it)
//                                 → upload_url, session_key; X-Goog-Upload-Status → upload_status
//   resumable_chunk with finalize, multipart_upload, raw_upload (Google)
//                                 {"file": {"name": "files/…", "uri": "https://…", ...}}
//                                 → file_id (the name), file_uri; X-Goog-Upload-Status
//   chatgpt_file_announce         {"status": "success", "file_id": "file-…", "upload_url": "https://…"}
//                                 → file_id, upload_url, blob_key (the URL's path, as blob_put's id)
// An answer that is not 2xx, a body over 1 MiB, JSON that is not strict (simdjson: no comments,
// trailing commas, NaN; nesting over 64), a field given twice, or of another type, or an `object`
// / `type` tag naming something else: nothing is learned (an empty UploadAnswer), never a guess.
// Threads: pure functions. Errors: values only; nothing throws beyond std::bad_alloc.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "gateway/catalog/service.h"
#include "gateway/uploads/upload_step.h"

namespace promptwall::gateway {

struct UploadAnswer {
  std::string file_id;        // as the upstream wrote it ("file-abc", "file_011C…", "files/abc")
  std::string file_uri;       // Google: the file's URI
  std::string upload_id;      // OpenAI upload_create
  std::string part_id;        // OpenAI upload_part
  std::string upload_url;     // Google resumable_start; ChatGPT announce
  std::string session_key;    // Google resumable_start: the id its chunks will carry (resumable_session_key)
  std::string blob_key;       // ChatGPT announce: upload_url's path
  std::string upload_status;  // Google: X-Goog-Upload-Status, lower case ("active", "final", "cancelled")

  bool learned() const {
    return !file_id.empty() || !upload_id.empty() || !part_id.empty() || !upload_url.empty() || !upload_status.empty();
  }
};

UploadAnswer read_upload_answer(const UploadStep& step, int status, const HeaderLookup& headers, std::string_view body);

// For the base-URL gateway: the X-Goog-Upload-URL a resumable start answered, pointed back at the
// gateway, so that the client's chunks pass through it. `gateway_base` is the gateway's external
// base for the service ("http://gw.example:8080/gemini"); the URL must be on the service's
// upstream (same scheme, host and port; its path under the upstream's base_path), and what follows
// that base path is kept with the query:
//   https://generativelanguage.googleapis.com/upload/v1beta/files?upload_id=X&upload_protocol=resumable
//   → http://gw.example:8080/gemini/upload/v1beta/files?upload_id=X&upload_protocol=resumable
// nullopt for a URL elsewhere, with userinfo or a fragment, or not http(s): relaying it unchanged
// would send the chunks around the gateway, so the caller refuses the start instead.
std::optional<std::string> rewrite_upload_url(std::string_view upload_url, const UpstreamTarget& upstream,
                                              std::string_view gateway_base);

}  // namespace promptwall::gateway
