// classify_upload (gateway/uploads/upload_step.h): which upload step a request is, from its method,
// path and headers. The request shapes are the official SDKs' (tests/e2e/node_modules):
//   openai 6.30.1              src/resources/files.ts:      post('/files', multipartFormRequestOptions(...))
//                              src/resources/uploads/uploads.ts: post('/uploads', {body}),
//                                post(path`/uploads/${id}/complete`, {body}), post(path`/uploads/${id}/cancel`)
//                              src/resources/uploads/parts.ts: post(path`/uploads/${id}/parts`, multipart `data`)
//                              (baseURL https://api.openai.com/v1; path`` percent-encodes ids)
//   @anthropic-ai/sdk 0.71.2   src/resources/beta/files.ts: post('/v1/files', multipart `file`,
//                                header anthropic-beta: files-api-2025-04-14)
//   @google/genai 1.0.0        dist/node/index.js fetchUploadUrl: POST upload/v1beta/files, headers
//                                Content-Type: application/json, X-Goog-Upload-Protocol: resumable,
//                                X-Goog-Upload-Command: start, X-Goog-Upload-Header-Content-Length,
//                                X-Goog-Upload-Header-Content-Type; body {"file": {mimeType, sizeBytes, ...}};
//                              uploadBlob / uploadFileFromPath: POST to the X-Goog-Upload-URL as is,
//                                chunks of 8 MiB, headers X-Goog-Upload-Command "upload" (then
//                                "upload, finalize" on the last), X-Goog-Upload-Offset, Content-Length,
//                                and the client's default Content-Type: application/json; no
//                                X-Goog-Upload-Protocol on chunks.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "gateway/uploads/upload_step.h"

using promptwall::gateway::classify_upload;
using promptwall::gateway::HeaderLookup;
using promptwall::gateway::resumable_session_key;
using promptwall::gateway::Schema;
using promptwall::gateway::UploadStep;
using Kind = promptwall::gateway::UploadStep::Kind;

namespace {

// Case-insensitive, as Beast's fields are.
HeaderLookup headers(std::map<std::string, std::string> fields) {
  std::map<std::string, std::string> folded;
  for (auto& [k, v] : fields) {
    std::string key = k;
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    folded[key] = v;
  }
  return [folded = std::move(folded)](std::string_view name) -> std::optional<std::string_view> {
    std::string key(name);
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto it = folded.find(key);
    if (it == folded.end()) return std::nullopt;
    return std::string_view(it->second);
  };
}

const HeaderLookup kNoHeaders = headers({});

// The SDK's chunk request headers (genai 1.0.0 uploadBlob), given the command and offset.
HeaderLookup genai_chunk(const std::string& command, const std::string& offset) {
  return headers({{"Content-Type", "application/json"},
                  {"x-goog-api-key", "AIza-test"},
                  {"X-Goog-Upload-Command", command},
                  {"X-Goog-Upload-Offset", offset},
                  {"Content-Length", "8388608"}});
}

}  // namespace

TEST_CASE("OpenAI: files.create, uploads.create/parts/complete/cancel", "[uploads][upload_step]") {
  const HeaderLookup multipart = headers({{"Content-Type", "multipart/form-data; boundary=----formdata-undici-012345678901"}});
  CHECK(classify_upload(Schema::openai, "POST", "/v1/files", multipart).kind == Kind::file_create);

  const HeaderLookup json = headers({{"Content-Type", "application/json"}});
  CHECK(classify_upload(Schema::openai, "POST", "/v1/uploads", json).kind == Kind::upload_create);

  UploadStep part = classify_upload(Schema::openai, "POST", "/v1/uploads/upload_abc123/parts", multipart);
  CHECK(part.kind == Kind::upload_part);
  CHECK(part.id == "upload_abc123");

  UploadStep complete = classify_upload(Schema::openai, "POST", "/v1/uploads/upload_abc123/complete", json);
  CHECK(complete.kind == Kind::upload_complete);
  CHECK(complete.id == "upload_abc123");

  UploadStep cancel = classify_upload(Schema::openai, "POST", "/v1/uploads/upload_abc123/cancel", kNoHeaders);
  CHECK(cancel.kind == Kind::upload_cancel);
  CHECK(cancel.id == "upload_abc123");

  // path`` percent-encodes what is not a pchar; the id is read decoded.
  CHECK(classify_upload(Schema::openai, "POST", "/v1/uploads/upload%5Fx/parts", multipart).id == "upload_x");
  // A query (Azure's api-version) does not change the step.
  CHECK(classify_upload(Schema::openai, "POST", "/v1/files?api-version=2024-10-21", multipart).kind == Kind::file_create);
}

TEST_CASE("OpenAI: Azure OpenAI's /openai roots", "[uploads][upload_step]") {
  CHECK(classify_upload(Schema::openai, "POST", "/openai/files?api-version=2024-10-21", kNoHeaders).kind == Kind::file_create);
  CHECK(classify_upload(Schema::openai, "POST", "/openai/v1/files", kNoHeaders).kind == Kind::file_create);
  UploadStep part = classify_upload(Schema::openai, "POST", "/openai/uploads/upload_9/parts?api-version=2024-10-21", kNoHeaders);
  CHECK(part.kind == Kind::upload_part);
  CHECK(part.id == "upload_9");
}

TEST_CASE("OpenAI: what is not an upload step", "[uploads][upload_step]") {
  CHECK(classify_upload(Schema::openai, "GET", "/v1/files", kNoHeaders).kind == Kind::none);
  CHECK(classify_upload(Schema::openai, "GET", "/v1/files/file-abc/content", kNoHeaders).kind == Kind::none);
  CHECK(classify_upload(Schema::openai, "DELETE", "/v1/files/file-abc", kNoHeaders).kind == Kind::none);
  CHECK(classify_upload(Schema::openai, "POST", "/v1/chat/completions", kNoHeaders).kind == Kind::none);
  CHECK(classify_upload(Schema::openai, "POST", "/v1/files/", kNoHeaders).kind == Kind::none);
  CHECK(classify_upload(Schema::openai, "POST", "/v1/uploads/upload_a/parts/extra", kNoHeaders).kind == Kind::none);
  CHECK(classify_upload(Schema::openai, "POST", "/v1/uploads/upload_a/finish", kNoHeaders).kind == Kind::none);
  CHECK(classify_upload(Schema::openai, "POST", "/v1filesx", kNoHeaders).kind == Kind::none);
  // Paths compare case-sensitively, as the upstream routes them.
  CHECK(classify_upload(Schema::openai, "POST", "/v1/Files", kNoHeaders).kind == Kind::none);
  // OpenAI's shapes under another schema are not OpenAI's.
  CHECK(classify_upload(Schema::json, "POST", "/v1/uploads", kNoHeaders).kind == Kind::none);
}

TEST_CASE("OpenAI: an upload id that cannot key its parts is malformed", "[uploads][upload_step]") {
  UploadStep empty = classify_upload(Schema::openai, "POST", "/v1/uploads//parts", kNoHeaders);
  CHECK(empty.kind == Kind::malformed);
  CHECK(empty.error == "upload_part: the upload id in the path is not readable");
  CHECK(classify_upload(Schema::openai, "POST", "/v1/uploads/a%2/complete", kNoHeaders).kind == Kind::malformed);
  CHECK(classify_upload(Schema::openai, "POST", "/v1/uploads/a%20b/complete", kNoHeaders).kind == Kind::malformed);
  CHECK(classify_upload(Schema::openai, "POST", "/v1/uploads/" + std::string(257, 'u') + "/cancel", kNoHeaders).kind ==
        Kind::malformed);
  CHECK(classify_upload(Schema::openai, "POST", "/v1/uploads/" + std::string(256, 'u') + "/cancel", kNoHeaders).kind ==
        Kind::upload_cancel);
}

TEST_CASE("Anthropic: beta.files.upload", "[uploads][upload_step]") {
  const HeaderLookup h = headers({{"anthropic-beta", "files-api-2025-04-14"},
                                  {"Content-Type", "multipart/form-data; boundary=----formdata-undici-0"}});
  CHECK(classify_upload(Schema::anthropic, "POST", "/v1/files", h).kind == Kind::file_create);
  CHECK(classify_upload(Schema::anthropic, "GET", "/v1/files", h).kind == Kind::none);
  CHECK(classify_upload(Schema::anthropic, "POST", "/v1/messages", h).kind == Kind::none);
  // Anthropic has no Uploads API.
  CHECK(classify_upload(Schema::anthropic, "POST", "/v1/uploads", h).kind == Kind::none);
}

TEST_CASE("Gemini: the SDK's resumable start and chunks", "[uploads][upload_step]") {
  const HeaderLookup start = headers({{"Content-Type", "application/json"},
                                      {"X-Goog-Upload-Protocol", "resumable"},
                                      {"X-Goog-Upload-Command", "start"},
                                      {"X-Goog-Upload-Header-Content-Length", "20971520"},
                                      {"X-Goog-Upload-Header-Content-Type", "application/pdf"}});
  UploadStep s = classify_upload(Schema::gemini, "POST", "/upload/v1beta/files", start);
  CHECK(s.kind == Kind::resumable_start);
  REQUIRE(s.declared_size);
  CHECK(*s.declared_size == 20971520);

  // A 20 MiB file: 8 MiB, 8 MiB, then the last 4 MiB with finalize.
  const std::string session = "/upload/v1beta/files?upload_id=AHxI1nM-Zq_8&upload_protocol=resumable";
  UploadStep first = classify_upload(Schema::gemini, "POST", session, genai_chunk("upload", "0"));
  CHECK(first.kind == Kind::resumable_chunk);
  CHECK(first.id == "AHxI1nM-Zq_8");
  CHECK(first.offset == 0);
  CHECK(first.carries_bytes);
  CHECK_FALSE(first.finalize);

  UploadStep last = classify_upload(Schema::gemini, "POST", session, genai_chunk("upload, finalize", "16777216"));
  CHECK(last.kind == Kind::resumable_chunk);
  CHECK(last.id == "AHxI1nM-Zq_8");
  CHECK(last.offset == 16777216);
  CHECK(last.carries_bytes);
  CHECK(last.finalize);

  // A bare finalize (other clients) carries no bytes; PUT is accepted as POST is.
  UploadStep fin = classify_upload(Schema::gemini, "PUT", session, headers({{"X-Goog-Upload-Command", "finalize"},
                                                                            {"X-Goog-Upload-Offset", "20971520"}}));
  CHECK(fin.kind == Kind::resumable_chunk);
  CHECK_FALSE(fin.carries_bytes);
  CHECK(fin.finalize);
  CHECK(fin.offset == 20971520);

  // The web app's upload host names sessions the same way, under a service of schema json.
  UploadStep web = classify_upload(Schema::json, "POST", "/upload/?upload_id=ADPyc&upload_protocol=resumable",
                                   headers({{"X-Goog-Upload-Command", "upload, finalize"}, {"X-Goog-Upload-Offset", "0"}}));
  CHECK(web.kind == Kind::resumable_chunk);
  CHECK(web.id == "ADPyc");
  CHECK(classify_upload(Schema::json, "POST", "/upload/",
                        headers({{"X-Goog-Upload-Protocol", "resumable"}, {"X-Goog-Upload-Command", "start"}}))
            .kind == Kind::resumable_start);

  // A session URL without upload_id is keyed by its path.
  CHECK(classify_upload(Schema::gemini, "POST", "/resumable/s-123", genai_chunk("upload", "0")).id == "/resumable/s-123");
  // Command words are case-insensitive and spaced freely.
  CHECK(classify_upload(Schema::gemini, "POST", session, genai_chunk("Upload,Finalize", "0")).finalize);
}

TEST_CASE("Gemini: cancel, query, multipart and raw protocols", "[uploads][upload_step]") {
  const std::string session = "/upload/v1beta/files?upload_id=U1&upload_protocol=resumable";
  UploadStep cancel = classify_upload(Schema::gemini, "POST", session, headers({{"X-Goog-Upload-Command", "cancel"}}));
  CHECK(cancel.kind == Kind::resumable_cancel);
  CHECK(cancel.id == "U1");
  CHECK(classify_upload(Schema::gemini, "POST", session, headers({{"X-Goog-Upload-Command", "query"}})).kind == Kind::none);

  CHECK(classify_upload(Schema::gemini, "POST", "/upload/v1beta/files",
                        headers({{"X-Goog-Upload-Protocol", "multipart"},
                                 {"Content-Type", "multipart/related; boundary=b1"}}))
            .kind == Kind::multipart_upload);
  CHECK(classify_upload(Schema::gemini, "POST", "/upload/v1beta/files",
                        headers({{"X-Goog-Upload-Protocol", "raw"}, {"Content-Type", "application/pdf"}}))
            .kind == Kind::raw_upload);
  // Without the protocol headers a Gemini request is not an upload step.
  CHECK(classify_upload(Schema::gemini, "POST", "/v1beta/models/gemini-2.0-flash:generateContent",
                        headers({{"Content-Type", "application/json"}}))
            .kind == Kind::none);
}

TEST_CASE("Gemini: a chunk the gateway cannot key is malformed", "[uploads][upload_step]") {
  const std::string session = "/upload/v1beta/files?upload_id=U1&upload_protocol=resumable";
  auto kind = [&](const std::string& path, HeaderLookup h, const std::string& method = "POST") {
    return classify_upload(Schema::gemini, method, path, h);
  };
  UploadStep no_offset = kind(session, headers({{"X-Goog-Upload-Command", "upload"}}));
  CHECK(no_offset.kind == Kind::malformed);
  CHECK(no_offset.error == "resumable_chunk: upload without X-Goog-Upload-Offset");
  CHECK(kind(session, genai_chunk("upload", "-1")).kind == Kind::malformed);
  CHECK(kind(session, genai_chunk("upload", "12abc")).kind == Kind::malformed);
  CHECK(kind(session, genai_chunk("upload", "99999999999999999999999")).kind == Kind::malformed);
  CHECK(kind(session, genai_chunk("upload, teleport", "0")).kind == Kind::malformed);
  CHECK(kind(session, genai_chunk("start, upload", "0")).kind == Kind::malformed);
  CHECK(kind("/upload/v1beta/files?upload_id=A&upload_id=B", genai_chunk("upload", "0")).kind == Kind::malformed);
  CHECK(kind("/upload/v1beta/files?upload_id=", genai_chunk("upload", "0")).kind == Kind::malformed);
  CHECK(kind(session, genai_chunk("upload", "0"), "GET").kind == Kind::malformed);
  CHECK(kind("/upload/v1beta/files", headers({{"X-Goog-Upload-Protocol", "resumable"}})).kind == Kind::malformed);
  CHECK(kind("/upload/v1beta/files", headers({{"X-Goog-Upload-Protocol", "carrier-pigeon"}})).kind == Kind::malformed);
  CHECK(kind("/upload/v1beta/files", headers({{"X-Goog-Upload-Protocol", "resumable"},
                                              {"X-Goog-Upload-Command", "start"},
                                              {"X-Goog-Upload-Header-Content-Length", "lots"}}))
            .kind == Kind::malformed);
}

TEST_CASE("ChatGPT web: announce, uploaded, and the blob PUT", "[uploads][upload_step]") {
  const HeaderLookup json = headers({{"Content-Type", "application/json"}});
  CHECK(classify_upload(Schema::chatgpt_web, "POST", "/backend-api/files", json).kind == Kind::chatgpt_file_announce);
  UploadStep uploaded =
      classify_upload(Schema::chatgpt_web, "POST", "/backend-api/files/file-7yXvA2pQ/uploaded", json);
  CHECK(uploaded.kind == Kind::chatgpt_file_uploaded);
  CHECK(uploaded.id == "file-7yXvA2pQ");
  CHECK(classify_upload(Schema::chatgpt_web, "POST", "/backend-api/conversation", json).kind == Kind::none);
  CHECK(classify_upload(Schema::chatgpt_web, "GET", "/backend-api/files/file-7yXvA2pQ/download", json).kind == Kind::none);

  // The PUT to the announced blob URL, with Azure's required header (observed: x-ms-blob-type:
  // BlockBlob, x-ms-version: 2020-04-08, the file's own Content-Type).
  const HeaderLookup put = headers({{"x-ms-blob-type", "BlockBlob"},
                                    {"x-ms-version", "2020-04-08"},
                                    {"Content-Type", "application/pdf"}});
  UploadStep blob = classify_upload(
      Schema::json, "PUT", "/files/00000000-2554-7230-b9ed-e110f49fccb5/raw?se=2025-11-08T02%3A37%3A15Z&sp=w&sv=2024-08-04&sr=b&sig=abc",
      put);
  CHECK(blob.kind == Kind::blob_put);
  CHECK(blob.id == "/files/00000000-2554-7230-b9ed-e110f49fccb5/raw");
  // A path used as a key must be printable ASCII (found by fuzz/upload_answer: a NUL in the path).
  CHECK(classify_upload(Schema::json, "PUT", std::string("/files/a\0b/raw", 14), put).kind == Kind::malformed);
  CHECK(classify_upload(Schema::gemini, "POST", std::string("/s\x01", 3), genai_chunk("upload", "0")).kind == Kind::malformed);
  // Not a Put Blob: no x-ms-blob-type, or another blob type.
  CHECK(classify_upload(Schema::json, "PUT", "/files/x/raw", json).kind == Kind::none);
  CHECK(classify_upload(Schema::json, "PUT", "/files/x/raw", headers({{"x-ms-blob-type", "AppendBlob"}})).kind ==
        Kind::malformed);
}

TEST_CASE("resumable_session_key reads a session URL as classify_upload does", "[uploads][upload_step]") {
  CHECK(resumable_session_key("/upload/v1beta/files?upload_id=AB%2DC&upload_protocol=resumable") == "AB-C");
  CHECK(resumable_session_key("/upload/v1beta/files?upload_protocol=resumable&upload_id=Z") == "Z");
  CHECK(resumable_session_key("/sessions/42") == "/sessions/42");
  CHECK_FALSE(resumable_session_key("/x?upload_id=a&upload_id=b"));
}
