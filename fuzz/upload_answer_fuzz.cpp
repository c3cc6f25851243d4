// libFuzzer target for gateway/uploads: what an upstream answered to an upload step
// (read_upload_answer), the upload URL pointed back at the gateway (rewrite_upload_url), and the
// step a request head is (classify_upload). Upstream answers and request heads are outside input.
// Input: one byte choosing the step kind, one choosing finalize, then lines:
//   method \n path \n header-name: value (one line each, up to an empty line) \n body
// The same header lines are the answer's headers. Beyond "no crash, no sanitizer report":
//   - every learned id and URL is 1..4096 bytes of printable ASCII;
//   - a learned upload URL comes with a session key equal to what classify_upload gives a chunk
//     sent to that URL's path, so both ends key the session alike;
//   - a rewritten URL starts with the gateway base and keeps the upload URL's query;
//   - classify_upload's ids are 1..256 bytes of printable ASCII, and only `malformed` has an error.
// Inputs are bounded at 64 KiB.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "gateway/uploads/upload_responses.h"
#include "gateway/uploads/upload_step.h"

namespace {

using promptwall::gateway::UploadStep;

void require(bool ok) {
  if (!ok) std::abort();
}

bool id_like(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > 65536) return 0;
  UploadStep step;
  step.kind = static_cast<UploadStep::Kind>(data[0] % (static_cast<int>(UploadStep::Kind::malformed) + 1));
  step.finalize = data[1] & 1;
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);

  auto line = [&rest]() {
    const size_t nl = rest.find('\n');
    const std::string_view l = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    return l;
  };
  const std::string_view method = line();
  const std::string_view path = line();
  std::map<std::string, std::string> fields;
  for (std::string_view l = line(); !l.empty(); l = line()) {
    const size_t colon = l.find(':');
    if (colon == std::string_view::npos) continue;
    fields[lower(l.substr(0, colon))] = std::string(l.substr(colon + 1));
  }
  const std::string_view body = rest;
  const promptwall::gateway::HeaderLookup headers = [&fields](std::string_view name) -> std::optional<std::string_view> {
    const auto it = fields.find(lower(name));
    if (it == fields.end()) return std::nullopt;
    return std::string_view(it->second);
  };

  for (auto schema : promptwall::gateway::kEverySchema) {
    const UploadStep s = promptwall::gateway::classify_upload(schema, method, path, headers);
    require(s.kind == UploadStep::Kind::malformed ? !s.error.empty() : s.error.empty());
    if (!s.id.empty()) require(id_like(s.id, 256));
  }

  const promptwall::gateway::UploadAnswer a = promptwall::gateway::read_upload_answer(step, 200, headers, body);
  for (const std::string* v : {&a.file_id, &a.file_uri, &a.upload_id, &a.part_id, &a.upload_url, &a.blob_key})
    if (!v->empty()) require(id_like(*v, 4096));
  if (!a.upload_url.empty() && step.kind == UploadStep::Kind::resumable_start) {
    const size_t scheme = a.upload_url.find("://");
    require(scheme != std::string::npos);
    const size_t path_at = a.upload_url.find_first_of("/?", scheme + 3);
    const std::string path_and_query = path_at == std::string::npos ? std::string() : a.upload_url.substr(path_at);
    require(promptwall::gateway::resumable_session_key(path_and_query) == a.session_key);

    promptwall::gateway::UpstreamTarget upstream;
    upstream.host = "generativelanguage.googleapis.com";
    if (const auto rewritten = promptwall::gateway::rewrite_upload_url(a.upload_url, upstream, "http://gw:8080/gemini")) {
      require(rewritten->rfind("http://gw:8080/gemini/", 0) == 0);
      const size_t q = a.upload_url.find('?');
      if (q != std::string::npos) require(rewritten->size() >= a.upload_url.size() - q &&
                                          rewritten->substr(rewritten->size() - (a.upload_url.size() - q)) == a.upload_url.substr(q));
    }
  }
  return 0;
}
