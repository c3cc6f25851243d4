#include <catch2/catch.hpp>

#include <vector>

#include "rules/policy.h"

using namespace promptwall;

namespace {

Finding finding(std::string rule_id, std::string category, Action action) {
  Finding f;
  f.rule_id = std::move(rule_id);
  f.category = std::move(category);
  f.action = action;
  return f;
}

Decision decide(const std::vector<Finding>& findings, std::vector<const PolicyLayer*> layers) {
  return Policy::decide(findings, layers);
}

}  // namespace

TEST_CASE("no findings allow, whatever the layers say", "[policy]") {
  PolicyLayer strict;
  strict.floor = Action::block;
  Decision d = decide({}, {&strict});
  CHECK(d.verdict == Verdict::allow);
  CHECK(d.actions.empty());
  CHECK(d.mode == Mode::enforce);
  CHECK_FALSE(d.acts());
}

TEST_CASE("without layers each finding keeps its rule's action and the strongest wins", "[policy]") {
  std::vector<Finding> fs{finding("a", "phone", Action::warn), finding("b", "secret", Action::redact),
                          finding("c", "email", Action::log)};
  Decision d = decide(fs, {});
  CHECK(d.actions == std::vector<Action>{Action::warn, Action::redact, Action::log});
  CHECK(d.verdict == Verdict::redact);
  CHECK(d.acts());
}

TEST_CASE("actions map to verdicts: log allows", "[policy]") {
  CHECK(decide({finding("a", "email", Action::log)}, {}).verdict == Verdict::allow);
  CHECK(decide({finding("a", "email", Action::warn)}, {}).verdict == Verdict::warn);
  CHECK(decide({finding("a", "email", Action::redact)}, {}).verdict == Verdict::redact);
  CHECK(decide({finding("a", "email", Action::block)}, {}).verdict == Verdict::block);
}

TEST_CASE("a rule-id override wins over a category override in the same layer", "[policy]") {
  PolicyLayer layer;
  layer.overrides["phone"] = Action::block;
  layer.overrides["vn-pii/phone-mobile"] = Action::log;
  Decision d = decide({finding("vn-pii/phone-mobile", "phone", Action::warn), finding("other", "phone", Action::warn)},
                      {&layer});
  CHECK(d.actions == std::vector<Action>{Action::log, Action::block});
  CHECK(d.verdict == Verdict::block);
}

TEST_CASE("an override may weaken a rule's action", "[policy]") {
  PolicyLayer layer;
  layer.overrides["secret"] = Action::warn;
  Decision d = decide({finding("s", "secret", Action::block)}, {&layer});
  CHECK(d.actions.front() == Action::warn);
  CHECK(d.verdict == Verdict::warn);
}

TEST_CASE("a floor raises weaker findings and leaves stronger ones", "[policy]") {
  PolicyLayer layer;
  layer.floor = Action::redact;
  Decision d = decide({finding("a", "email", Action::log), finding("b", "secret", Action::block)}, {&layer});
  CHECK(d.actions == std::vector<Action>{Action::redact, Action::block});
}

TEST_CASE("a ceiling lowers stronger findings and leaves weaker ones", "[policy]") {
  PolicyLayer layer;
  layer.ceiling = Action::warn;
  Decision d = decide({finding("a", "email", Action::log), finding("b", "secret", Action::block)}, {&layer});
  CHECK(d.actions == std::vector<Action>{Action::log, Action::warn});
  CHECK(d.verdict == Verdict::warn);
}

TEST_CASE("a layer's own override is bounded by its floor and ceiling", "[policy]") {
  PolicyLayer layer;
  layer.overrides["secret"] = Action::block;
  layer.ceiling = Action::redact;
  CHECK(decide({finding("s", "secret", Action::log)}, {&layer}).actions.front() == Action::redact);

  PolicyLayer low;
  low.overrides["email"] = Action::log;
  low.floor = Action::warn;
  CHECK(decide({finding("e", "email", Action::block)}, {&low}).actions.front() == Action::warn);
}

TEST_CASE("when floor and ceiling cross, the ceiling has the last word", "[policy]") {
  PolicyLayer layer;
  layer.floor = Action::block;
  layer.ceiling = Action::warn;
  CHECK(decide({finding("a", "email", Action::log)}, {&layer}).actions.front() == Action::warn);
}

TEST_CASE("a later layer's override wins over an earlier layer's", "[policy]") {
  PolicyLayer global;
  global.overrides["national_id"] = Action::block;
  PolicyLayer service;
  service.overrides["vn-pii/cccd"] = Action::redact;
  Decision d = decide({finding("vn-pii/cccd", "national_id", Action::warn)}, {&global, &service});
  CHECK(d.actions.front() == Action::redact);
  CHECK(d.verdict == Verdict::redact);

  // In the other order the category override comes last and wins.
  d = decide({finding("vn-pii/cccd", "national_id", Action::warn)}, {&service, &global});
  CHECK(d.actions.front() == Action::block);
}

TEST_CASE("a later layer can lift an earlier ceiling, and an earlier floor is re-bounded later", "[policy]") {
  PolicyLayer global;
  global.ceiling = Action::warn;
  PolicyLayer service;
  service.overrides["secret"] = Action::block;
  CHECK(decide({finding("s", "secret", Action::redact)}, {&global, &service}).actions.front() == Action::block);

  PolicyLayer floor_first;
  floor_first.floor = Action::block;
  PolicyLayer ceiling_later;
  ceiling_later.ceiling = Action::redact;
  CHECK(decide({finding("e", "email", Action::log)}, {&floor_first, &ceiling_later}).actions.front() ==
        Action::redact);
}

TEST_CASE("null layers are skipped", "[policy]") {
  PolicyLayer layer;
  layer.floor = Action::warn;
  Decision d = decide({finding("a", "email", Action::log)}, {nullptr, &layer, nullptr});
  CHECK(d.actions.front() == Action::warn);
}

TEST_CASE("the mode is the last layer's that sets one, enforce by default", "[policy]") {
  PolicyLayer monitor;
  monitor.mode = Mode::monitor;
  PolicyLayer enforce;
  enforce.mode = Mode::enforce;
  PolicyLayer silent;  // no mode: keeps the one before
  std::vector<Finding> fs{finding("s", "secret", Action::block)};

  CHECK(decide(fs, {&silent}).mode == Mode::enforce);
  CHECK(decide(fs, {&monitor, &silent}).mode == Mode::monitor);
  CHECK(decide(fs, {&monitor, &enforce}).mode == Mode::enforce);
  CHECK(decide(fs, {&enforce, &monitor, nullptr}).mode == Mode::monitor);

  Decision monitored = decide(fs, {&monitor});
  CHECK(monitored.verdict == Verdict::block);  // decided as in enforce mode...
  CHECK_FALSE(monitored.acts());                // ...but not acted on
}

TEST_CASE("mode and verdict names round-trip", "[policy]") {
  CHECK(to_string(Mode::enforce) == "enforce");
  CHECK(to_string(Mode::monitor) == "monitor");
  CHECK(mode_from_string("monitor") == Mode::monitor);
  CHECK(mode_from_string("enforce") == Mode::enforce);
  CHECK_FALSE(mode_from_string("Monitor").has_value());
  CHECK_FALSE(mode_from_string("").has_value());
  CHECK(to_string(Verdict::allow) == "allow");
  CHECK(to_string(Verdict::warn) == "warn");
  CHECK(to_string(Verdict::redact) == "redact");
  CHECK(to_string(Verdict::block) == "block");
}

TEST_CASE("justify sits between redact and block, and coaches only in enforce mode without a block", "[policy][coaching]") {
  CHECK(action_from_string("justify") == Action::justify);
  CHECK(to_string(Action::justify) == "justify");
  CHECK(to_string(Verdict::justify) == "justify");
  CHECK(Action::redact < Action::justify);
  CHECK(Action::justify < Action::block);

  // The strongest action decides: justify over redact and warn, block over justify.
  Decision d = decide({finding("a", "phone", Action::justify), finding("b", "national_id", Action::redact),
                       finding("c", "email", Action::warn)},
                      {});
  CHECK(d.verdict == Verdict::justify);
  CHECK(d.coaches());
  CHECK_FALSE(d.acts());  // coached, then forwarded: not refused outright
  Decision blocked = decide({finding("a", "phone", Action::justify), finding("s", "secret", Action::block)}, {});
  CHECK(blocked.verdict == Verdict::block);
  CHECK_FALSE(blocked.coaches());
  CHECK(decide({finding("c", "email", Action::warn)}, {}).coaches());
  CHECK_FALSE(decide({finding("r", "national_id", Action::redact)}, {}).coaches());

  // A layer's override may ask for justify, per category or rule id; a ceiling of redact caps it.
  PolicyLayer layer;
  layer.overrides["phone"] = Action::justify;
  Decision overridden = decide({finding("vn.pii.phone", "phone", Action::redact)}, {&layer});
  CHECK(overridden.actions.front() == Action::justify);
  PolicyLayer capped;
  capped.ceiling = Action::redact;
  CHECK(decide({finding("vn.pii.phone", "phone", Action::redact)}, {&layer, &capped}).verdict == Verdict::redact);

  // Monitor mode records and forwards: no coaching.
  PolicyLayer monitor;
  monitor.mode = Mode::monitor;
  CHECK_FALSE(decide({finding("a", "phone", Action::justify)}, {&monitor}).coaches());
}
