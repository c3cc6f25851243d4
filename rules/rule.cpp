#include "rules/rule.h"

#include <algorithm>
#include <array>

namespace promptwall {

std::string_view to_string(Severity s) {
  static constexpr std::array<std::string_view, 4> names{"low", "medium", "high", "critical"};
  return names[static_cast<size_t>(s)];
}

std::string_view to_string(Action a) {
  static constexpr std::array<std::string_view, 4> names{"log", "warn", "redact", "block"};
  return names[static_cast<size_t>(a)];
}

std::optional<Severity> severity_from_string(std::string_view s) {
  for (auto v : {Severity::low, Severity::medium, Severity::high, Severity::critical})
    if (to_string(v) == s) return v;
  return std::nullopt;
}

std::optional<Action> action_from_string(std::string_view s) {
  for (auto v : {Action::log, Action::warn, Action::redact, Action::block})
    if (to_string(v) == s) return v;
  return std::nullopt;
}

bool is_known_category(std::string_view category) {
  static constexpr std::array<std::string_view, 15> known{
      "classification_marking", "restricted_marking", "doc_number", "national_id", "passport",
      "tax_code", "social_insurance", "phone", "email", "bank_account", "credit_card", "secret",
      "ip_address", "credential", "custom_term"};
  return std::find(known.begin(), known.end(), category) != known.end();
}

std::string to_string(const SourceLocation& where) {
  if (where.line <= 0) return where.file;
  return where.file + ":" + std::to_string(where.line);
}

std::string to_string(const Diagnostic& d) {
  std::string out = to_string(d.where);
  out += d.level == Diagnostic::Level::error ? ": error: " : ": warning: ";
  if (!d.rule_id.empty()) out += "rule " + d.rule_id + ": ";
  out += d.message;
  return out;
}

bool has_errors(const std::vector<Diagnostic>& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.level == Diagnostic::Level::error; });
}

}  // namespace promptwall
