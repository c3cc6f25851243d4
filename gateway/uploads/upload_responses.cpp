#include "gateway/uploads/upload_responses.h"

#include <simdjson.h>

#include <algorithm>

#include "gateway/catalog/host_name.h"

namespace promptwall::gateway {
namespace {

namespace dom = simdjson::dom;

constexpr size_t kMaxAnswerBytes = size_t{1} << 20;
constexpr size_t kMaxDepth = 64;
constexpr size_t kMaxValueBytes = 4096;  // an id or URL longer than this is no id or URL we key by

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower_copy(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool printable_ascii(std::string_view s) {
  return !s.empty() && s.size() <= kMaxValueBytes &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// The body's top-level object, parsed strictly and bounded; nullopt otherwise.
std::optional<dom::object> parse_object(dom::parser& parser, simdjson::padded_string& padded, std::string_view body) {
  if (body.empty() || body.size() > kMaxAnswerBytes) return std::nullopt;
  if (parser.allocate(body.size(), kMaxDepth) != simdjson::SUCCESS) return std::nullopt;
  padded = simdjson::padded_string(body);
  dom::element root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS) return std::nullopt;
  dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) return std::nullopt;
  return obj;
}

// The one value under `key`; nullopt when absent or given more than once (two readers may take
// different ones).
std::optional<dom::element> field(dom::object obj, std::string_view key) {
  std::optional<dom::element> found;
  for (dom::key_value_pair kv : obj) {
    if (kv.key != key) continue;
    if (found) return std::nullopt;
    found = kv.value;
  }
  return found;
}

// A printable-ASCII string under `key` (ids and URLs are), else nullopt.
std::optional<std::string> string_field(dom::object obj, std::string_view key) {
  const auto value = field(obj, key);
  if (!value) return std::nullopt;
  std::string_view s;
  if (value->get_string().get(s) != simdjson::SUCCESS || !printable_ascii(s)) return std::nullopt;
  return std::string(s);
}

// When a tag field is present it must name `expected`; absent is accepted (the SDKs do not check).
bool tag_is(dom::object obj, std::string_view key, std::string_view expected) {
  size_t times = 0;
  for (dom::key_value_pair kv : obj) times += kv.key == key ? 1 : 0;
  if (times == 0) return true;
  const auto value = field(obj, key);
  if (!value) return false;
  std::string_view s;
  return value->get_string().get(s) == simdjson::SUCCESS && s == expected;
}

std::optional<dom::object> object_field(dom::object obj, std::string_view key) {
  const auto value = field(obj, key);
  if (!value) return std::nullopt;
  dom::object inner;
  if (value->get_object().get(inner) != simdjson::SUCCESS) return std::nullopt;
  return inner;
}

struct Url {
  std::string scheme;   // lower case
  std::string_view authority;
  std::string_view path;   // "" or from '/'
  std::string_view query;  // from '?' inclusive, or ""
};

std::optional<Url> parse_url(std::string_view url) {
  if (url.size() > kMaxValueBytes || url.find('#') != std::string_view::npos) return std::nullopt;
  const size_t colon = url.find("://");
  if (colon == std::string_view::npos) return std::nullopt;
  Url u;
  u.scheme = lower_copy(url.substr(0, colon));
  if (u.scheme != "http" && u.scheme != "https") return std::nullopt;
  std::string_view rest = url.substr(colon + 3);
  const size_t end = rest.find_first_of("/?");
  u.authority = rest.substr(0, end);
  if (u.authority.empty()) return std::nullopt;
  if (end == std::string_view::npos) return u;
  rest.remove_prefix(end);
  const size_t q = rest.find('?');
  u.path = rest.substr(0, q);
  if (q != std::string_view::npos) u.query = rest.substr(q);
  return u;
}

std::optional<std::string> header_value(const HeaderLookup& headers, std::string_view name) {
  if (!headers) return std::nullopt;
  const auto v = headers(name);
  if (!v) return std::nullopt;
  std::string_view s = *v;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (!printable_ascii(s)) return std::nullopt;
  return std::string(s);
}

// {"file": {"name": "files/…", "uri": "…"}}: Google's answer once a file exists.
void read_google_file(std::string_view body, UploadAnswer& out) {
  dom::parser parser;
  simdjson::padded_string padded;
  const auto root = parse_object(parser, padded, body);
  if (!root) return;
  const auto file = object_field(*root, "file");
  if (!file) return;
  const auto name = string_field(*file, "name");
  if (!name || name->rfind("files/", 0) != 0) return;
  out.file_id = *name;
  if (const auto uri = string_field(*file, "uri")) out.file_uri = *uri;
}

// {"id": "<prefix>…", <tag>: <tag_value>}: the OpenAI and Anthropic objects.
std::optional<std::string> tagged_id(std::string_view body, std::string_view tag, std::string_view tag_value) {
  dom::parser parser;
  simdjson::padded_string padded;
  const auto root = parse_object(parser, padded, body);
  if (!root || !tag_is(*root, tag, tag_value)) return std::nullopt;
  return string_field(*root, "id");
}

}  // namespace

UploadAnswer read_upload_answer(const UploadStep& step, int status, const HeaderLookup& headers, std::string_view body) {
  UploadAnswer out;
  if (status < 200 || status > 299) return out;
  using K = UploadStep::Kind;
  switch (step.kind) {
    case K::file_create: {
      // OpenAI tags its file object `object: "file"`, Anthropic `type: "file"`; each checks its own.
      dom::parser parser;
      simdjson::padded_string padded;
      const auto root = parse_object(parser, padded, body);
      if (!root || !tag_is(*root, "object", "file") || !tag_is(*root, "type", "file")) return out;
      if (auto id = string_field(*root, "id")) out.file_id = std::move(*id);
      return out;
    }
    case K::upload_create:
      if (auto id = tagged_id(body, "object", "upload")) out.upload_id = std::move(*id);
      return out;
    case K::upload_part:
      if (auto id = tagged_id(body, "object", "upload.part")) out.part_id = std::move(*id);
      return out;
    case K::upload_complete: {
      dom::parser parser;
      simdjson::padded_string padded;
      const auto root = parse_object(parser, padded, body);
      if (!root || !tag_is(*root, "object", "upload")) return out;
      const auto file = object_field(*root, "file");
      if (!file || !tag_is(*file, "object", "file")) return out;
      if (auto id = string_field(*file, "id")) out.file_id = std::move(*id);
      return out;
    }
    case K::resumable_start: {
      if (auto s = header_value(headers, "X-Goog-Upload-Status")) out.upload_status = lower_copy(*s);
      auto url = header_value(headers, "X-Goog-Upload-URL");
      if (!url) return out;
      const auto parsed = parse_url(*url);
      if (!parsed) return out;
      const std::string path_and_query = std::string(parsed->path) + std::string(parsed->query);
      auto key = resumable_session_key(path_and_query);
      if (!key) return out;
      out.upload_url = std::move(*url);
      out.session_key = std::move(*key);
      return out;
    }
    case K::resumable_chunk:
    case K::multipart_upload:
    case K::raw_upload: {
      if (auto s = header_value(headers, "X-Goog-Upload-Status")) out.upload_status = lower_copy(*s);
      // A chunk that does not finalize answers with no file; the SDK reads `file` only from the
      // answer whose status is "final".
      if (step.kind == K::resumable_chunk && !step.finalize) return out;
      read_google_file(body, out);
      return out;
    }
    case K::chatgpt_file_announce: {
      dom::parser parser;
      simdjson::padded_string padded;
      const auto root = parse_object(parser, padded, body);
      if (!root || !tag_is(*root, "status", "success")) return out;
      auto id = string_field(*root, "file_id");
      auto url = string_field(*root, "upload_url");
      if (!id || !url) return out;
      const auto parsed = parse_url(*url);
      if (!parsed || parsed->path.size() < 2) return out;
      out.file_id = std::move(*id);
      out.blob_key = std::string(parsed->path);
      out.upload_url = std::move(*url);
      return out;
    }
    case K::none:
    case K::upload_cancel:
    case K::resumable_cancel:
    case K::chatgpt_file_uploaded:
    case K::blob_put:
    case K::malformed: return out;
  }
  return out;
}

std::optional<std::string> rewrite_upload_url(std::string_view upload_url, const UpstreamTarget& upstream,
                                              std::string_view gateway_base) {
  const auto url = parse_url(upload_url);
  if (!url || (url->scheme == "https") != upstream.tls) return std::nullopt;
  const auto authority = parse_authority(url->authority, upstream.tls ? 443 : 80);
  const auto host = parse_host(upstream.host);
  if (!authority || !host || authority->host.text != host->text || authority->port != upstream.port) return std::nullopt;
  std::string_view rest = url->path;
  const std::string_view base = upstream.base_path;
  if (!base.empty()) {
    if (rest.substr(0, base.size()) != base || (rest.size() > base.size() && rest[base.size()] != '/')) return std::nullopt;
    rest.remove_prefix(base.size());
  }
  while (!gateway_base.empty() && gateway_base.back() == '/') gateway_base.remove_suffix(1);
  std::string out(gateway_base);
  out += rest.empty() ? std::string_view("/") : rest;
  out += url->query;
  return out;
}

}  // namespace promptwall::gateway
