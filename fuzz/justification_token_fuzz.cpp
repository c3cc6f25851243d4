// libFuzzer target for gateway/coaching/justification_token: the X-Promptwall-Justification-Token
// header's value and the justification form's `t` field, as a client sent them. Beyond "no crash,
// no sanitizer report" it checks the contract:
//   - parse_justification_token() accepts a text only if encode() of the result gives it back
//     exactly (one token, one spelling: an edited character never reads as the same token);
//   - a signer under a fixed key never accepts an input it did not issue (the MAC holds only for
//     its own tokens), whatever requester, request or time it is checked against; a malformed
//     input is `malformed`, a well-formed foreign one `altered`;
//   - a token the signer issues for the input's requester and request is accepted, and is refused
//     for another request or requester, and after its expiry.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/coaching/justification_token.h"

namespace {

using namespace promptwall::gateway::coaching;

void require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static const JustificationTokenSigner signer(std::string(32, 'f'), std::chrono::seconds(600));
  const Clock::time_point now = Clock::time_point(std::chrono::seconds(1'800'000'000));

  const auto parsed = parse_justification_token(input);
  if (parsed) require(encode(*parsed) == input);
  const TokenCheck foreign = signer.check(input, {"user:fuzz", input}, now);
  require(foreign.problem != TokenProblem::none);
  require(foreign.problem == (parsed ? TokenProblem::altered : TokenProblem::malformed));

  // The input as requester and request: its own token holds, and only for them.
  const std::string_view requester = input.substr(0, input.size() / 2), request = input.substr(input.size() / 2);
  const std::string own = encode(signer.issue(JustificationKind::justify, {requester, request}, now));
  require(signer.check(own, {requester, request}, now).problem == TokenProblem::none);
  require(signer.check(own, {requester, std::string(request) + "x"}, now).problem == TokenProblem::other_request);
  require(signer.check(own, {std::string(requester) + "x", request}, now).problem == TokenProblem::other_requester);
  require(signer.check(own, {requester, request}, now + std::chrono::seconds(600)).problem == TokenProblem::expired);
  return 0;
}
