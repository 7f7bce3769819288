// One-time tokens (password reset, email verification), stored only as SHA-256 hex.
#pragma once

#include <optional>
#include <string>

#include "store/database.hpp"

namespace ikigai::store {

struct OneTimeTokenRow {
  std::string id;
  std::string user_id;
  std::string purpose;  // "reset" | "verify"
  std::string token_hash;
  std::optional<std::string> data;  // verify: the address being verified
  long long created_at = 0;
  long long expires_at = 0;
  std::optional<long long> used_at;
};

class OneTimeTokenStore {
 public:
  // Voids every unused token of the user for this purpose (a new request invalidates older ones).
  static void VoidAll(Connection& c, const std::string& user_id, const std::string& purpose, long long now);
  static void Insert(Connection& c, const OneTimeTokenRow& row);
  // REQUIRES: inside a transaction; locks the row on MySQL.
  [[nodiscard]] static std::optional<OneTimeTokenRow> FindForUpdate(Connection& c, const std::string& token_hash);
  // Marks used if still unused; false when someone used it first.
  [[nodiscard]] static bool Use(Connection& c, const std::string& id, long long now);
  static long long PurgeExpired(Connection& c, long long before);
};

}  // namespace ikigai::store
