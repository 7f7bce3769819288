// Feedback rows over SOCI: the author's list, the admin list with its filters, and the counts of
// the stats, each one statement. Ids are UUIDv7, so ordering by id is ordering by creation.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace ikigai::store {

struct FeedbackRow {
  std::string id;
  std::string user_id;
  std::string category;
  std::string message;
  std::optional<int> rating;
  std::string context = "{}";  // a JSON object of strings, as text
  std::string status = "new";
  std::optional<std::string> reply;
  long long created_at = 0;
  long long updated_at = 0;
};

struct FeedbackQuery {
  std::optional<std::string> user_id;   // the author's own list; nullopt: everyone's (admin)
  std::optional<std::string> status;
  std::optional<std::string> category;
  std::optional<std::string> q;          // a substring of message (LIKE, wildcards escaped)
  int limit = 20;
  std::optional<std::string> before_id;  // keyset: ids smaller than this (newest first)
};

// Counts by the database: every status and category that has rows, and the ratings given.
struct FeedbackCounts {
  std::map<std::string, long long> by_status;
  std::map<std::string, long long> by_category;
  long long rated = 0;
  long long rating_sum = 0;
};

class FeedbackStore {
 public:
  static void Insert(Connection& c, const FeedbackRow& row);
  // REQUIRES: inside a transaction when for_update (locks the row on MySQL).
  [[nodiscard]] static std::optional<FeedbackRow> Get(Connection& c, const std::string& id, bool for_update = false);
  // Writes status, reply and updated_at.
  static void Update(Connection& c, const FeedbackRow& row);
  // Up to query.limit + 1 rows, newest first.
  [[nodiscard]] static std::vector<FeedbackRow> List(Connection& c, const FeedbackQuery& query);
  // One statement (one snapshot): GROUP BY status, GROUP BY category, COUNT/SUM of ratings.
  [[nodiscard]] static FeedbackCounts Counts(Connection& c);
};

}  // namespace ikigai::store
