// read_upload_answer and rewrite_upload_url (gateway/uploads/upload_responses.h): what an upstream's
// answer to an upload step teaches, read as the SDKs read it:
//   openai 6.30.1        FileObject {id, object: 'file', bytes, created_at, filename, purpose, status};
//                        Upload {id, object: 'upload', status, file?: FileObject}; UploadPart
//                        {id, object: 'upload.part', upload_id, created_at}
//   @anthropic-ai/sdk    FileMetadata {id, type: 'file', filename, mime_type, size_bytes, created_at}
//   @google/genai 1.0.0  fetchUploadUrl: httpResponse.headers['x-goog-upload-url'] (fails without it);
//                        uploadBlob: reads x-goog-upload-status ('active' | 'final' | 'cancelled') and,
//                        when 'final', responseJson['file'] (a File: name 'files/…', uri, mimeType, ...)
//   ChatGPT web          POST /backend-api/files answer {status: 'success', file_id, upload_url, ...}
//                        (observed in the app; not a published API)
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "gateway/uploads/upload_responses.h"

using promptwall::gateway::HeaderLookup;
using promptwall::gateway::read_upload_answer;
using promptwall::gateway::rewrite_upload_url;
using promptwall::gateway::Schema;
using promptwall::gateway::UploadAnswer;
using promptwall::gateway::UploadStep;
using promptwall::gateway::UpstreamTarget;
using Kind = promptwall::gateway::UploadStep::Kind;

namespace {

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

const HeaderLookup kJson = headers({{"Content-Type", "application/json"}});

UploadStep step(Kind kind, bool finalize = false) {
  UploadStep s;
  s.kind = kind;
  s.finalize = finalize;
  return s;
}

}  // namespace

TEST_CASE("OpenAI answers: file, upload, part, completed upload", "[uploads][upload_responses]") {
  const std::string file =
      R"({"object":"file","id":"file-Xb2pQ7","purpose":"assistants","filename":"Quyết định 12.pdf","bytes":18342,)"
      R"("created_at":1731024000,"expires_at":null,"status":"processed","status_details":null})";
  CHECK(read_upload_answer(step(Kind::file_create), 200, kJson, file).file_id == "file-Xb2pQ7");

  const std::string upload =
      R"({"id":"upload_abc123","object":"upload","bytes":2147483648,"created_at":1719184911,"filename":"training_examples.jsonl",)"
      R"("purpose":"fine-tune","status":"pending","expires_at":1719127296})";
  CHECK(read_upload_answer(step(Kind::upload_create), 200, kJson, upload).upload_id == "upload_abc123");

  const std::string part = R"({"id":"part_def456","object":"upload.part","created_at":1719185911,"upload_id":"upload_abc123"})";
  CHECK(read_upload_answer(step(Kind::upload_part), 200, kJson, part).part_id == "part_def456");

  const std::string completed =
      R"({"id":"upload_abc123","object":"upload","bytes":2147483648,"created_at":1719184911,"filename":"training_examples.jsonl",)"
      R"("purpose":"fine-tune","status":"completed","expires_at":1719127296,)"
      R"("file":{"id":"file-xyz321","object":"file","bytes":2147483648,"created_at":1719186911,)"
      R"("filename":"training_examples.jsonl","purpose":"fine-tune"}})";
  const UploadAnswer a = read_upload_answer(step(Kind::upload_complete), 200, kJson, completed);
  CHECK(a.file_id == "file-xyz321");
  CHECK(a.upload_id.empty());
}

TEST_CASE("Anthropic answer: FileMetadata", "[uploads][upload_responses]") {
  const std::string meta =
      R"({"type":"file","id":"file_011CNha8iCJcU1wXNR6q4V8w","size_bytes":1024,"created_at":"2025-04-14T12:00:00Z",)"
      R"("filename":"ho-so.pdf","mime_type":"application/pdf","downloadable":false})";
  CHECK(read_upload_answer(step(Kind::file_create), 200, kJson, meta).file_id == "file_011CNha8iCJcU1wXNR6q4V8w");
}

TEST_CASE("nothing is learned from errors, other shapes or loose JSON", "[uploads][upload_responses]") {
  const std::string file = R"({"id":"file-1","object":"file"})";
  CHECK_FALSE(read_upload_answer(step(Kind::file_create), 400, kJson, file).learned());
  CHECK_FALSE(read_upload_answer(step(Kind::file_create), 302, kJson, file).learned());
  CHECK(read_upload_answer(step(Kind::file_create), 201, kJson, file).learned());
  // An error object, another object type, a tag of another type.
  CHECK_FALSE(read_upload_answer(step(Kind::file_create), 200, kJson,
                                 R"({"error":{"message":"Invalid file","type":"invalid_request_error"}})")
                  .learned());
  CHECK_FALSE(read_upload_answer(step(Kind::file_create), 200, kJson, R"({"id":"upload_1","object":"upload"})").learned());
  CHECK_FALSE(read_upload_answer(step(Kind::upload_part), 200, kJson, R"({"id":"file-1","object":"file"})").learned());
  CHECK_FALSE(read_upload_answer(step(Kind::file_create), 200, kJson, R"({"id":"file_1","type":"file_deleted"})").learned());
  CHECK_FALSE(read_upload_answer(step(Kind::file_create), 200, kJson, R"({"id":7,"object":"file"})").learned());
  // Strict JSON only: a duplicate id (two readers may take different ones), a comment, a trailing comma.
  CHECK_FALSE(read_upload_answer(step(Kind::file_create), 200, kJson, R"({"id":"file-1","id":"file-2","object":"file"})").learned());
  CHECK_FALSE(read_upload_answer(step(Kind::file_create), 200, kJson, R"({"id":"file-1" /* x */})").learned());
  CHECK_FALSE(read_upload_answer(step(Kind::file_create), 200, kJson, R"({"id":"file-1",})").learned());
  CHECK_FALSE(read_upload_answer(step(Kind::file_create), 200, kJson, R"({"id":"file-1"} trailing)").learned());
  CHECK_FALSE(read_upload_answer(step(Kind::file_create), 200, kJson, "").learned());
  CHECK_FALSE(read_upload_answer(step(Kind::file_create), 200, kJson, R"(["file-1"])").learned());
  // Bounded: nesting over 64, a body over 1 MiB, an id that is no printable ASCII.
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  CHECK_FALSE(read_upload_answer(step(Kind::file_create), 200, kJson, R"({"id":"file-1","x":)" + deep + "}").learned());
  const std::string big = R"({"id":"file-1","pad":")" + std::string(1 << 20, 'a') + R"("})";
  CHECK_FALSE(read_upload_answer(step(Kind::file_create), 200, kJson, big).learned());
  CHECK_FALSE(read_upload_answer(step(Kind::file_create), 200, kJson, R"({"id":"file 1"})").learned());
  // A step that teaches nothing.
  CHECK_FALSE(read_upload_answer(step(Kind::upload_cancel), 200, kJson, R"({"id":"upload_1","object":"upload"})").learned());
}

TEST_CASE("Gemini: the start answer's upload URL and session key", "[uploads][upload_responses]") {
  const std::string url =
      "https://generativelanguage.googleapis.com/upload/v1beta/files?upload_id=AHxI1nM-Zq_8&upload_protocol=resumable";
  const UploadAnswer a = read_upload_answer(step(Kind::resumable_start), 200,
                                            headers({{"X-Goog-Upload-URL", url},
                                                     {"X-Goog-Upload-Status", "active"},
                                                     {"X-Goog-Upload-Chunk-Granularity", "8388608"}}),
                                            "");
  CHECK(a.upload_url == url);
  CHECK(a.session_key == "AHxI1nM-Zq_8");  // what classify_upload gives the chunks sent there
  CHECK(a.upload_status == "active");

  CHECK(read_upload_answer(step(Kind::resumable_start), 200, headers({{"X-Goog-Upload-Status", "active"}}), "").upload_url.empty());
  CHECK(read_upload_answer(step(Kind::resumable_start), 200, headers({{"X-Goog-Upload-URL", "ftp://x/y"}}), "").upload_url.empty());
}

TEST_CASE("Gemini: the finalize answer names the file", "[uploads][upload_responses]") {
  const std::string body =
      R"({"file":{"name":"files/abc123","displayName":"Báo cáo mật","mimeType":"application/pdf","sizeBytes":"20971520",)"
      R"("createTime":"2025-05-01T10:00:00.000000Z","updateTime":"2025-05-01T10:00:00.000000Z",)"
      R"("expirationTime":"2025-05-03T10:00:00.000000Z","sha256Hash":"ZmFrZQ==",)"
      R"("uri":"https://generativelanguage.googleapis.com/v1beta/files/abc123","state":"ACTIVE","source":"UPLOADED"}})";
  const HeaderLookup final_status = headers({{"X-Goog-Upload-Status", "final"}});
  const UploadAnswer a = read_upload_answer(step(Kind::resumable_chunk, true), 200, final_status, body);
  CHECK(a.file_id == "files/abc123");
  CHECK(a.file_uri == "https://generativelanguage.googleapis.com/v1beta/files/abc123");
  CHECK(a.upload_status == "final");
  CHECK(read_upload_answer(step(Kind::multipart_upload), 200, kJson, body).file_id == "files/abc123");

  // A chunk that does not finalize: only the status.
  const UploadAnswer mid = read_upload_answer(step(Kind::resumable_chunk, false), 200, headers({{"X-Goog-Upload-Status", "Active"}}), "");
  CHECK(mid.upload_status == "active");
  CHECK(mid.file_id.empty());
  // A name that is not files/…
  CHECK(read_upload_answer(step(Kind::raw_upload), 200, kJson, R"({"file":{"name":"models/x"}})").file_id.empty());
}

TEST_CASE("ChatGPT web: the announce answer", "[uploads][upload_responses]") {
  const std::string body =
      R"({"status":"success","upload_url":"https://sdmntprwestus.oaiusercontent.com/files/00000000-2554-7230-b9ed-e110f49fccb5/raw?se=2025-11-08T02%3A37%3A15Z&sp=w&sv=2024-08-04&sr=b&sig=c2ln",)"
      R"("file_id":"file_00000000142872305d4f0105872b4749","download_url":null})";
  const UploadAnswer a = read_upload_answer(step(Kind::chatgpt_file_announce), 200, kJson, body);
  CHECK(a.file_id == "file_00000000142872305d4f0105872b4749");
  CHECK(a.blob_key == "/files/00000000-2554-7230-b9ed-e110f49fccb5/raw");
  CHECK(a.upload_url.rfind("https://sdmntprwestus.oaiusercontent.com/files/", 0) == 0);

  CHECK_FALSE(read_upload_answer(step(Kind::chatgpt_file_announce), 200, kJson,
                                 R"({"status":"error","file_id":"file-1","upload_url":"https://x/y"})")
                  .learned());
  CHECK_FALSE(read_upload_answer(step(Kind::chatgpt_file_announce), 200, kJson, R"({"status":"success","file_id":"file-1"})")
                  .learned());
}

TEST_CASE("rewrite_upload_url points the session back at the gateway", "[uploads][upload_responses]") {
  UpstreamTarget gemini;
  gemini.host = "generativelanguage.googleapis.com";
  const std::string url =
      "https://generativelanguage.googleapis.com/upload/v1beta/files?upload_id=AHxI1nM-Zq_8&upload_protocol=resumable";
  CHECK(rewrite_upload_url(url, gemini, "http://gw.example:8080/gemini") ==
        std::optional<std::string>(
            "http://gw.example:8080/gemini/upload/v1beta/files?upload_id=AHxI1nM-Zq_8&upload_protocol=resumable"));
  CHECK(rewrite_upload_url(url, gemini, "http://gw.example:8080/gemini/") ==
        rewrite_upload_url(url, gemini, "http://gw.example:8080/gemini"));
  // Host spelt another way is the same host.
  CHECK(rewrite_upload_url("https://GenerativeLanguage.googleapis.com:443/upload/v1beta/files?upload_id=Z", gemini,
                           "http://gw/gemini") == std::optional<std::string>("http://gw/gemini/upload/v1beta/files?upload_id=Z"));

  // Elsewhere: another host, scheme or port, userinfo, a fragment.
  CHECK_FALSE(rewrite_upload_url("https://evil.example/upload/v1beta/files?upload_id=Z", gemini, "http://gw/gemini"));
  CHECK_FALSE(rewrite_upload_url("http://generativelanguage.googleapis.com/upload?upload_id=Z", gemini, "http://gw/gemini"));
  CHECK_FALSE(rewrite_upload_url("https://generativelanguage.googleapis.com:8443/upload?upload_id=Z", gemini, "http://gw/gemini"));
  CHECK_FALSE(rewrite_upload_url("https://user@generativelanguage.googleapis.com/upload?upload_id=Z", gemini, "http://gw/gemini"));
  CHECK_FALSE(rewrite_upload_url("https://generativelanguage.googleapis.com/upload#x", gemini, "http://gw/gemini"));

  // An upstream with a base path: the URL must be under it, and the base is not repeated.
  UpstreamTarget relay;
  relay.tls = false;
  relay.host = "127.0.0.1";
  relay.port = 9000;
  relay.base_path = "/google";
  CHECK(rewrite_upload_url("http://127.0.0.1:9000/google/upload/v1beta/files?upload_id=Q", relay, "http://gw/gemini") ==
        std::optional<std::string>("http://gw/gemini/upload/v1beta/files?upload_id=Q"));
  CHECK_FALSE(rewrite_upload_url("http://127.0.0.1:9000/googleX/upload?upload_id=Q", relay, "http://gw/gemini"));
  CHECK_FALSE(rewrite_upload_url("http://127.0.0.1:9000/upload?upload_id=Q", relay, "http://gw/gemini"));
}
