// The two-factor columns of a user (secret, pending secret, last accepted step), its recovery
// code hashes, and the attempt counter of an mfa_token. Every decision that two requests could
// race for is one conditional UPDATE or DELETE whose affected-row count decides (it holds on
// MariaDB, a Galera cluster and SQLite alike; no SELECT ... FOR UPDATE is relied on).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace ikigai::store {

struct MfaState {
  bool enabled = false;
  std::optional<std::string> secret;          // base32, set while enabled
  std::optional<std::string> pending_secret;  // base32, an enrolment not confirmed yet
  std::optional<long long> last_step;         // the last accepted 30-second step
};

class MfaStore {
 public:
  // nullopt when no such user.
  [[nodiscard]] static std::optional<MfaState> Read(Connection& c, const std::string& user_id);
  // Starts (or restarts) an enrolment; false when two-factor sign-in is on already.
  static bool SetPending(Connection& c, const std::string& user_id, const std::string& secret, long long now);
  // Turns it on with the pending secret `secret` (still pending and off: else false), with `step`
  // as the last accepted one, so the confirming code cannot sign in.
  static bool Enable(Connection& c, const std::string& user_id, const std::string& secret, long long step,
                     long long now);
  // Turns it off, forgets the secrets and deletes the recovery codes; false when it was off.
  static bool Disable(Connection& c, const std::string& user_id, long long now);
  // Accepts `step` when it is later than the last accepted one (while on); false: a replay, or a
  // concurrent request accepted it or a later one first.
  static bool AcceptStep(Connection& c, const std::string& user_id, long long step);
  // Replaces the user's recovery codes with these hashes.
  static void ReplaceRecoveryCodes(Connection& c, const std::string& user_id, const std::vector<std::string>& hashes,
                                   long long now);
  // Spends a recovery code; false when the user has no such unused code.
  static bool UseRecoveryCode(Connection& c, const std::string& user_id, const std::string& code_hash);
  [[nodiscard]] static long long CountRecoveryCodes(Connection& c, const std::string& user_id);
  // Counts a wrong code on an unused one-time token; the `max_attempts`-th spends it. False when
  // the token was spent already.
  static bool CountTokenAttempt(Connection& c, const std::string& token_id, int max_attempts, long long now);
};

}  // namespace ikigai::store
