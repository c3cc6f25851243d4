#include "gateway/adapters/head_segments.h"

#include <algorithm>
#include <array>

#include "encoding/web_text.h"
#include "gateway/catalog/request_path.h"

namespace promptwall::gateway {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

template <size_t N>
bool one_of(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(), [&](std::string_view n) { return iequals(n, name); });
}

// Appends `bytes` and its line break; returns where they start.
uint32_t append_line(std::string& text, std::string_view bytes) {
  const auto begin = static_cast<uint32_t>(text.size());
  text += bytes;
  text += '\n';
  return begin;
}

void add_piece(HeadText& out, HeadText::Kind kind, std::string_view bytes, uint32_t label_begin, uint32_t label_end,
               uint32_t index = 0) {
  const uint32_t begin = append_line(out.text, bytes);
  out.pieces.push_back({kind, begin, static_cast<uint32_t>(begin + bytes.size()), label_begin, label_end, index});
}

void add_path(HeadText& out, std::string_view path) {
  if (path.empty() || path.front() != '/') return;
  std::string_view rest = path.substr(1);
  for (uint32_t index = 0;; ++index) {
    const size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    if (!segment.empty()) {
      if (segment.find('%') == std::string_view::npos) add_piece(out, HeadText::Kind::path_segment, segment, 0, 0, index);
      else add_piece(out, HeadText::Kind::path_segment, decode_path_segment(segment), 0, 0, index);
    }
    if (slash == std::string_view::npos) return;
    rest.remove_prefix(slash + 1);
  }
}

void add_query(HeadText& out, std::string_view query) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view parameter = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (parameter.empty()) continue;
    const size_t equals = parameter.find('=');
    const std::string name = encoding::form_decode(parameter.substr(0, equals));
    if (HeadTextExtractor::is_credential_parameter(name)) continue;
    const auto label_begin = static_cast<uint32_t>(out.labels.size());
    out.labels += name;
    const auto label_end = static_cast<uint32_t>(out.labels.size());
    add_piece(out, HeadText::Kind::query_name, name, label_begin, label_end);
    if (equals == std::string_view::npos) continue;
    const std::string value = encoding::form_decode(parameter.substr(equals + 1));
    add_piece(out, HeadText::Kind::query_value, value, label_begin, label_end);
  }
}

// A Content-Type value without its multipart boundary's value: the boundary is framing, random by
// design, and undici's (Node's fetch) is 12 digits that read as a CCCD about a quarter of the time.
// RFC 2046 keeps it to 70 ASCII characters, and the body it frames is read on its own.
std::string_view without_boundary(std::string_view value, std::string& storage) {
  for (size_t at = 0; (at = value.find('=', at)) != std::string_view::npos; ++at) {
    size_t name_begin = at;
    while (name_begin > 0 && value[name_begin - 1] != ';' && value[name_begin - 1] != ' ' && value[name_begin - 1] != '\t')
      --name_begin;
    if (name_begin == 0 || !iequals(value.substr(name_begin, at - name_begin), "boundary")) continue;
    size_t end = at + 1;
    if (end < value.size() && value[end] == '"') end = value.find('"', end + 1);
    end = end == std::string_view::npos ? value.size() : value.find(';', end);
    if (end == std::string_view::npos) end = value.size();
    storage.assign(value.substr(0, at + 1));
    storage.append(value.substr(end));
    return storage;
  }
  return value;
}

void add_header(HeadText& out, const HeaderField& field) {
  const auto label_begin = static_cast<uint32_t>(out.labels.size());
  for (char c : field.name) out.labels += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  const auto label_end = static_cast<uint32_t>(out.labels.size());
  const std::string_view name = std::string_view(out.labels).substr(label_begin);
  if (!HeadTextExtractor::is_known_header_name(name)) add_piece(out, HeadText::Kind::header_name, name, label_begin, label_end);
  std::string storage;
  const std::string_view value = name == "content-type" ? without_boundary(field.value, storage) : field.value;
  add_piece(out, HeadText::Kind::header_value, value, label_begin, label_end);
}

// A name fit to be shown in a location: short ASCII words, not data.
bool is_plain_name(std::string_view name) {
  if (name.empty() || name.size() > 40) return false;
  size_t digits = 0;
  for (char c : name) {
    if (c >= '0' && c <= '9') ++digits;
    else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_' || c == '.' || c == '[' || c == ']'))
      return false;
  }
  return digits <= 3;
}

}  // namespace

std::string withhold_path_segments(std::string_view path, std::span<const std::string_view> found) {
  std::string out;
  out.reserve(path.size());
  for (size_t start = 0;;) {
    const size_t slash = path.find('/', start);
    const std::string_view segment = path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    const std::string decoded = decode_path_segment(segment);
    const bool withheld = !segment.empty() && std::find(found.begin(), found.end(), decoded) != found.end();
    out += withheld ? std::string_view("[*]") : segment;
    if (slash == std::string_view::npos) return out;
    out += '/';
    start = slash + 1;
  }
}

std::string HeadText::location(const Piece& piece) const {
  std::string_view label = std::string_view(labels).substr(piece.label_begin, piece.label_end - piece.label_begin);
  if (!is_plain_name(label)) label = "[*]";
  switch (piece.kind) {
    case Kind::path_segment: return "path[" + std::to_string(piece.index) + "]";
    case Kind::query_name:
    case Kind::query_value: return "query:" + std::string(label);
    case Kind::header_name:
    case Kind::header_value: return "header:" + std::string(label);
  }
  return "head";
}

const HeadText::Piece* HeadText::piece_at(size_t offset) const {
  // The first piece whose end (its separator included) is past `offset`.
  auto it = std::upper_bound(pieces.begin(), pieces.end(), offset,
                             [](size_t at, const Piece& p) { return at < static_cast<size_t>(p.end) + 1; });
  return it == pieces.end() ? nullptr : &*it;
}

HeadText HeadTextExtractor::extract(std::string_view target, std::span<const HeaderField> headers) const {
  HeadText out;
  size_t bytes = target.size();
  for (const HeaderField& field : headers) bytes += field.name.size() + field.value.size() + 2;
  out.text.reserve(2 * bytes);  // path segments and pieces each gain a line break
  out.labels.reserve(bytes);
  out.pieces.reserve(8 + 2 * headers.size());

  const size_t question = target.find('?');
  add_path(out, target.substr(0, question));
  if (question != std::string_view::npos) add_query(out, target.substr(question + 1));
  for (const HeaderField& field : headers)
    if (!is_transport_header(field.name) && !is_credential_header(field.name) && !is_gateway_header(field.name))
      add_header(out, field);
  return out;
}

bool HeadTextExtractor::is_transport_header(std::string_view name) {
  static constexpr std::array<std::string_view, 11> kTransport = {
      "host", "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
      "upgrade", "content-length", "expect", "content-encoding"};
  return one_of(kTransport, name);
}

bool HeadTextExtractor::is_known_header_name(std::string_view name) {
  // Names the SDKs and browsers send whose text is fixed (values are read whatever the name).
  static constexpr std::array<std::string_view, 36> kKnown = {
      "accept", "accept-language", "content-type", "user-agent", "origin", "referer", "cache-control", "pragma",
      "priority", "dnt", "x-requested-with", "x-request-id", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest",
      "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "sec-websocket-key", "sec-websocket-version",
      "sec-websocket-protocol", "sec-websocket-extensions", "openai-organization", "openai-project", "openai-beta",
      "anthropic-version", "anthropic-beta", "x-goog-api-client", "x-stainless-lang", "x-stainless-package-version",
      "x-stainless-os", "x-stainless-arch", "x-stainless-runtime", "x-stainless-runtime-version",
      "x-stainless-retry-count", "x-stainless-timeout"};
  return one_of(kKnown, name);
}

bool HeadTextExtractor::is_credential_header(std::string_view name) {
  static constexpr std::array<std::string_view, 6> kCredentials = {
      "authorization", "proxy-authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie"};
  return one_of(kCredentials, name);
}

bool HeadTextExtractor::is_gateway_header(std::string_view name) {
  // The names of gateway/coaching/justification_input.h (kTokenHeader, kReasonHeader).
  static constexpr std::array<std::string_view, 2> kOwn = {"x-promptwall-justification-token",
                                                           "x-promptwall-justification"};
  return one_of(kOwn, name);
}

bool HeadTextExtractor::is_credential_parameter(std::string_view decoded_name) {
  return decoded_name == "key" || decoded_name == "api-key";
}

}  // namespace promptwall::gateway
