#include "gateway/catalog/request_path.h"

#include <vector>

#include "encoding/web_text.h"

namespace promptwall::gateway {
namespace {

char lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// "%XY" at s[i], with X == hi and Y == lo in either case.
bool escape_at(std::string_view s, size_t i, char hi, char lo) {
  return s.size() - i >= 3 && s[i] == '%' && s[i + 1] == hi && lower_ascii(s[i + 2]) == lo;
}

// 1 for ".", 2 for "..", spelt with raw dots or %2e of either case; 0 for anything else.
int dot_count(std::string_view segment) {
  int dots = 0;
  for (size_t i = 0; i < segment.size();) {
    if (segment[i] == '.') {
      i += 1;
    } else if (escape_at(segment, i, '2', 'e')) {
      i += 3;
    } else {
      return 0;
    }
    if (++dots > 2) return 0;
  }
  return dots;
}

// Whether a segment that is not a dot segment would hold one for a server that reads %2F, %5C or
// '\' as separators, or strips path parameters (from ';').
bool hides_dot_segment(std::string_view segment) {
  size_t start = 0;
  for (size_t i = 0;; ) {
    size_t separator = 0;
    if (i < segment.size()) {
      if (segment[i] == '\\') separator = 1;
      else if (escape_at(segment, i, '2', 'f') || escape_at(segment, i, '5', 'c')) separator = 3;
      else {
        ++i;
        continue;
      }
    }
    std::string_view piece = segment.substr(start, i - start);
    piece = piece.substr(0, piece.find(';'));
    if (dot_count(piece) > 0) return true;
    if (i >= segment.size()) return false;
    i += separator;
    start = i;
  }
}

// Calls `each` with every '/'-separated segment of `path` after its leading '/'.
template <class Each>
void for_each_segment(std::string_view path, Each&& each) {
  std::string_view rest = path.substr(1);
  for (;;) {
    const size_t slash = rest.find('/');
    if (!each(rest.substr(0, slash))) return;
    if (slash == std::string_view::npos) return;
    rest.remove_prefix(slash + 1);
  }
}

}  // namespace

NormalisedPath normalise_request_path(std::string_view target) {
  NormalisedPath out;
  if (target.empty() || target.front() != '/') {
    out.status = NormalisedPath::Status::malformed;
    return out;
  }
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query = question == std::string_view::npos ? std::string_view() : target.substr(question);

  // The common case first, allocating nothing: no dot segment in any spelling.
  bool has_dots = false;
  for_each_segment(path, [&](std::string_view segment) {
    if (dot_count(segment) > 0) has_dots = true;
    else if (hides_dot_segment(segment)) out.status = NormalisedPath::Status::ambiguous;
    return out.status == NormalisedPath::Status::ok;
  });
  if (out.status != NormalisedPath::Status::ok || !has_dots) return out;

  // RFC 3986 5.2.4 over the segments, refusing to pop past the root.
  std::vector<std::string_view> kept;
  bool ends_in_dots = false;
  for_each_segment(path, [&](std::string_view segment) {
    const int dots = dot_count(segment);
    ends_in_dots = dots > 0;
    if (dots == 2) {
      if (kept.empty()) {
        out.status = NormalisedPath::Status::leaves_base;
        return false;
      }
      kept.pop_back();
    } else if (dots == 0) {
      kept.push_back(segment);
    }
    return true;
  });
  if (out.status != NormalisedPath::Status::ok) return out;
  out.changed = true;
  out.target.reserve(target.size());
  for (const std::string_view segment : kept) {
    out.target += '/';
    out.target += segment;
  }
  // "/a/b/.." is "/a/": the last dot segment leaves its slash.
  if (out.target.empty() || ends_in_dots) out.target += '/';
  out.target += query;
  return out;
}

std::string_view to_string(NormalisedPath::Status status) {
  switch (status) {
    case NormalisedPath::Status::ok: return "ok";
    case NormalisedPath::Status::leaves_base: return "leaves_base";
    case NormalisedPath::Status::ambiguous: return "ambiguous";
    case NormalisedPath::Status::malformed: return "malformed";
  }
  return "malformed";
}

std::string decode_path_segment(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '%' && segment.size() - i >= 3) {
      const int hi = encoding::hex_digit_value(segment[i + 1]);
      const int lo = encoding::hex_digit_value(segment[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += segment[i];
  }
  return out;
}

}  // namespace promptwall::gateway
