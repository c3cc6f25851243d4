#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "gateway/coaching/coaching_step.h"
#include "gateway/coaching/justification_input.h"
#include "gateway/coaching/override_ledger.h"

using namespace promptwall::gateway;
using namespace promptwall::gateway::coaching;
using namespace std::chrono_literals;

namespace {

// 2027-01-15 23:59:00 UTC: a minute before a UTC midnight.
const Clock::time_point kBeforeMidnight = Clock::time_point(std::chrono::seconds(1'800'057'540));

}  // namespace

TEST_CASE("the override ledger: a token once, until it expires", "[coaching]") {
  OverrideLedger ledger({100, 0});
  const auto now = kBeforeMidnight;
  CHECK(ledger.use_token("aa", now + 600s, now) == OverrideLedger::Use::fresh);
  CHECK(ledger.use_token("aa", now + 600s, now + 10s) == OverrideLedger::Use::replayed);
  CHECK(ledger.use_token("bb", now + 600s, now) == OverrideLedger::Use::fresh);
  // Past its expiry the id is forgotten (the token itself is refused as expired by then).
  CHECK(ledger.use_token("aa", now + 1200s, now + 601s) == OverrideLedger::Use::fresh);
}

TEST_CASE("the override ledger is bounded and fails closed when full", "[coaching]") {
  OverrideLedger ledger({2, 0});
  const auto now = kBeforeMidnight;
  CHECK(ledger.use_token("a", now + 60s, now) == OverrideLedger::Use::fresh);
  CHECK(ledger.use_token("b", now + 600s, now) == OverrideLedger::Use::fresh);
  CHECK(ledger.use_token("c", now + 600s, now) == OverrideLedger::Use::full);  // nothing expired: refused
  CHECK(ledger.use_token("c", now + 600s, now + 61s) == OverrideLedger::Use::fresh);  // "a" expired, dropped
  CHECK(ledger.use_token("b", now + 600s, now + 62s) == OverrideLedger::Use::replayed);  // never forgotten early
}

TEST_CASE("the daily cap counts per requester per UTC day", "[coaching]") {
  OverrideLedger ledger({100, 2});
  const auto now = kBeforeMidnight;
  CHECK(ledger.count_override("user:an", now));
  CHECK(ledger.count_override("user:an", now + 10s));
  CHECK_FALSE(ledger.count_override("user:an", now + 20s));  // the cap
  CHECK(ledger.overrides_today("user:an", now + 20s) == 2);
  CHECK(ledger.count_override("user:binh", now + 20s));      // someone else's count is their own
  // 00:00:00 UTC: a new day.
  CHECK(ledger.overrides_today("user:an", now + 60s) == 0);
  CHECK(ledger.count_override("user:an", now + 60s));
  CHECK(ledger.overrides_today("user:an", now + 61s) == 1);
  // No cap: 0.
  OverrideLedger open({100, 0});
  for (int i = 0; i < 50; ++i) CHECK(open.count_override("user:an", now));
}

TEST_CASE("a form approval is taken once, for its subject, before it expires", "[coaching]") {
  OverrideLedger ledger({100, 0});
  const auto now = kBeforeMidnight;
  CHECK(ledger.approve("subject", Approval{"lý do", "an", "00ff", JustificationKind::justify, now + 600s}, now));
  CHECK_FALSE(ledger.take_approval("other", now));
  const auto taken = ledger.take_approval("subject", now + 1s);
  REQUIRE(taken);
  CHECK(taken->reason == "lý do");
  CHECK_FALSE(ledger.take_approval("subject", now + 2s));  // once
  CHECK(ledger.approve("late", Approval{"x", "an", "01", JustificationKind::warn, now + 600s}, now));
  CHECK_FALSE(ledger.take_approval("late", now + 601s));  // expired
}

TEST_CASE("the coaching step: coach, then proceed with the token, replay, permission and cap", "[coaching]") {
  CoachingConfig config;
  config.min_reason_chars = 10;
  config.justify_units = {"phap-che"};
  config.daily_override_cap = 2;
  const JustificationTokenSigner signer(std::string(32, 'k'), 600s);
  OverrideLedger ledger({100, config.daily_override_cap});
  const CoachingStep step(config, signer, ledger);
  Identity legal;
  legal.user = "an";
  legal.unit = "phap-che";
  Identity office;
  office.user = "binh";
  office.unit = "van-phong";
  const auto now = kBeforeMidnight - 3600s;

  const CoachingResult first = step.judge(true, legal, "user:an", "digest-1", std::nullopt, now);
  REQUIRE(first.outcome == CoachingResult::Outcome::coach);
  CHECK(first.problem == TokenProblem::none);
  // A reason too short: coached again, saying so; the token stays unused.
  const CoachingResult short_reason =
      step.judge(true, legal, "user:an", "digest-1", PresentedJustification{first.token, "vì"}, now);
  CHECK(short_reason.outcome == CoachingResult::Outcome::coach);
  CHECK(short_reason.problem == TokenProblem::reason_missing);
  const CoachingResult go =
      step.judge(true, legal, "user:an", "digest-1", PresentedJustification{first.token, "Khách hàng đã đồng ý"}, now);
  CHECK(go.outcome == CoachingResult::Outcome::proceed);
  CHECK(go.via == "header");
  CHECK(go.token_id == first.token_id);
  const CoachingResult replay =
      step.judge(true, legal, "user:an", "digest-1", PresentedJustification{first.token, "Khách hàng đã đồng ý"}, now);
  CHECK(replay.problem == TokenProblem::replayed);
  // Someone whose unit may not justify: not permitted, no token.
  const CoachingResult office_try = step.judge(true, office, "user:binh", "digest-1", std::nullopt, now);
  CHECK(office_try.outcome == CoachingResult::Outcome::not_permitted);
  CHECK(office_try.token.empty());
  // ...but a warn (an acknowledgment) goes on for them without a reason.
  const CoachingResult warned = step.judge(false, office, "user:binh", "digest-2", std::nullopt, now);
  CHECK(step.judge(false, office, "user:binh", "digest-2", PresentedJustification{warned.token, ""}, now).outcome ==
        CoachingResult::Outcome::proceed);
  // The cap: an has one left today.
  const CoachingResult second = step.judge(false, legal, "user:an", "digest-3", std::nullopt, now);
  CHECK(step.judge(false, legal, "user:an", "digest-3", PresentedJustification{second.token, ""}, now).outcome ==
        CoachingResult::Outcome::proceed);
  const CoachingResult third = step.judge(false, legal, "user:an", "digest-4", std::nullopt, now);
  CHECK(step.judge(false, legal, "user:an", "digest-4", PresentedJustification{third.token, ""}, now).outcome ==
        CoachingResult::Outcome::over_cap);
}

TEST_CASE("the justification form: the secret, then the approval the retry takes", "[coaching]") {
  CoachingConfig config;
  const JustificationTokenSigner signer(std::string(32, 'k'), 600s);
  OverrideLedger ledger({100, 0});
  const CoachingStep step(config, signer, ledger);
  Identity who;
  const auto now = kBeforeMidnight - 3600s;
  const CoachingResult coached = step.judge(false, who, "address:10.0.0.5", "digest", std::nullopt, now);
  const auto token = parse_justification_token(coached.token);
  REQUIRE(token);
  const std::string secret = signer.form_secret(*token, "address:10.0.0.5");

  CHECK(step.accept_form(coached.token, std::string(32, '0'), "", who, "address:10.0.0.5", "10.0.0.5", now).problem ==
        TokenProblem::altered);
  CHECK(step.accept_form(coached.token, secret, "", who, "address:10.0.0.6", "10.0.0.6", now).problem ==
        TokenProblem::other_requester);
  const auto accepted = step.accept_form(coached.token, secret, "cần gấp", who, "address:10.0.0.5", "10.0.0.5", now);
  CHECK(accepted.outcome == CoachingResult::Outcome::proceed);
  // The retry (no header) takes the approval once; a different request does not.
  CHECK(step.judge(false, who, "address:10.0.0.5", "other digest", std::nullopt, now).outcome ==
        CoachingResult::Outcome::coach);
  const CoachingResult retry = step.judge(false, who, "address:10.0.0.5", "digest", std::nullopt, now);
  CHECK(retry.outcome == CoachingResult::Outcome::proceed);
  CHECK(retry.via == "form");
  CHECK(retry.reason == "cần gấp");
  CHECK(step.judge(false, who, "address:10.0.0.5", "digest", std::nullopt, now).outcome == CoachingResult::Outcome::coach);
  CHECK(step.accept_form(coached.token, secret, "lần nữa", who, "address:10.0.0.5", "10.0.0.5", now).problem ==
        TokenProblem::replayed);
}

TEST_CASE("justification input: the header's reason, the form body, the request digest", "[coaching]") {
  CHECK(decode_reason_header("Kh%C3%A1ch+h%C3%A0ng") == "Khách+hàng");
  CHECK(decode_reason_header("  plain reason ") == "plain reason");
  CHECK_FALSE(decode_reason_header("bad%FFbyte"));
  CHECK_FALSE(decode_reason_header("line%0Abreak"));
  CHECK(bound_reason("ắắắ", 4) == "ắ");  // cut on a UTF-8 boundary
  const auto form = parse_justification_form("t=pwj1.x&s=abc&reason=C%E1%BA%A7n+g%E1%BA%A5p%0D%0Anh%C3%A9");
  REQUIRE(form);
  CHECK(form->token == "pwj1.x");
  CHECK(form->reason == "Cần gấp  nhé");
  CHECK_FALSE(parse_justification_form("t=a&t=b&s=c"));   // a name twice
  CHECK_FALSE(parse_justification_form("t=a&x=b&s=c"));   // an unknown name
  CHECK_FALSE(parse_justification_form("reason=x"));      // no token
  CHECK_FALSE(parse_justification_form(std::string(kMaxFormBytes + 1, 'a')));
  const RequestDigestInput a{"POST", "openai", "/v1/chat/completions", "", "{\"a\":1}"};
  RequestDigestInput b = a;
  CHECK(request_digest(a) == request_digest(b));
  b.body = "{\"a\":2}";
  CHECK(request_digest(a) != request_digest(b));
  b = a;
  b.path = "/v1/chat/completions?x=1";
  CHECK(request_digest(a) != request_digest(b));
  // Parts are length-prefixed: moving a byte between them changes the digest.
  RequestDigestInput c{"POS", "Topenai", "/v1/chat/completions", "", "{\"a\":1}"};
  CHECK(request_digest(a) != request_digest(c));
  Identity none;
  CHECK(requester_key(none, "10.0.0.5") == "address:10.0.0.5");
  none.user = "an";
  CHECK(requester_key(none, "10.0.0.5") == "user:an");
}
