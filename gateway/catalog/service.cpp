#include "gateway/catalog/service.h"

#include <algorithm>
#include <iterator>

namespace promptwall::gateway {

std::string_view to_string(Schema s) {
  switch (s) {
    case Schema::openai: return "openai";
    case Schema::gemini: return "gemini";
    case Schema::anthropic: return "anthropic";
    case Schema::json: return "json";
    case Schema::text: return "text";
    case Schema::chatgpt_web: return "chatgpt_web";
    case Schema::gemini_web: return "gemini_web";
  }
  return "json";
}

std::optional<Schema> schema_from_string(std::string_view s) {
  for (Schema v : kEverySchema)
    if (to_string(v) == s) return v;
  return std::nullopt;
}

std::string schema_names() {
  std::string names;
  const size_t n = std::size(kEverySchema);
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) names += i + 1 == n ? " or " : ", ";
    names += to_string(kEverySchema[i]);
  }
  return names;
}

UpstreamTarget upstream_for_host(const Service& service, std::string_view host) {
  UpstreamTarget target = *service.upstream;
  const auto& hosts = service.hosts;
  const bool public_names = std::find(hosts.begin(), hosts.end(), target.host) != hosts.end();
  if (public_names && std::find(hosts.begin(), hosts.end(), host) != hosts.end()) target.host = std::string(host);
  return target;
}

}  // namespace promptwall::gateway
