#include "gateway/coaching/coaching_step.h"

#include <algorithm>

#include <openssl/crypto.h>

#include "gateway/coaching/justification_input.h"

namespace promptwall::gateway::coaching {

CoachingStep::CoachingStep(const CoachingConfig& config, const JustificationTokenSigner& signer, OverrideLedger& ledger)
    : config_(config), signer_(signer), ledger_(ledger) {}

bool CoachingStep::may_justify(const Identity& identity) const {
  if (config_.justify_units.empty() && config_.justify_groups.empty()) return true;
  const auto& units = config_.justify_units;
  if (!identity.unit.empty() && std::find(units.begin(), units.end(), identity.unit) != units.end()) return true;
  const auto& groups = config_.justify_groups;
  return std::any_of(identity.groups.begin(), identity.groups.end(),
                     [&](const std::string& g) { return std::find(groups.begin(), groups.end(), g) != groups.end(); });
}

bool CoachingStep::reason_suffices(JustificationKind kind, std::string_view reason) const {
  // warn is an acknowledgment: going on is enough, a reason is recorded when given.
  return kind == JustificationKind::warn || count_chars(reason) >= std::max<size_t>(config_.min_reason_chars, 1);
}

CoachingResult CoachingStep::coach(JustificationKind kind, std::string_view requester, std::string_view request_digest,
                                   TokenProblem problem, Clock::time_point now) const {
  CoachingResult r;
  r.outcome = CoachingResult::Outcome::coach;
  r.kind = kind;
  r.problem = problem;
  const JustificationToken token = signer_.issue(kind, {requester, request_digest}, now);
  r.token = encode(token);
  r.token_id = token.id_hex();
  return r;
}

CoachingResult CoachingStep::judge(bool justify, const Identity& identity, std::string_view requester,
                                   std::string_view request_digest,
                                   const std::optional<PresentedJustification>& presented, Clock::time_point now) const {
  const JustificationKind kind = justify ? JustificationKind::justify : JustificationKind::warn;
  if (justify && !may_justify(identity)) {
    CoachingResult r;
    r.outcome = CoachingResult::Outcome::not_permitted;
    r.kind = kind;
    return r;
  }
  if (presented) {
    TokenCheck check = signer_.check(presented->token, {requester, request_digest}, now);
    // A token issued when only warn was asked does not stand for a justification.
    if (check.problem == TokenProblem::none && check.token->kind != kind) check.problem = TokenProblem::other_request;
    if (check.problem == TokenProblem::none && !reason_suffices(kind, presented->reason))
      check.problem = TokenProblem::reason_missing;
    const auto refused = [&](TokenProblem problem) {
      CoachingResult r = coach(kind, requester, request_digest, problem, now);
      if (check.token) r.refused_token_id = check.token->id_hex();
      return r;
    };
    if (check.problem != TokenProblem::none) return refused(check.problem);
    if (ledger_.daily_cap() != 0 && ledger_.overrides_today(requester, now) >= ledger_.daily_cap()) {
      CoachingResult r;
      r.outcome = CoachingResult::Outcome::over_cap;
      r.kind = kind;
      r.refused_token_id = check.token->id_hex();
      return r;
    }
    switch (ledger_.use_token(check.token->id_hex(), check.token->expiry(), now)) {
      case OverrideLedger::Use::replayed: return refused(TokenProblem::replayed);
      case OverrideLedger::Use::full: return refused(TokenProblem::ledger_full);
      case OverrideLedger::Use::fresh: break;
    }
    if (!ledger_.count_override(requester, now)) {
      CoachingResult r;
      r.outcome = CoachingResult::Outcome::over_cap;
      r.kind = kind;
      r.refused_token_id = check.token->id_hex();
      return r;
    }
    CoachingResult r;
    r.outcome = CoachingResult::Outcome::proceed;
    r.kind = kind;
    r.token_id = check.token->id_hex();
    r.reason = presented->reason;
    r.via = "header";
    return r;
  }
  if (std::optional<Approval> approval = ledger_.take_approval(signer_.subject_key({requester, request_digest}), now);
      approval && (approval->kind == kind || approval->kind == JustificationKind::justify)) {
    CoachingResult r;
    r.outcome = CoachingResult::Outcome::proceed;
    r.kind = kind;
    r.token_id = approval->token_id;
    r.reason = std::move(approval->reason);
    r.via = "form";
    return r;
  }
  return coach(kind, requester, request_digest, TokenProblem::none, now);
}

CoachingStep::FormResult CoachingStep::accept_form(std::string_view token_text, std::string_view secret,
                                                   std::string reason, const Identity& identity,
                                                   std::string_view requester, std::string by,
                                                   Clock::time_point now) const {
  FormResult out;
  TokenCheck check = signer_.check_for_requester(token_text, requester, now);
  out.token = check.token;
  if (check.problem == TokenProblem::none) {
    // The form secret is bound to the token and the requester: another site cannot post a form it
    // never saw, and a form shown to one person does not work for another.
    const std::string expected = signer_.form_secret(*check.token, requester);
    if (expected.size() != secret.size() || CRYPTO_memcmp(expected.data(), secret.data(), expected.size()) != 0)
      check.problem = TokenProblem::altered;
  }
  if (check.problem != TokenProblem::none) {
    out.problem = check.problem;
    return out;
  }
  const JustificationToken& token = *check.token;
  if (token.kind == JustificationKind::justify && !may_justify(identity)) {
    out.outcome = CoachingResult::Outcome::not_permitted;
    return out;
  }
  if (!reason_suffices(token.kind, reason)) {
    out.problem = TokenProblem::reason_missing;
    return out;
  }
  if (ledger_.daily_cap() != 0 && ledger_.overrides_today(requester, now) >= ledger_.daily_cap()) {
    out.outcome = CoachingResult::Outcome::over_cap;
    return out;
  }
  switch (ledger_.use_token(token.id_hex(), token.expiry(), now)) {
    case OverrideLedger::Use::replayed: out.problem = TokenProblem::replayed; return out;
    case OverrideLedger::Use::full: out.problem = TokenProblem::ledger_full; return out;
    case OverrideLedger::Use::fresh: break;
  }
  if (!ledger_.count_override(requester, now)) {
    out.outcome = CoachingResult::Outcome::over_cap;
    return out;
  }
  Approval approval{std::move(reason), std::move(by), token.id_hex(), token.kind, token.expiry()};
  if (!ledger_.approve(token.subject_key(), std::move(approval), now)) {
    out.problem = TokenProblem::ledger_full;
    return out;
  }
  out.outcome = CoachingResult::Outcome::proceed;
  return out;
}

}  // namespace promptwall::gateway::coaching
