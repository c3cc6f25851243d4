#include "rules/policy.h"

#include <algorithm>
#include <array>

namespace promptwall {

std::string_view to_string(Mode m) {
  return m == Mode::monitor ? "monitor" : "enforce";
}

std::optional<Mode> mode_from_string(std::string_view s) {
  for (auto v : {Mode::enforce, Mode::monitor})
    if (to_string(v) == s) return v;
  return std::nullopt;
}

std::string_view to_string(Verdict v) {
  static constexpr std::array<std::string_view, 5> names{"allow", "warn", "redact", "justify", "block"};
  return names[static_cast<size_t>(v)];
}

namespace {

// One layer's say on one finding: its override (rule id before category) replaces the action
// so far, then its floor and ceiling bound the result.
Action apply_layer(const PolicyLayer& layer, const Finding& f, Action action) {
  if (auto it = layer.overrides.find(f.rule_id); it != layer.overrides.end()) {
    action = it->second;
  } else if (auto cat = layer.overrides.find(f.category); cat != layer.overrides.end()) {
    action = cat->second;
  }
  if (layer.floor) action = std::max(action, *layer.floor);
  if (layer.ceiling) action = std::min(action, *layer.ceiling);
  return action;
}

// Action and Verdict share their order; `log` records without changing anything, so it allows.
Verdict verdict_for(Action a) {
  switch (a) {
    case Action::log: return Verdict::allow;
    case Action::warn: return Verdict::warn;
    case Action::redact: return Verdict::redact;
    case Action::justify: return Verdict::justify;
    case Action::block: return Verdict::block;
  }
  return Verdict::block;
}

}  // namespace

bool Decision::coaches() const {
  if (mode != Mode::enforce || verdict == Verdict::block) return false;
  return std::any_of(actions.begin(), actions.end(), [](Action a) { return a == Action::warn || a == Action::justify; });
}

Decision Policy::decide(const std::vector<Finding>& findings, std::span<const PolicyLayer* const> layers) {
  Decision d;
  for (const PolicyLayer* layer : layers)
    if (layer && layer->mode) d.mode = *layer->mode;

  d.actions.reserve(findings.size());
  for (const Finding& f : findings) {
    Action action = f.action;
    for (const PolicyLayer* layer : layers)
      if (layer) action = apply_layer(*layer, f, action);
    d.actions.push_back(action);
    d.verdict = std::max(d.verdict, verdict_for(action));
  }
  return d;
}

}  // namespace promptwall
