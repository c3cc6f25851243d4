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
  // A host under one of the service's wildcards is a public name of it too: an upload to
  // acct.blob.core.windows.net goes to acct.blob.core.windows.net, not to the configured upstream.
  auto claimed = [&](std::string_view h) {
    return std::any_of(hosts.begin(), hosts.end(), [&](const std::string& mine) {
      if (mine == h) return true;
      return mine.starts_with("*.") && h.size() > mine.size() - 1 && h.ends_with(std::string_view(mine).substr(1));
    });
  };
  if (public_names && claimed(host)) target.host = std::string(host);
  return target;
}

}  // namespace promptwall::gateway

namespace promptwall::gateway {

std::string_view to_string(FilePolicy p) {
  switch (p) {
    case FilePolicy::block: return "block";
    case FilePolicy::warn: return "warn";
    case FilePolicy::allow: return "allow";
  }
  return "block";
}

FilePolicy Service::file_policy(std::string_view cause) const {
  if (auto it = unscannable.find(cause); it != unscannable.end()) return it->second;
  return files.value_or(FilePolicy::block);
}

}  // namespace promptwall::gateway
