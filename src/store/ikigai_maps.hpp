// The ikigai map of a user: four circles (JSON arrays of strings) and a statement.
#pragma once

#include <optional>
#include <string>

#include "store/database.hpp"

namespace ikigai::store {

struct IkigaiMapRow {
  std::string user_id;
  std::string love = "[]", good_at = "[]", world_needs = "[]", paid_for = "[]";  // JSON arrays
  std::string statement;
  long long updated_at = 0;
  int version = 0;
};

class IkigaiMapStore {
 public:
  [[nodiscard]] static std::optional<IkigaiMapRow> Get(Connection& c, const std::string& user_id, bool for_update);
  // Inserts version 1 or replaces the row at `expected_version`; false when someone else won.
  [[nodiscard]] static bool Save(Connection& c, const IkigaiMapRow& row, int expected_version);
};

}  // namespace ikigai::store
