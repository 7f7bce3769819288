// Activity events: written in the same transaction as the change they record.
#pragma once

#include <optional>
#include <string>

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

class ActivityStore {
 public:
  static void Insert(Connection& c, const ActivityRow& row);
  // Account deletion: deletes every event the user did or that was done to the user, except what
  // the user did as an admin to other accounts, which stays without actor, address or agent.
  static void DeleteAbout(Connection& c, const std::string& user_id);
};

}  // namespace ikigai::store
