// The shared event log behind every rate limit (table login_attempts): all instances count the
// same rows, so a limit holds however many servers run.
#pragma once

#include <optional>
#include <string>

#include "store/database.hpp"

namespace ikigai::store {

class RateEventStore {
 public:
  // Returns the new event's id.
  static long long Add(Connection& c, const std::string& bucket, const std::string& subject, long long at);
  static void Remove(Connection& c, long long id);
  // Events since `since` (inclusive) and the oldest of them (for Retry-After).
  struct Window {
    long long count = 0;
    std::optional<long long> oldest;
  };
  [[nodiscard]] static Window Count(Connection& c, const std::string& bucket, const std::string& subject,
                                    long long since);
  // Forgets every event of one subject, in every bucket (account deletion).
  static void RemoveSubject(Connection& c, const std::string& subject);
  static long long PurgeBefore(Connection& c, long long before);
};

}  // namespace ikigai::store
