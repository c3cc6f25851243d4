#include "rules/rule.h"

#include <algorithm>
#include <array>

namespace promptwall {

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
