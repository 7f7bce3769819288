// Sessions (one per sign-in) and their refresh tokens, stored only as SHA-256 hex.
#pragma once

#include <set>
#include <utility>

#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace ikigai::store {

struct SessionRow {
  std::string id;
  std::string user_id;
  long long created_at = 0;
  long long last_used_at = 0;
  long long expires_at = 0;
  std::optional<long long> revoked_at;
  std::string ip;
  std::string user_agent;
};

// What the authentication of one request needs: the session and its user, in one query.
struct SessionAuthRow {
  std::string user_id;
  std::optional<long long> revoked_at;
  long long expires_at = 0;
};

struct RefreshLookup {
  std::string session_id;
  std::string user_id;
  std::optional<long long> spent_at;
  std::optional<long long> session_revoked_at;
  long long session_expires_at = 0;
};

class SessionStore {
 public:
  static void Insert(Connection& c, const SessionRow& s);
  static void InsertRefreshToken(Connection& c, const std::string& token_hash, const std::string& session_id,
                                 long long now);
  [[nodiscard]] static std::optional<RefreshLookup> FindRefreshToken(Connection& c, const std::string& token_hash);
  // Marks the token spent if it was not; false when someone else spent it first.
  [[nodiscard]] static bool SpendRefreshToken(Connection& c, const std::string& token_hash, long long now);
  static void Touch(Connection& c, const std::string& session_id, long long now);
  // Revokes one live session; false when there is no live session with that id for that user.
  static bool Revoke(Connection& c, const std::string& session_id, const std::string& user_id, long long now);
  // Revokes every live session of the user (optionally all but one); returns how many.
  static long long RevokeAll(Connection& c, const std::string& user_id, long long now,
                             const std::string& except_session_id = {});
  [[nodiscard]] static std::optional<SessionRow> Find(Connection& c, const std::string& session_id);
  // Live (not revoked, not expired) sessions of a user, newest first.
  [[nodiscard]] static std::vector<SessionRow> ListLive(Connection& c, const std::string& user_id, long long now);
  // Which of these sessions are live: not revoked, not expired, and of a user not disabled.
  [[nodiscard]] static std::set<std::string> LiveAmong(Connection& c, const std::vector<std::string>& session_ids,
                                                       long long now);
  // How many sessions (live or ended, not yet purged) the user has, and how many of them came
  // from this user agent and address.
  [[nodiscard]] static std::pair<long long, long long> CountDevice(Connection& c, const std::string& user_id,
                                                                   const std::string& user_agent,
                                                                   const std::string& ip);
  // Deletes sessions that expired or were revoked before `before`; returns how many.
  static long long PurgeEnded(Connection& c, long long before);
};

}  // namespace ikigai::store
