#include "classifiers/redactor.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>

namespace promptwall {

std::string Redactor::replacement(const RedactStyle& style, std::string_view value) {
  if (style.kind == RedactStyle::Kind::pseudonym && pseudonyms_)
    return "[" + style.label + "-" + std::to_string(pseudonyms_->number(style.label, value)) + "]";
  if (style.kind == RedactStyle::Kind::label || style.kind == RedactStyle::Kind::pseudonym) {
    auto& numbers = labels_[style.label];
    auto [it, inserted] = numbers.emplace(std::string(value), static_cast<int>(numbers.size()) + 1);
    return "[" + style.label + "-" + std::to_string(it->second) + "]";
  }
  // mask and partial: letters and digits become '*', separators stay; partial keeps the last few.
  const auto* s = reinterpret_cast<const uint8_t*>(value.data());
  const int32_t len = static_cast<int32_t>(value.size());
  int alnum_total = 0;
  for (int32_t i = 0; i < len;) {
    UChar32 c;
    U8_NEXT(s, i, len, c);
    if (c >= 0 && u_isalnum(c)) ++alnum_total;
  }
  const int keep = style.kind == RedactStyle::Kind::partial ? std::clamp(style.keep, 0, alnum_total) : 0;
  std::string out;
  int seen = 0;
  for (int32_t i = 0; i < len;) {
    int32_t start = i;
    UChar32 c;
    U8_NEXT(s, i, len, c);
    if (c >= 0 && u_isalnum(c)) {
      ++seen;
      if (seen > alnum_total - keep) out.append(value.substr(static_cast<size_t>(start), static_cast<size_t>(i - start)));
      else out.push_back('*');
    } else {
      out.append(value.substr(static_cast<size_t>(start), static_cast<size_t>(i - start)));
    }
  }
  return out;
}

std::string Redactor::redact(std::string_view text, const std::vector<Finding>& findings) {
  std::vector<const Finding*> order;
  for (const auto& f : findings) order.push_back(&f);
  std::sort(order.begin(), order.end(), [](const Finding* a, const Finding* b) {
    if (a->span.begin != b->span.begin) return a->span.begin < b->span.begin;
    return a->span.end > b->span.end;
  });
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (size_t i = 0; i < order.size();) {
    const Finding& lead = *order[i];
    Span cluster = lead.span;
    for (++i; i < order.size() && order[i]->span.begin < cluster.end; ++i)
      cluster.end = std::max(cluster.end, order[i]->span.end);
    out.append(text.substr(pos, cluster.begin - pos));
    const RedactStyle& style = rules_.rules()[lead.rule_index].rule.redact;
    out.append(replacement(style, text.substr(cluster.begin, cluster.end - cluster.begin)));
    pos = cluster.end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace promptwall
