// The second factor of a user with two-factor sign-in on: a TOTP code of the current step or
// one step either side, accepted once (the last accepted step is stored and only a later one
// passes), or one of the user's unused recovery codes (spent by its use). Used by the second
// login step and by the account changes that ask for a code (turning it off, new recovery codes).
#pragma once

#include <string>

#include "store/database.hpp"

namespace ikigai::auth {

enum class SecondFactor { kNone, kTotp, kRecoveryCode };

// REQUIRES: inside the transaction of the change it guards (a later failure rolls the use back).
// Spends the code when it is right; kNone (nothing changed) when it is wrong, replayed, or
// two-factor sign-in is off.
[[nodiscard]] SecondFactor SpendSecondFactor(store::Connection& c, const std::string& user_id,
                                             const std::string& code, long long now_ms);

// The name a second factor has in activity data: "totp" or "recovery_code".
[[nodiscard]] const char* SecondFactorName(SecondFactor factor);

}  // namespace ikigai::auth
