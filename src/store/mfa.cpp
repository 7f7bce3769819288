// Two-factor rows over SOCI; affected-row counts decide every race.
#include "store/mfa.hpp"

#include <soci/soci.h>

namespace ikigai::store {
namespace {

template <class... Binds>
long long Affected(Connection& c, const std::string& sql, Binds&&... binds) {
  soci::statement st = ((c.Sql().prepare << sql), ..., std::forward<Binds>(binds));
  st.execute(true);
  return st.get_affected_rows();
}

}  // namespace

std::optional<MfaState> MfaStore::Read(Connection& c, const std::string& user_id) {
  int enabled = 0;
  std::string secret, pending;
  long long step = 0;
  soci::indicator secret_ind = soci::i_null, pending_ind = soci::i_null, step_ind = soci::i_null;
  c.Sql() << "SELECT mfa_enabled, mfa_secret, mfa_pending_secret, mfa_last_step FROM users WHERE id = :id",
      soci::use(user_id), soci::into(enabled), soci::into(secret, secret_ind), soci::into(pending, pending_ind),
      soci::into(step, step_ind);
  if (!c.Sql().got_data()) return std::nullopt;
  MfaState s;
  s.enabled = enabled != 0;
  if (secret_ind == soci::i_ok) s.secret = secret;
  if (pending_ind == soci::i_ok) s.pending_secret = pending;
  if (step_ind == soci::i_ok) s.last_step = step;
  return s;
}

bool MfaStore::SetPending(Connection& c, const std::string& user_id, const std::string& secret, long long now) {
  return Affected(c, "UPDATE users SET mfa_pending_secret = :s, updated_at = :n WHERE id = :id AND mfa_enabled = 0",
                  soci::use(secret), soci::use(now), soci::use(user_id)) == 1;
}

bool MfaStore::Enable(Connection& c, const std::string& user_id, const std::string& secret, long long step,
                      long long now) {
  return Affected(c,
                  "UPDATE users SET mfa_enabled = 1, mfa_secret = mfa_pending_secret, mfa_pending_secret = NULL, "
                  "mfa_last_step = :st, updated_at = :n WHERE id = :id AND mfa_enabled = 0 AND mfa_pending_secret = :s",
                  soci::use(step), soci::use(now), soci::use(user_id), soci::use(secret)) == 1;
}

bool MfaStore::Disable(Connection& c, const std::string& user_id, long long now) {
  const bool was_on =
      Affected(c,
               "UPDATE users SET mfa_enabled = 0, mfa_secret = NULL, mfa_pending_secret = NULL, mfa_last_step = NULL, "
               "updated_at = :n WHERE id = :id AND mfa_enabled = 1",
               soci::use(now), soci::use(user_id)) == 1;
  if (was_on) c.Sql() << "DELETE FROM mfa_recovery_codes WHERE user_id = :u", soci::use(user_id);
  return was_on;
}

bool MfaStore::AcceptStep(Connection& c, const std::string& user_id, long long step) {
  return Affected(c,
                  "UPDATE users SET mfa_last_step = :st WHERE id = :id AND mfa_enabled = 1 AND "
                  "(mfa_last_step IS NULL OR mfa_last_step < :st2)",
                  soci::use(step), soci::use(user_id), soci::use(step)) == 1;
}

void MfaStore::ReplaceRecoveryCodes(Connection& c, const std::string& user_id, const std::vector<std::string>& hashes,
                                    long long now) {
  c.Sql() << "DELETE FROM mfa_recovery_codes WHERE user_id = :u", soci::use(user_id);
  for (const auto& hash : hashes) {
    c.Sql() << "INSERT INTO mfa_recovery_codes (user_id, code_hash, created_at) VALUES (:u, :h, :n)",
        soci::use(user_id), soci::use(hash), soci::use(now);
  }
}

bool MfaStore::UseRecoveryCode(Connection& c, const std::string& user_id, const std::string& code_hash) {
  return Affected(c, "DELETE FROM mfa_recovery_codes WHERE user_id = :u AND code_hash = :h", soci::use(user_id),
                  soci::use(code_hash)) == 1;
}

long long MfaStore::CountRecoveryCodes(Connection& c, const std::string& user_id) {
  long long n = 0;
  c.Sql() << "SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = :u", soci::use(user_id), soci::into(n);
  return n;
}

bool MfaStore::CountTokenAttempt(Connection& c, const std::string& token_id, int max_attempts, long long now) {
  // used_at is assigned first: MariaDB evaluates SET left to right with the new values, SQLite
  // with the old ones; this order reads the old attempts in both.
  const int last = max_attempts - 1;
  return Affected(c,
                  "UPDATE one_time_tokens SET used_at = CASE WHEN attempts >= :last THEN :n ELSE used_at END, "
                  "attempts = attempts + 1 WHERE id = :id AND used_at IS NULL",
                  soci::use(last), soci::use(now), soci::use(token_id)) == 1;
}

}  // namespace ikigai::store
