// The words a finding is judged in, shared by the two halves of the core: rules/ declares a rule's
// severity and action, classifiers/ stamps them on every Finding. They live here, below both, so
// that classifiers/ need not include a rules/ header to name them (only the Scanner and Redactor
// meet a RuleSet) and rules/ need not know a Finding.
//
// Plain values, no behaviour beyond naming them. The order of each enum is part of the contract:
// Severity and Action compare by strength (a request's decision is its strongest finding's
// action), and the spellings are those of rule packs, the configuration, scan output and audit
// events, so they never change. Pure functions; safe from any thread.
//
// Span (byte offsets into the original text) stays in classifiers/offset_map.h: it is a text
// piece rules/ already depends on, not part of a verdict.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace promptwall {

enum class Severity : uint8_t { low, medium, high, critical };
// Ordered by strength: the decision for a request is the strongest action among its findings.
// warn and justify both stop the first request with a coaching answer in enforce mode (the
// gateway's coaching step); warn lets the person go on with an acknowledgment, justify needs a
// reason (and may be limited to some units or groups). justify sits above redact: a request that
// needs a justification is stopped until it has one, whatever else would be redacted in it.
enum class Action : uint8_t { log, warn, redact, justify, block };

std::string_view to_string(Severity s);
std::string_view to_string(Action a);
// nullopt for any other spelling (callers report it with their own file and line).
std::optional<Severity> severity_from_string(std::string_view s);
std::optional<Action> action_from_string(std::string_view s);

}  // namespace promptwall
