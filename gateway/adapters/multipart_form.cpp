#include "gateway/adapters/multipart_form.h"

#include "encoding/web_text.h"

namespace promptwall::gateway {
namespace {

using encoding::ascii_lowercase;
using encoding::trim_ows;

// The parameters of a header value after its first ';' ("form-data; name=\"a\"; filename=b"),
// as (lower-case name, unquoted value) pairs; nullopt when a quoted value is not closed.
std::optional<std::vector<std::pair<std::string, std::string>>> parameters(std::string_view value) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = value.find(';');
  while (pos != std::string_view::npos) {
    ++pos;
    while (pos < value.size() && (value[pos] == ' ' || value[pos] == '\t')) ++pos;
    const size_t eq = value.find('=', pos);
    if (eq == std::string_view::npos) {
      if (!trim_ows(value.substr(pos)).empty()) return std::nullopt;
      break;
    }
    std::string name = ascii_lowercase(trim_ows(value.substr(pos, eq - pos)));
    size_t i = eq + 1;
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    std::string v;
    if (i < value.size() && value[i] == '"') {
      bool closed = false;
      for (++i; i < value.size(); ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) {
          v += value[++i];
        } else if (value[i] == '"') {
          closed = true;
          ++i;
          break;
        } else {
          v += value[i];
        }
      }
      if (!closed) return std::nullopt;
      pos = value.find(';', i);
      if (!trim_ows(value.substr(i, pos == std::string_view::npos ? pos : pos - i)).empty()) return std::nullopt;
    } else {
      pos = value.find(';', i);
      v = std::string(trim_ows(value.substr(i, pos == std::string_view::npos ? pos : pos - i)));
    }
    out.emplace_back(std::move(name), std::move(v));
  }
  return out;
}

const std::string* find_parameter(const std::vector<std::pair<std::string, std::string>>& params, std::string_view name) {
  for (const auto& [k, v] : params)
    if (k == name) return &v;
  return nullptr;
}

MultipartForm refused(std::string error) {
  MultipartForm f;
  f.error = std::move(error);
  return f;
}

}  // namespace

MultipartForm parse_multipart_form(std::string_view content_type, std::string_view body, MultipartKind kind) {
  const auto ct_params = parameters(content_type);
  const std::string* boundary = ct_params ? find_parameter(*ct_params, "boundary") : nullptr;
  if (boundary == nullptr || boundary->empty() || boundary->size() > 70)
    return refused("multipart body without a boundary of 1 to 70 characters");
  const std::string opening = "--" + *boundary;
  const std::string delimiter = "\r\n--" + *boundary;
  if (!body.starts_with(opening)) return refused("multipart body does not start with its boundary (a preamble is not read)");

  MultipartForm form;
  size_t pos = opening.size();
  for (size_t index = 0;; ++index) {
    // After a boundary: "--" closes the body, CRLF starts a part.
    if (body.substr(pos, 2) == "--") {
      const std::string_view rest = body.substr(pos + 2);
      if (!rest.empty() && rest != "\r\n") return refused("bytes after the closing boundary at byte " + std::to_string(pos + 2));
      break;
    }
    if (body.substr(pos, 2) != "\r\n") return refused("boundary not followed by CRLF at byte " + std::to_string(pos));
    pos += 2;
    const std::string where = "part " + std::to_string(index + 1);
    MultipartPart part;
    bool disposition = false;
    // Header lines up to the empty line.
    while (true) {
      const size_t eol = body.find("\r\n", pos);
      if (eol == std::string_view::npos) return refused(where + ": headers do not end");
      const std::string_view line = body.substr(pos, eol - pos);
      pos = eol + 2;
      if (line.empty()) break;
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) return refused(where + ": a header line without ':' at byte " + std::to_string(eol - line.size()));
      const std::string name = ascii_lowercase(trim_ows(line.substr(0, colon)));
      const std::string_view value = trim_ows(line.substr(colon + 1));
      const auto params = parameters(value);
      if (!params) return refused(where + ": malformed " + name + " parameters");
      const std::string first = ascii_lowercase(trim_ows(value.substr(0, value.find(';'))));
      if (name == "content-disposition") {
        const std::string* n = find_parameter(*params, "name");
        if (disposition) return refused(where + ": two Content-Disposition fields");
        if (kind == MultipartKind::form_data && (first != "form-data" || n == nullptr))
          return refused(where + ": Content-Disposition is not form-data with a name");
        disposition = true;
        if (n) part.name = *n;
        if (const std::string* f = find_parameter(*params, "filename")) part.filename = *f;
        if (find_parameter(*params, "filename*") != nullptr && !part.filename) part.filename = "";
      } else if (name == "content-type") {
        part.content_type = first;
        if (const std::string* c = find_parameter(*params, "charset")) part.charset = ascii_lowercase(*c);
      } else if (name == "content-transfer-encoding") {
        if (first != "7bit" && first != "8bit" && first != "binary")
          return refused(where + ": Content-Transfer-Encoding " + first + " is not read");
      }
    }
    if (!disposition && kind == MultipartKind::form_data) return refused(where + " has no Content-Disposition name");
    const size_t end = body.find(delimiter, pos);
    if (end == std::string_view::npos) return refused(where + ": no closing boundary");
    part.content_begin = pos;
    part.content_end = end;
    form.parts.push_back(std::move(part));
    pos = end + delimiter.size();
  }
  form.ok = true;
  return form;
}

}  // namespace promptwall::gateway
