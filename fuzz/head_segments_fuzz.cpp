// libFuzzer target for adapters/head_segments: HeadTextExtractor::extract(), which lays out the
// text a request's head sends (path segments, query names and values, header names and values)
// for one scan, and withhold_path_segments(), which keeps a path segment holding a finding out of
// the audit trail and the log. Input framing: the first line is the request target; each further
// line (at most 24) is a header field "name:value" (split at the first ':'; a line without one is
// a name with an empty value). Beyond "no crash, no sanitizer report", it checks the contract:
//   - every piece's [begin, end) lies inside `text`, pieces are in text order and never overlap,
//     each is followed by exactly one '\n', and `text` is nothing but the pieces and their breaks;
//   - the path pieces are the non-empty segments percent-decoded with their index, then the query
//     pieces, then the header pieces; a header value is the value as sent (but Content-Type's);
//     every forwarded header (not transport, not a credential) has exactly one value piece, and a
//     name piece unless it is a known name; labels are the header names in lower case;
//   - credentials never reach `text`: the text (and the labels) are byte-identical when every
//     credential header's value and every `key=` / `api-key=` query value is replaced;
//   - piece_at(offset) for every offset of a piece or its '\n' returns that piece, and null past
//     the last; location() names the piece's kind;
//   - withhold_path_segments keeps the segment count, replaces a segment only by "[*]" and only
//     when its decoded text was found, and never lengthens a segment beyond "[*]".
// Inputs are bounded at 16 KiB, the gateway's head limit.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "encoding/web_text.h"
#include "gateway/adapters/head_segments.h"
#include "gateway/catalog/request_path.h"

namespace {

using promptwall::gateway::HeaderField;
using promptwall::gateway::HeadText;
using promptwall::gateway::HeadTextExtractor;

void require(bool ok) {
  if (!ok) std::abort();
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

// The target with every credential parameter's value replaced by `stand_in`.
std::string replace_credential_parameters(std::string_view target, std::string_view stand_in) {
  const size_t question = target.find('?');
  if (question == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, question + 1));
  std::string_view query = target.substr(question + 1);
  for (bool first = true;; first = false) {
    const size_t amp = query.find('&');
    const std::string_view parameter = query.substr(0, amp);
    if (!first) out += '&';
    const size_t equals = parameter.find('=');
    const std::string name = promptwall::encoding::form_decode(parameter.substr(0, equals));
    if (equals != std::string_view::npos && HeadTextExtractor::is_credential_parameter(name)) {
      out += parameter.substr(0, equals + 1);
      out += stand_in;
    } else {
      out += parameter;
    }
    if (amp == std::string_view::npos) return out;
    query.remove_prefix(amp + 1);
  }
}

void check_layout(const HeadText& head) {
  size_t at = 0;
  for (const HeadText::Piece& p : head.pieces) {
    require(p.begin == at && p.begin <= p.end && p.end < head.text.size() && head.text[p.end] == '\n');
    require(p.label_begin <= p.label_end && p.label_end <= head.labels.size());
    at = p.end + 1;
    for (size_t offset = p.begin; offset <= p.end; ++offset) require(head.piece_at(offset) == &p);
    const std::string location = head.location(p);
    switch (p.kind) {
      case HeadText::Kind::path_segment: require(location.starts_with("path[")); break;
      case HeadText::Kind::query_name:
      case HeadText::Kind::query_value: require(location.starts_with("query:")); break;
      case HeadText::Kind::header_name:
      case HeadText::Kind::header_value: require(location.starts_with("header:")); break;
    }
  }
  require(at == head.text.size());
  require(head.piece_at(head.text.size()) == nullptr);
}

void check_expected_pieces(const HeadText& head, std::string_view target, std::span<const HeaderField> fields) {
  size_t i = 0;
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  // Path segments, decoded, with their index after the first '/'.
  if (!path.empty() && path.front() == '/') {
    std::string_view rest = path.substr(1);
    for (uint32_t index = 0;; ++index) {
      const size_t slash = rest.find('/');
      const std::string_view segment = rest.substr(0, slash);
      if (!segment.empty()) {
        require(i < head.pieces.size() && head.pieces[i].kind == HeadText::Kind::path_segment &&
                head.pieces[i].index == index &&
                head.piece_text(head.pieces[i]) == promptwall::gateway::decode_path_segment(segment));
        ++i;
      }
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
  }
  while (i < head.pieces.size() && (head.pieces[i].kind == HeadText::Kind::query_name ||
                                    head.pieces[i].kind == HeadText::Kind::query_value)) {
    require(question != std::string_view::npos);
    const HeadText::Piece& p = head.pieces[i];
    const std::string_view label = std::string_view(head.labels).substr(p.label_begin, p.label_end - p.label_begin);
    require(!HeadTextExtractor::is_credential_parameter(label));
    if (p.kind == HeadText::Kind::query_name) require(head.piece_text(p) == label);
    ++i;
  }
  for (const HeaderField& field : fields) {
    if (HeadTextExtractor::is_transport_header(field.name) || HeadTextExtractor::is_credential_header(field.name))
      continue;
    const std::string name = lower(field.name);
    if (!HeadTextExtractor::is_known_header_name(name)) {
      require(i < head.pieces.size() && head.pieces[i].kind == HeadText::Kind::header_name &&
              head.piece_text(head.pieces[i]) == name);
      ++i;
    }
    require(i < head.pieces.size() && head.pieces[i].kind == HeadText::Kind::header_value);
    const HeadText::Piece& p = head.pieces[i];
    require(std::string_view(head.labels).substr(p.label_begin, p.label_end - p.label_begin) == name);
    if (name != "content-type") require(head.piece_text(p) == field.value);
    else require(head.piece_text(p).size() <= field.value.size());
    ++i;
  }
  require(i == head.pieces.size());
}

void check_withheld(std::string_view path, const HeadText& head) {
  std::vector<std::string_view> found;
  for (size_t k = 0; k < head.pieces.size(); k += 2)
    if (head.pieces[k].kind == HeadText::Kind::path_segment) found.push_back(head.piece_text(head.pieces[k]));
  const std::string out = promptwall::gateway::withhold_path_segments(path, found);
  require(std::count(out.begin(), out.end(), '/') == std::count(path.begin(), path.end(), '/'));
  std::string_view in_rest = path, out_rest = out;
  for (;;) {
    const size_t in_slash = in_rest.find('/'), out_slash = out_rest.find('/');
    const std::string_view in_segment = in_rest.substr(0, in_slash), out_segment = out_rest.substr(0, out_slash);
    const std::string decoded = promptwall::gateway::decode_path_segment(in_segment);
    const bool was_found = !in_segment.empty() && std::find(found.begin(), found.end(), decoded) != found.end();
    require(out_segment == (was_found ? std::string_view("[*]") : in_segment));
    if (in_slash == std::string_view::npos) {
      require(out_slash == std::string_view::npos);
      break;
    }
    in_rest.remove_prefix(in_slash + 1);
    out_rest.remove_prefix(out_slash + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  const std::string_view target = input.substr(0, nl);
  std::vector<HeaderField> fields;
  for (std::string_view rest = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
       !rest.empty() && fields.size() < 24;) {
    const size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    const size_t colon = line.find(':');
    fields.push_back({line.substr(0, colon), colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1)});
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  }

  const HeadTextExtractor extractor;
  const HeadText head = extractor.extract(target, fields);
  check_layout(head);
  check_expected_pieces(head, target, fields);
  check_withheld(target.substr(0, target.find('?')), head);

  // Credentials are not content: the text does not depend on them in any way.
  constexpr std::string_view kStandIn = "pw-fuzz-credential-stand-in";
  std::vector<HeaderField> replaced = fields;
  for (HeaderField& f : replaced)
    if (HeadTextExtractor::is_credential_header(f.name)) f.value = kStandIn;
  const std::string replaced_target = replace_credential_parameters(target, kStandIn);
  const HeadText again = extractor.extract(replaced_target, replaced);
  // (Equality is the check: a stand-in found in the text would have to be in the original's too,
  // which the fuzzer can arrange through a header name or a percent-escape.)
  require(again.text == head.text && again.labels == head.labels && again.pieces.size() == head.pieces.size());
  return 0;
}
