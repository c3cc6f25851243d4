// Policy: turns a request's findings into one decision, adjusted by layers of policy (the
// configuration's global policy, then the service's, then the requester's unit and each of their
// groups: gateway/identity/policy_scopes.h builds those), and the mode.
//
// Invariants: a decision never acts more weakly than a layer's floor nor more strongly than its
// ceiling allows, applied in layer order (a later layer's override wins); the verdict is the
// strongest effective action among the findings; no findings means allow.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "classifiers/finding.h"
#include "rules/rule.h"

namespace promptwall {

// enforce: act on the decision. monitor: decide and record, but forward unchanged.
enum class Mode : uint8_t { enforce, monitor };
std::string_view to_string(Mode m);
std::optional<Mode> mode_from_string(std::string_view s);

// Adjustments one layer of policy makes to the actions its findings call for.
struct PolicyLayer {
  std::optional<Mode> mode;       // unset: keep the mode of the layers before
  std::optional<Action> floor;    // every finding acts at least this strongly
  std::optional<Action> ceiling;  // and at most this strongly
  // Per rule id or category (a rule id wins over its category): the action instead of the rule's.
  std::map<std::string, Action, std::less<>> overrides;
};

// What the request gets. Ordered by strength (as Action). warn and justify are coached in enforce
// mode: the first request is answered with what was found and how to go on, and the same request
// resent with a justification (gateway/coaching/) is forwarded (redacted too when it has redact
// findings).
enum class Verdict : uint8_t { allow, warn, redact, justify, block };
std::string_view to_string(Verdict v);

struct Decision {
  Verdict verdict = Verdict::allow;  // what enforce mode does
  Mode mode = Mode::enforce;
  // The effective action of each finding, in the order of the findings given to decide().
  std::vector<Action> actions;
  // Whether the request is changed or refused outright: only in enforce mode. warn and justify do
  // not count here: they are stopped for coaching until justified (coaches()), then forwarded.
  bool acts() const {
    return mode == Mode::enforce && verdict != Verdict::allow && verdict != Verdict::warn && verdict != Verdict::justify;
  }
  // Whether the first request waits for a justification: enforce mode, some finding acts warn or
  // justify and none blocks.
  bool coaches() const;
};

class Policy {
 public:
  // `layers` in order, most general first; null entries are skipped.
  static Decision decide(const std::vector<Finding>& findings, std::span<const PolicyLayer* const> layers);
};

}  // namespace promptwall
