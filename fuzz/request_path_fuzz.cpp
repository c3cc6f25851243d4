// libFuzzer target for catalog/request_path: normalise_request_path(), the reading of a request
// target that decides, before routing, whether a path stays inside the part of the service it is
// routed to (a path that climbs out is refused). Input: the request target as the client sent it.
// Beyond "no crash, no sanitizer report", it checks the header's contract against an independent
// reference (RFC 3986 5.2.4 remove_dot_segments, written as the RFC's input-buffer loop):
//   - malformed exactly when the target is empty or does not start with '/';
//   - ok and !changed: `target` is empty (nothing allocated) and the input's path has no dot
//     segment in any spelling ("." / ".." with raw dots or %2e of either case): it stands byte
//     for byte; and every such clean path that no server could read as hiding a dot segment
//     (after %2F, %5C or '\' as separators, or ';' path parameters stripped) comes back ok and
//     unchanged;
//   - ok and changed: `target` starts with '/', its path has no dot segment in any spelling, its
//     query is the input's byte for byte, it is what RFC 3986 remove_dot_segments makes of the
//     path, and normalising it again is ok and unchanged (a fixed point);
//   - leaves_base exactly when, reading dot segments in order, a ".." would pop above the root
//     (the result never climbs above the base; RFC 3986's silent clamp is never applied);
//   - ambiguous exactly when some segment that is not itself a dot segment holds one once %2F,
//     %5C, '\' or ';' are read as a server might;
//   - decode_path_segment never lengthens a segment and undoes encoding::percent_encode.
// Inputs are bounded at 8 KiB: the gateway's head limit (16 KiB) bounds the target first.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "encoding/web_text.h"
#include "gateway/catalog/request_path.h"

namespace {

using promptwall::gateway::NormalisedPath;

void require(bool ok) {
  if (!ok) std::abort();
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// The segment with every "%2e"/"%2E" read as '.', when the segment is made of dots only; else "".
std::string dots_of(std::string_view segment) {
  std::string out;
  for (size_t i = 0; i < segment.size();) {
    if (segment[i] == '.') {
      out += '.';
      ++i;
    } else if (segment.size() - i >= 3 && segment[i] == '%' && segment[i + 1] == '2' && lower(segment[i + 2]) == 'e') {
      out += '.';
      i += 3;
    } else {
      return {};
    }
  }
  return out;
}

bool is_dot_segment(std::string_view segment) {
  const std::string d = dots_of(segment);
  return d == "." || d == "..";
}

std::vector<std::string_view> segments_of(std::string_view path) {
  std::vector<std::string_view> out;
  std::string_view rest = path.substr(1);
  for (;;) {
    const size_t slash = rest.find('/');
    out.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    rest.remove_prefix(slash + 1);
  }
}

// Whether a server reading %2F, %5C and '\' as separators, or stripping ";..." path parameters,
// would find a dot segment in `segment`.
bool may_hide_dot_segment(std::string_view segment) {
  std::string split;  // separators as '/'
  for (size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '\\') {
      split += '/';
    } else if (segment.size() - i >= 3 && segment[i] == '%' &&
               ((segment[i + 1] == '2' && lower(segment[i + 2]) == 'f') ||
                (segment[i + 1] == '5' && lower(segment[i + 2]) == 'c'))) {
      split += '/';
      i += 2;
    } else {
      split += segment[i];
    }
  }
  const std::string rooted = "/" + split;
  for (std::string_view piece : segments_of(rooted)) {
    piece = piece.substr(0, piece.find(';'));
    if (is_dot_segment(piece)) return true;
  }
  return false;
}

// RFC 3986 5.2.4, literally (rules A-E over an input buffer), on a path whose dot segments are
// already spelt with raw dots. It clamps "/.." at the root, as the RFC does.
std::string remove_dot_segments(std::string in) {
  std::string out;
  auto drop_last = [&] {
    const size_t slash = out.rfind('/');
    out.erase(slash == std::string::npos ? 0 : slash);
  };
  while (!in.empty()) {
    if (in.starts_with("../")) in.erase(0, 3);
    else if (in.starts_with("./")) in.erase(0, 2);
    else if (in.starts_with("/./")) in.erase(0, 2);
    else if (in == "/.") in = "/";
    else if (in.starts_with("/../")) { in.erase(0, 3); drop_last(); }
    else if (in == "/..") { in = "/"; drop_last(); }
    else if (in == "." || in == "..") in.clear();
    else {
      const size_t next = in.find('/', in.front() == '/' ? 1 : 0);
      out += in.substr(0, next);
      in.erase(0, next == std::string::npos ? in.size() : next);
    }
  }
  return out;
}

void check(std::string_view target) {
  const NormalisedPath n = promptwall::gateway::normalise_request_path(target);
  if (target.empty() || target.front() != '/') {
    require(n.status == NormalisedPath::Status::malformed && !n.changed && n.target.empty());
    return;
  }
  require(n.status != NormalisedPath::Status::malformed);
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query = question == std::string_view::npos ? std::string_view() : target.substr(question);
  const std::vector<std::string_view> segments = segments_of(path);

  bool has_dots = false, hides = false, climbs = false;
  long depth = 0;
  std::string spelt = "";  // the path with its dot segments in raw dots
  for (const std::string_view s : segments) {
    const std::string d = dots_of(s);
    const bool dot = d == "." || d == "..";
    has_dots = has_dots || dot;
    if (!dot) hides = hides || may_hide_dot_segment(s);
    if (d == "..") climbs = climbs || --depth < 0;
    else if (!dot) ++depth;
    spelt += '/';
    spelt += dot ? std::string_view(d) : s;
  }

  switch (n.status) {
    case NormalisedPath::Status::ok:
      require(!hides && !climbs);
      if (!n.changed) {
        require(n.target.empty() && !has_dots);
        break;
      }
      require(has_dots && n.target.starts_with('/') && n.target.ends_with(query));
      {
        const std::string_view out_path = std::string_view(n.target).substr(0, n.target.size() - query.size());
        require(out_path.find('?') == std::string_view::npos);
        for (const std::string_view s : segments_of(out_path)) require(!is_dot_segment(s));
        require(out_path == remove_dot_segments(spelt));
        const NormalisedPath again = promptwall::gateway::normalise_request_path(n.target);
        require(again.status == NormalisedPath::Status::ok && !again.changed && again.target.empty());
      }
      break;
    case NormalisedPath::Status::leaves_base:
      require(climbs && !n.changed && n.target.empty());
      break;
    case NormalisedPath::Status::ambiguous:
      require(hides && !n.changed && n.target.empty());
      break;
    case NormalisedPath::Status::malformed:
      require(false);
  }
  // A segment that may hide a dot segment is refused whatever else the path holds.
  require((n.status == NormalisedPath::Status::ambiguous) == hides);
  // A clean path (no dot segment, none hidden) is never refused and never touched.
  if (!has_dots && !hides) require(n.status == NormalisedPath::Status::ok && !n.changed);
  // With no hidden dot segment, dot segments decide alone: refused exactly when they climb.
  if (!hides) require((n.status == NormalisedPath::Status::leaves_base) == climbs);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8192) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check(input);

  const std::string decoded = promptwall::gateway::decode_path_segment(input);
  require(decoded.size() <= input.size());
  require(promptwall::gateway::decode_path_segment(promptwall::encoding::percent_encode(input)) == input);
  return 0;
}
