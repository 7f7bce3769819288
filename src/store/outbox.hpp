// The mail outbox: rows written in the same transaction as the change that caused them, claimed
// by one claim at a time: a conditional UPDATE with a claim token and a lease (FOR UPDATE SKIP
// LOCKED on MariaDB only keeps one server's senders apart; row locks are per node on Galera).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace ikigai::store {

struct OutboxRow {
  std::string id;
  std::optional<std::string> user_id;
  std::string kind;
  std::string to_address;
  std::string subject;
  std::string text_body;
  std::string html_body;
  std::string status = "pending";  // pending | sending | sent | failed
  int attempts = 0;
  long long next_attempt_at = 0;
  long long created_at = 0;
};

class OutboxStore {
 public:
  static void Insert(Connection& c, const OutboxRow& row);
  // Claims up to `limit` due rows (pending and due, or sending with an expired claim) under the
  // fresh claim `token` until `claim_until` (the lease); counts an attempt. Each row is taken by a
  // conditional UPDATE, so of two claimers (instances, Galera nodes) only one gets it.
  // REQUIRES: inside a transaction.
  [[nodiscard]] static std::vector<OutboxRow> Claim(Connection& c, const std::string& token, long long now,
                                                    long long claim_until, int limit);
  // Both outcomes apply only while the row still holds `token` (the lease was not taken over).
  static void MarkSent(Connection& c, const std::string& id, const std::string& token, long long now);
  // Back to pending at `next_attempt_at`, or `failed` for good when next_attempt_at is nullopt.
  static void MarkFailed(Connection& c, const std::string& id, const std::string& token,
                         const std::string& error, std::optional<long long> next_attempt_at);
  [[nodiscard]] static long long Depth(Connection& c);  // pending + sending
  static long long PurgeSent(Connection& c, long long before);
};

}  // namespace ikigai::store
