#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "gateway/coaching/justification_token.h"

using namespace promptwall::gateway::coaching;
using namespace std::chrono_literals;

namespace {

const std::string kKey(32, 'k');
const Clock::time_point kNow = Clock::time_point(std::chrono::seconds(1'800'000'000));
const std::string kDigest = "4f0a" + std::string(60, '1');

}  // namespace

TEST_CASE("a justification token holds for its requester and request until it expires", "[coaching]") {
  const JustificationTokenSigner signer(kKey, 600s);
  const JustificationToken token = signer.issue(JustificationKind::justify, {"user:an", kDigest}, kNow);
  const std::string text = encode(token);
  CHECK(text.starts_with("pwj1."));
  CHECK(token.id_hex().size() == 24);

  const TokenCheck ok = signer.check(text, {"user:an", kDigest}, kNow + 599s);
  CHECK(ok.problem == TokenProblem::none);
  REQUIRE(ok.token);
  CHECK(ok.token->id_hex() == token.id_hex());
  CHECK(ok.token->kind == JustificationKind::justify);

  CHECK(signer.check(text, {"user:binh", kDigest}, kNow).problem == TokenProblem::other_requester);
  CHECK(signer.check(text, {"user:an", kDigest + "x"}, kNow).problem == TokenProblem::other_request);
  CHECK(signer.check(text, {"user:an", kDigest}, kNow + 600s).problem == TokenProblem::expired);
  // The form's check needs only the requester.
  CHECK(signer.check_for_requester(text, "user:an", kNow).problem == TokenProblem::none);
  CHECK(signer.check_for_requester(text, "address:10.0.0.9", kNow).problem == TokenProblem::other_requester);
  // Two tokens for the same request differ (random ids).
  CHECK(encode(signer.issue(JustificationKind::justify, {"user:an", kDigest}, kNow)) != text);
}

TEST_CASE("an altered, foreign or malformed justification token is refused", "[coaching]") {
  const JustificationTokenSigner signer(kKey, 600s);
  const std::string text = encode(signer.issue(JustificationKind::warn, {"user:an", kDigest}, kNow));

  SECTION("every character changed in turn") {
    for (size_t i = std::string_view(kTokenPrefix).size(); i < text.size(); ++i) {
      std::string altered = text;
      altered[i] = altered[i] == 'A' ? 'B' : 'A';
      const TokenProblem p = signer.check(altered, {"user:an", kDigest}, kNow).problem;
      INFO("position " << i);
      CHECK((p == TokenProblem::altered || p == TokenProblem::malformed));
    }
  }
  SECTION("a later expiry written in by hand") {
    auto token = parse_justification_token(text);
    REQUIRE(token);
    token->expires += 3600;
    CHECK(signer.check(encode(*token), {"user:an", kDigest}, kNow).problem == TokenProblem::altered);
  }
  SECTION("another gateway's key (or this one before a restart)") {
    const JustificationTokenSigner other(std::string(32, 'z'), 600s);
    CHECK(other.check(text, {"user:an", kDigest}, kNow).problem == TokenProblem::altered);
    CHECK(JustificationTokenSigner::with_random_key(600s).check(text, {"user:an", kDigest}, kNow).problem ==
          TokenProblem::altered);
  }
  SECTION("not a token") {
    for (const std::string& bad : std::vector<std::string>{"", "pwj1.", "pwj2." + text.substr(5), text.substr(0, text.size() - 1), text + "A",
                                  " " + text, text.substr(5), "pwj1." + std::string(110, '=')}) {
      INFO(bad);
      CHECK_FALSE(parse_justification_token(bad));
      CHECK(signer.check(bad, {"user:an", kDigest}, kNow).problem == TokenProblem::malformed);
    }
  }
  SECTION("a key shorter than 32 bytes is refused") {
    CHECK_THROWS_AS(JustificationTokenSigner(std::string(31, 'k'), 600s), std::invalid_argument);
  }
}

TEST_CASE("a token survives encode and parse unchanged, the form secret is bound to token and requester", "[coaching]") {
  const JustificationTokenSigner signer(kKey, 600s);
  const JustificationToken token = signer.issue(JustificationKind::warn, {"address:10.0.0.5", kDigest}, kNow);
  const auto back = parse_justification_token(encode(token));
  REQUIRE(back);
  CHECK(encode(*back) == encode(token));
  CHECK(back->subject_key() == signer.subject_key({"address:10.0.0.5", kDigest}));
  CHECK(back->expiry() == kNow + 600s);
  const std::string secret = signer.form_secret(token, "address:10.0.0.5");
  CHECK(secret.size() == 32);
  CHECK(secret != signer.form_secret(token, "address:10.0.0.6"));
  CHECK(secret != signer.form_secret(signer.issue(JustificationKind::warn, {"address:10.0.0.5", kDigest}, kNow),
                                     "address:10.0.0.5"));
}
