// Activity events: written in the same transaction as the change they record.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace ikigai::store {

struct ActivityRow {
  std::string id;
  long long at = 0;
  std::optional<std::string> actor_id;
  std::string action;
  std::optional<std::string> target_type;
  std::optional<std::string> target_id;
  std::string ip;
  std::string user_agent;
  std::string request_id;
  std::string data = "{}";  // JSON object text; never a password, token or hash
};

// One page of events, newest first by (at, id). With user_id: the events the user did or that
// were done to the user (actor_id = user OR target_id = user), read as two index range scans.
struct ActivityQuery {
  std::optional<std::string> user_id;
  std::optional<std::string> action;
  std::optional<long long> since;  // inclusive, ms
  std::optional<long long> until;  // exclusive, ms
  struct Key {
    long long at = 0;
    std::string id;
  };
  std::optional<Key> after;  // keyset: rows strictly older than this one
  int limit = 20;            // rows to read (callers ask one more to know of a next page)
};

class ActivityStore {
 public:
  [[nodiscard]] static std::vector<ActivityRow> List(Connection& c, const ActivityQuery& q);
  // Deletes at most `limit` events older than `before` (oldest first), in one statement: the
  // retention purge calls it until it returns less than the limit.
  static long long PurgeBefore(Connection& c, long long before, int limit);
  static void Insert(Connection& c, const ActivityRow& row);
  // Account deletion: deletes every event the user did or that was done to the user, except what
  // the user did as an admin to other accounts, which stays without actor, address or agent.
  static void DeleteAbout(Connection& c, const std::string& user_id);
};

}  // namespace ikigai::store
