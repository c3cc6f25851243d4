#include "gateway/uploads/upload_step.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <vector>

namespace promptwall::gateway {
namespace {

constexpr size_t kMaxIdBytes = 256;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoded once; nullopt for a broken escape or a result that is no printable-ASCII id.
std::optional<std::string> read_id(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      out += raw[i];
      continue;
    }
    if (i + 2 >= raw.size()) return std::nullopt;
    const int hi = hex_value(raw[i + 1]), lo = hex_value(raw[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  if (out.empty() || out.size() > kMaxIdBytes) return std::nullopt;
  if (!std::all_of(out.begin(), out.end(), [](char c) { return c > 0x20 && c < 0x7f; })) return std::nullopt;
  return out;
}

// A path used as a key as it stands (a Google session path, a blob path): 1..256 bytes of
// printable ASCII, as a request target may hold.
bool printable_path(std::string_view p) {
  return !p.empty() && p.size() <= kMaxIdBytes && std::all_of(p.begin(), p.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

std::optional<uint64_t> read_decimal(std::string_view s) {
  s = trim(s);
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::string_view> header(const HeaderLookup& headers, std::string_view name) {
  if (!headers) return std::nullopt;
  return headers(name);
}

UploadStep step(UploadStep::Kind kind, std::string id = {}) {
  UploadStep s;
  s.kind = kind;
  s.id = std::move(id);
  return s;
}

UploadStep malformed(std::string error) {
  UploadStep s;
  s.kind = UploadStep::Kind::malformed;
  s.error = std::move(error);
  return s;
}

// "/v1/uploads/x/parts" → {"uploads", "x", "parts"} under one of the API's version roots; nullopt
// when the path is under none of them. An empty segment (a doubled or trailing '/') is kept, so
// that it matches nothing.
std::optional<std::vector<std::string_view>> segments_under(std::string_view path,
                                                           std::initializer_list<std::string_view> roots) {
  for (std::string_view root : roots) {
    if (path.size() > root.size() && path.substr(0, root.size()) == root && path[root.size()] == '/')
      return split(path.substr(root.size() + 1), '/');
  }
  return std::nullopt;
}

UploadStep openai_step(std::string_view path) {
  // Azure OpenAI serves the same shapes under /openai (dated api-version) and /openai/v1.
  const auto seg = segments_under(path, {"/v1", "/openai/v1", "/openai"});
  if (!seg) return {};
  const auto& s = *seg;
  if (s.size() == 1 && s[0] == "files") return step(UploadStep::Kind::file_create);
  if (s.empty() || s[0] != "uploads") return {};
  if (s.size() == 1) return step(UploadStep::Kind::upload_create);
  if (s.size() != 3) return {};
  UploadStep::Kind kind;
  if (s[2] == "parts") kind = UploadStep::Kind::upload_part;
  else if (s[2] == "complete") kind = UploadStep::Kind::upload_complete;
  else if (s[2] == "cancel") kind = UploadStep::Kind::upload_cancel;
  else return {};
  auto id = read_id(s[1]);
  if (!id) return malformed(std::string(to_string(kind)) + ": the upload id in the path is not readable");
  return step(kind, std::move(*id));
}

UploadStep chatgpt_step(std::string_view path) {
  const auto seg = segments_under(path, {"/backend-api"});
  if (!seg || seg->empty() || (*seg)[0] != "files") return {};
  const auto& s = *seg;
  if (s.size() == 1) return step(UploadStep::Kind::chatgpt_file_announce);
  if (s.size() == 3 && s[2] == "uploaded") {
    auto id = read_id(s[1]);
    if (!id) return malformed("chatgpt_file_uploaded: the file id in the path is not readable");
    return step(UploadStep::Kind::chatgpt_file_uploaded, std::move(*id));
  }
  return {};
}

// Google's resumable session is named by the URL the start answer gave: its `upload_id` query
// parameter when it has one (the Gemini API's), else its path (a host that names sessions by path).
std::optional<std::string> session_key(std::string_view path_only, std::string_view query) {
  if (!query.empty()) {
    std::optional<std::string> found;
    for (std::string_view pair : split(query, '&')) {
      const size_t eq = pair.find('=');
      if (pair.substr(0, eq) != "upload_id") continue;
      if (found || eq == std::string_view::npos) return std::nullopt;  // twice, or without a value: ambiguous
      found = read_id(pair.substr(eq + 1));
      if (!found) return std::nullopt;
    }
    if (found) return found;
  }
  if (!printable_path(path_only)) return std::nullopt;
  return std::string(path_only);
}

std::optional<UploadStep> google_step(std::string_view method, std::string_view path_only, std::string_view query,
                                      const HeaderLookup& headers) {
  const auto protocol = header(headers, "X-Goog-Upload-Protocol");
  const auto command = header(headers, "X-Goog-Upload-Command");
  if (!protocol && !command) return std::nullopt;
  const bool post = method == "POST";
  const bool post_or_put = post || method == "PUT";

  if (command) {
    bool start = false, upload = false, finalize = false, cancel = false, query_only = false;
    for (std::string_view word : split(*command, ',')) {
      word = trim(word);
      if (iequals(word, "start")) start = true;
      else if (iequals(word, "upload")) upload = true;
      else if (iequals(word, "finalize")) finalize = true;
      else if (iequals(word, "cancel")) cancel = true;
      else if (iequals(word, "query")) query_only = true;
      else return malformed("X-Goog-Upload-Command names an unknown command");
    }
    if (start) {
      if (upload || finalize || cancel || query_only) return malformed("X-Goog-Upload-Command mixes start with other commands");
      if (!post) return malformed("resumable_start: not a POST");
      UploadStep s = step(UploadStep::Kind::resumable_start);
      if (const auto size = header(headers, "X-Goog-Upload-Header-Content-Length")) {
        s.declared_size = read_decimal(*size);
        if (!s.declared_size) return malformed("resumable_start: X-Goog-Upload-Header-Content-Length is not a number");
      }
      return s;
    }
    if (cancel) {
      if (upload || finalize) return malformed("X-Goog-Upload-Command mixes cancel with upload or finalize");
      auto key = session_key(path_only, query);
      if (!key) return malformed("resumable_cancel: no readable session key");
      return step(UploadStep::Kind::resumable_cancel, std::move(*key));
    }
    if (upload || finalize) {
      if (!post_or_put) return malformed("resumable_chunk: neither POST nor PUT");
      auto key = session_key(path_only, query);
      if (!key) return malformed("resumable_chunk: no readable session key");
      UploadStep s = step(UploadStep::Kind::resumable_chunk, std::move(*key));
      s.carries_bytes = upload;
      s.finalize = finalize;
      const auto offset = header(headers, "X-Goog-Upload-Offset");
      if (!offset) {
        if (upload) return malformed("resumable_chunk: upload without X-Goog-Upload-Offset");
      } else {
        const auto v = read_decimal(*offset);
        if (!v) return malformed("resumable_chunk: X-Goog-Upload-Offset is not a number");
        s.offset = *v;
      }
      return s;
    }
    // `query` asks where the session stands: no bytes, nothing to keep.
    if (query_only && !protocol) return UploadStep{};
  }

  if (protocol) {
    const std::string_view p = trim(*protocol);
    if (iequals(p, "multipart") || iequals(p, "raw")) {
      if (!post) return malformed("X-Goog-Upload-Protocol upload: not a POST");
      return step(iequals(p, "raw") ? UploadStep::Kind::raw_upload : UploadStep::Kind::multipart_upload);
    }
    if (iequals(p, "resumable")) {
      if (command) return UploadStep{};  // a `query`
      return malformed("X-Goog-Upload-Protocol: resumable without X-Goog-Upload-Command");
    }
    return malformed("X-Goog-Upload-Protocol names an unknown protocol");
  }
  return UploadStep{};
}

}  // namespace

std::optional<std::string> resumable_session_key(std::string_view path_and_query) {
  const size_t q = path_and_query.find('?');
  return session_key(path_and_query.substr(0, q),
                     q == std::string_view::npos ? std::string_view() : path_and_query.substr(q + 1));
}

std::string_view to_string(UploadStep::Kind k) {
  switch (k) {
    case UploadStep::Kind::none: return "none";
    case UploadStep::Kind::file_create: return "file_create";
    case UploadStep::Kind::upload_create: return "upload_create";
    case UploadStep::Kind::upload_part: return "upload_part";
    case UploadStep::Kind::upload_complete: return "upload_complete";
    case UploadStep::Kind::upload_cancel: return "upload_cancel";
    case UploadStep::Kind::resumable_start: return "resumable_start";
    case UploadStep::Kind::resumable_chunk: return "resumable_chunk";
    case UploadStep::Kind::resumable_cancel: return "resumable_cancel";
    case UploadStep::Kind::multipart_upload: return "multipart_upload";
    case UploadStep::Kind::raw_upload: return "raw_upload";
    case UploadStep::Kind::chatgpt_file_announce: return "chatgpt_file_announce";
    case UploadStep::Kind::chatgpt_file_uploaded: return "chatgpt_file_uploaded";
    case UploadStep::Kind::blob_put: return "blob_put";
    case UploadStep::Kind::malformed: return "malformed";
  }
  return "none";
}

UploadStep classify_upload(Schema schema, std::string_view method, std::string_view path, const HeaderLookup& headers) {
  const size_t q = path.find('?');
  const std::string_view path_only = path.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view() : path.substr(q + 1);

  // The transport protocols first: their headers say what the body is whatever the schema.
  if (auto google = google_step(method, path_only, query, headers)) return std::move(*google);
  if (method == "PUT" && header(headers, "x-ms-blob-type")) {
    const auto type = header(headers, "x-ms-blob-type");
    if (!iequals(trim(*type), "BlockBlob")) return malformed("blob_put: x-ms-blob-type is not BlockBlob");
    if (path_only.size() < 2 || path_only[0] != '/' || !printable_path(path_only))
      return malformed("blob_put: the blob path is not readable");
    return step(UploadStep::Kind::blob_put, std::string(path_only));
  }

  if (method != "POST") return {};
  switch (schema) {
    case Schema::openai: return openai_step(path_only);
    case Schema::anthropic:
      return path_only == "/v1/files" ? step(UploadStep::Kind::file_create) : UploadStep{};
    case Schema::chatgpt_web: return chatgpt_step(path_only);
    case Schema::gemini:
    case Schema::gemini_web:
    case Schema::json:
    case Schema::text: return {};
  }
  return {};
}

}  // namespace promptwall::gateway
