// Helpers for the notification tests (see notify_api.hpp).
#include "support/notify_api.hpp"

#include <ctime>
#include <stdexcept>
#include <utility>

#include "support/accounts.hpp"
#include "support/backend.hpp"
#include "support/task_api.hpp"
#include "support/wait.hpp"

namespace ikigai::support {

std::string NotificationPath(std::string_view id, std::string_view suffix) {
  std::string path = kNotifications;
  path += '/';
  path += id;
  path += suffix;
  return path;
}

Response ListNotifications(const Http& http, const Headers& auth, const std::string& query) {
  std::string path = kNotifications;
  if (!query.empty()) path += "?" + query;
  return http.Get(path, "", auth);
}

std::vector<nlohmann::json> AllNotifications(const Http& http, const Headers& auth, const std::string& query) {
  std::vector<nlohmann::json> items;
  std::string cursor;
  const bool has_limit = query.find("limit=") != std::string::npos;
  for (int page = 0; page < 1000; ++page) {
    std::string q = query;
    if (!has_limit) q += std::string(q.empty() ? "" : "&") + "limit=100";
    if (!cursor.empty()) q += "&cursor=" + UrlEncode(cursor);
    auto res = ListNotifications(http, auth, q);
    EXPECT_EQ(res.status, 200) << res;
    if (res.status != 200) break;
    const auto body = res.Json();
    for (const auto& item : body["items"]) items.push_back(item);
    if (!body.contains("next_cursor") || body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"].get<std::string>();
  }
  return items;
}

long long UnreadCount(const Http& http, const Headers& auth) {
  auto res = ListNotifications(http, auth, "limit=1");
  const std::string value = res.Header("x-unread-count");
  if (res.status != 200 || value.empty() || value.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(value);
}

std::vector<nlohmann::json> WaitForNotifications(const Http& http, const Headers& auth, std::size_t count,
                                                 const std::string& query, std::chrono::milliseconds timeout) {
  std::vector<nlohmann::json> items;
  (void)WaitUntil(
      [&] {
        items = AllNotifications(http, auth, query);
        return items.size() >= count;
      },
      timeout, std::chrono::milliseconds{100});
  return items;
}

std::vector<nlohmann::json> OfKind(const std::vector<nlohmann::json>& items, std::string_view kind,
                                   std::string_view event) {
  std::vector<nlohmann::json> out;
  for (const auto& item : items) {
    if (!item.contains("kind") || item["kind"] != kind) continue;
    if (!event.empty()) {
      if (!item.contains("data") || !item["data"].is_object() || !item["data"].contains("event") ||
          item["data"]["event"] != event) {
        continue;
      }
    }
    out.push_back(item);
  }
  return out;
}

Response GetPrefs(const Http& http, const Headers& auth) { return http.Get(kPrefs, "", auth); }

Response PatchPrefs(const Http& http, const Headers& auth, const nlohmann::json& body) {
  return http.Patch(kPrefs, body.dump(), auth);
}

void SetPrefs(const Http& http, const Headers& auth, const nlohmann::json& body) {
  auto res = PatchPrefs(http, auth, body);
  ASSERT_EQ(res.status, 200) << "PATCH " << kPrefs << " " << body.dump() << ": " << res;
}

nlohmann::json DefaultPrefs() {
  const nlohmann::json all = {{"task_due", true}, {"announcement", true}, {"feedback_reply", true}, {"security", true}};
  return {{"email", all}, {"in_app", all}, {"push", all}, {"reminder_lead_minutes", 60}};
}

Response Broadcast(const Http& http, const Headers& admin_auth, const nlohmann::json& body) {
  return http.Post(kBroadcast, body.dump(), admin_auth);
}

std::vector<nlohmann::json> NotificationRows(DirectDb& db, const std::string& user_id) {
  std::vector<nlohmann::json> out;
  for (auto& row : db.Query("SELECT id, kind, title, body, data, read_at FROM notifications WHERE user_id = " +
                            DirectDb::Quote(user_id) + " ORDER BY id")) {
    auto data = nlohmann::json::parse(row[4].value_or("null"), nullptr, false);
    out.push_back({{"id", row[0].value_or("")},
                   {"kind", row[1].value_or("")},
                   {"title", row[2].value_or("")},
                   {"body", row[3].value_or("")},
                   {"data", data.is_discarded() ? nlohmann::json(row[4].value_or("")) : data},
                   {"read", row[5].has_value()}});
  }
  return out;
}

void MakeAdminInDb(DirectDb& db, const std::string& user_id) {
  db.Exec("UPDATE users SET role = 'admin' WHERE id = " + DirectDb::Quote(user_id));
}

void MarkVerifiedInDb(DirectDb& db, const std::string& user_id) {
  db.Exec("UPDATE users SET email_verified = 1 WHERE id = " + DirectDb::Quote(user_id));
}

bool WaitForOutboxDrained(DirectDb& db, const std::string& address, std::chrono::milliseconds timeout) {
  return WaitUntil(
      [&] {
        return db.Scalar("SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL AND to_address = " +
                         DirectDb::Quote(address)) == "0";
      },
      timeout, std::chrono::milliseconds{50});
}

std::vector<std::string> SubjectsTo(const SmtpSink& sink, const std::string& to) {
  std::vector<std::string> out;
  for (const auto& mail : MailTo(sink, to)) out.push_back(mail.DecodedHeader("Subject"));
  return out;
}

std::string Rfc3339FromNow(std::chrono::seconds offset) {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + offset);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

ServerPair::~ServerPair() {
  db.reset();
  b.reset();
  a.reset();
}

void StartServerPair(ServerPair& pair, const std::map<std::string, std::string>& env) {
  pair.url = FreshDatabaseUrl(pair.dir);
  pair.a.emplace(StartAccountServer(pair.dir, pair.url, env));
  pair.b.emplace(StartAccountServer(pair.dir, pair.url, env));
  pair.db.emplace(pair.url);
}

}  // namespace ikigai::support
