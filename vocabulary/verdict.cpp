#include "vocabulary/verdict.h"

#include <array>
#include <cstddef>

namespace promptwall {

std::string_view to_string(Severity s) {
  static constexpr std::array<std::string_view, 4> names{"low", "medium", "high", "critical"};
  return names[static_cast<size_t>(s)];
}

std::string_view to_string(Action a) {
  static constexpr std::array<std::string_view, 5> names{"log", "warn", "redact", "justify", "block"};
  return names[static_cast<size_t>(a)];
}

std::optional<Severity> severity_from_string(std::string_view s) {
  for (auto v : {Severity::low, Severity::medium, Severity::high, Severity::critical})
    if (to_string(v) == s) return v;
  return std::nullopt;
}

std::optional<Action> action_from_string(std::string_view s) {
  for (auto v : {Action::log, Action::warn, Action::redact, Action::justify, Action::block})
    if (to_string(v) == s) return v;
  return std::nullopt;
}

}  // namespace promptwall
