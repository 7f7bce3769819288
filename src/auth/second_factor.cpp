// A code is a TOTP code when it is six digits, else a recovery code when it is 16 base32
// characters (after case, spaces and dashes are ignored), else wrong.
#include "auth/second_factor.hpp"

#include "auth/access_tokens.hpp"
#include "mfa/totp.hpp"
#include "store/mfa.hpp"

namespace ikigai::auth {

SecondFactor SpendSecondFactor(store::Connection& c, const std::string& user_id, const std::string& code,
                               long long now_ms) {
  auto state = store::MfaStore::Read(c, user_id);
  if (!state || !state->enabled || !state->secret) return SecondFactor::kNone;
  if (auto digits = mfa::NormaliseTotpCode(code)) {
    auto step = mfa::MatchStep(*state->secret, *digits, now_ms / 1000);
    // The conditional UPDATE decides between concurrent requests with the same code.
    return step && store::MfaStore::AcceptStep(c, user_id, *step) ? SecondFactor::kTotp : SecondFactor::kNone;
  }
  if (auto recovery = mfa::NormaliseRecoveryCode(code)) {
    return store::MfaStore::UseRecoveryCode(c, user_id, HashToken(*recovery)) ? SecondFactor::kRecoveryCode
                                                                              : SecondFactor::kNone;
  }
  return SecondFactor::kNone;
}

const char* SecondFactorName(SecondFactor factor) {
  return factor == SecondFactor::kRecoveryCode ? "recovery_code" : "totp";
}

}  // namespace ikigai::auth
