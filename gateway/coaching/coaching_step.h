// CoachingStep: the decision of the coaching step for one request whose findings call for warn or
// justify and none for block (Decision::coaches(), enforce mode), and for one justification form.
//
//   request ─► justify and the requester may not justify?  ─► not_permitted (acts as a block)
//           ─► a token presented (header)? check it (JustificationTokenSigner, then OverrideLedger:
//              replay), the reason (justify: at least min_reason_chars), today's cap
//                 ─► proceed (via header) │ over_cap │ coach again, saying why
//           ─► an approval made on the form for this requester and request? ─► proceed (via form)
//           ─► coach: a new token
//   form    ─► token (for this requester, not expired), its form secret, permission, reason, cap,
//              not used ─► approved (kept in the ledger for the retry) │ the problem
//
// The reason it is given is already what may be recorded (the caller scanned and masked it); it is
// only measured and carried here. Pure but for the ledger it updates and the randomness of new
// token ids; the clock is the caller's `now`. Threads: as its signer and ledger (any thread).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "gateway/coaching/justification_token.h"
#include "gateway/coaching/override_ledger.h"
#include "gateway/config/config.h"
#include "gateway/identity/identity.h"

namespace promptwall::gateway::coaching {

struct CoachingResult {
  enum class Outcome : uint8_t { proceed, coach, not_permitted, over_cap };
  Outcome outcome = Outcome::coach;
  JustificationKind kind = JustificationKind::warn;
  TokenProblem problem = TokenProblem::none;  // coach: why a presented justification did not count
  std::string token;        // coach: the new token to present
  std::string token_id;     // coach: the new token's id; proceed: the id of the token that was used
  std::string refused_token_id;  // coach after a presented token that parsed: its id
  std::string reason;       // proceed: the reason (as given to judge(), or as the form recorded it)
  std::string via;          // proceed: "header" or "form"
};

// A justification an API client presented in the request's headers.
struct PresentedJustification {
  std::string token;
  std::string reason;  // already masked and bounded for the record
};

class CoachingStep {
 public:
  CoachingStep(const CoachingConfig& config, const JustificationTokenSigner& signer, OverrideLedger& ledger);

  // `requester` is requester_key(); `justify` whether any finding's action is justify.
  CoachingResult judge(bool justify, const Identity& identity, std::string_view requester,
                       std::string_view request_digest, const std::optional<PresentedJustification>& presented,
                       Clock::time_point now) const;

  struct FormResult {
    CoachingResult::Outcome outcome = CoachingResult::Outcome::coach;  // proceed: approved
    TokenProblem problem = TokenProblem::none;
    std::optional<JustificationToken> token;  // whenever it parsed
  };
  // `reason` masked and bounded already; `by` names the requester in the trail.
  FormResult accept_form(std::string_view token_text, std::string_view secret, std::string reason,
                         const Identity& identity, std::string_view requester, std::string by,
                         Clock::time_point now) const;

  // Whether this requester may justify (coaching.justify_units / justify_groups).
  bool may_justify(const Identity& identity) const;
  // Whether `reason` is enough for a token of `kind`.
  bool reason_suffices(JustificationKind kind, std::string_view reason) const;
  const CoachingConfig& config() const { return config_; }
  const JustificationTokenSigner& signer() const { return signer_; }

 private:
  CoachingResult coach(JustificationKind kind, std::string_view requester, std::string_view request_digest,
                       TokenProblem problem, Clock::time_point now) const;

  const CoachingConfig& config_;
  const JustificationTokenSigner& signer_;
  OverrideLedger& ledger_;
};

}  // namespace promptwall::gateway::coaching
