// Helpers for the tests of API.md "Notifications" (issue #12, /work/NOTIFY-DESIGN.md): inbox and
// preference calls, announcements, waiting for inbox rows, the notification rows and mails of a
// user read directly, and two server instances on one database.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/direct_db.hpp"
#include "support/email_message.hpp"
#include "support/http_client.hpp"
#include "support/server.hpp"
#include "support/smtp_sink.hpp"
#include "support/temp_dir.hpp"

namespace ikigai::support {

inline constexpr const char* kNotifications = "/api/v1/notifications";
inline constexpr const char* kReadAll = "/api/v1/notifications/read-all";
inline constexpr const char* kStream = "/api/v1/notifications/stream";
inline constexpr const char* kStreamTicket = "/api/v1/notifications/stream-ticket";
inline constexpr const char* kPrefs = "/api/v1/me/notification-preferences";
inline constexpr const char* kBroadcast = "/api/v1/admin/notifications";

// The titles NOTIFY-DESIGN.md gives the producers.
inline constexpr const char* kNewSignInTitle = "New sign-in to your account";
inline constexpr const char* kPasswordChangedTitle = "Your password was changed";
inline constexpr const char* kEmailChangedTitle = "Your email address is being changed";
inline constexpr const char* kSessionsRevokedTitle = "All your sessions were signed out";
inline constexpr const char* kRefreshReusedTitle = "A session was ended to protect your account";
// The subjects of the security mails that keep their templates.
inline constexpr const char* kPasswordChangedSubject = "Your Ikigai password was changed";
inline constexpr const char* kEmailChangedSubject = "Your Ikigai email address is being changed";

// "/api/v1/notifications/{id}" (+ suffix, e.g. "/read").
[[nodiscard]] std::string NotificationPath(std::string_view id, std::string_view suffix = "");

// GET /api/v1/notifications with `query` ("" or "unread=true&kind=security&limit=5"...).
Response ListNotifications(const Http& http, const Headers& auth, const std::string& query = "");

// The items of GET /api/v1/notifications?query, following next_cursor to the end (limit 100 per
// page unless the query has one). Fails the test (and returns what it has) on a non-200.
[[nodiscard]] std::vector<nlohmann::json> AllNotifications(const Http& http, const Headers& auth,
                                                           const std::string& query = "");

// The X-Unread-Count of GET /api/v1/notifications as a number; -1 when missing or not a number.
[[nodiscard]] long long UnreadCount(const Http& http, const Headers& auth);

// Polls AllNotifications(query) until it has at least `count` items; returns the last listing.
std::vector<nlohmann::json> WaitForNotifications(const Http& http, const Headers& auth, std::size_t count,
                                                 const std::string& query = "",
                                                 std::chrono::milliseconds timeout = std::chrono::seconds{10});

// Only the items whose kind is `kind` (and, when given, whose data.event is `event`).
[[nodiscard]] std::vector<nlohmann::json> OfKind(const std::vector<nlohmann::json>& items, std::string_view kind,
                                                 std::string_view event = "");

// GET / PATCH /api/v1/me/notification-preferences.
Response GetPrefs(const Http& http, const Headers& auth);
Response PatchPrefs(const Http& http, const Headers& auth, const nlohmann::json& body);
// PATCH that must answer 200; fails the test otherwise.
void SetPrefs(const Http& http, const Headers& auth, const nlohmann::json& body);
// The preferences of a user who never changed them.
[[nodiscard]] nlohmann::json DefaultPrefs();

// POST /api/v1/admin/notifications with `body`.
Response Broadcast(const Http& http, const Headers& admin_auth, const nlohmann::json& body);

// A user's notification rows read directly from the database (`notifications`), oldest first,
// as {"id","kind","title","body","data"(parsed),"read"(bool)}.
[[nodiscard]] std::vector<nlohmann::json> NotificationRows(DirectDb& db, const std::string& user_id);

// Makes the user an admin directly in the database.
void MakeAdminInDb(DirectDb& db, const std::string& user_id);
// Marks the user's address verified directly in the database (for tests that are not about
// verification; the producer tests verify through the mailed link).
void MarkVerifiedInDb(DirectDb& db, const std::string& user_id);

// Waits until every outbox row to `address` is sent (nothing pending or retrying), so that the
// sink holds every mail queued for it so far. False (after `timeout`) otherwise.
bool WaitForOutboxDrained(DirectDb& db, const std::string& address,
                          std::chrono::milliseconds timeout = std::chrono::seconds{20});

// The decoded subjects of the mails the sink received for `to`, in arrival order.
[[nodiscard]] std::vector<std::string> SubjectsTo(const SmtpSink& sink, const std::string& to);

// RFC 3339 UTC to the second for now + offset ("2026-12-06T05:30:00Z").
[[nodiscard]] std::string Rfc3339FromNow(std::chrono::seconds offset);

// Two `ikigai serve` on one database (SQLite file or MariaDB database), with AccountServerEnv +
// `env`, plus a direct connection to that database.
struct ServerPair {
  TempDir dir;
  std::string url;
  std::optional<Server> a;
  std::optional<Server> b;
  std::optional<DirectDb> db;

  ServerPair() = default;
  ServerPair(const ServerPair&) = delete;
  ServerPair& operator=(const ServerPair&) = delete;
  ~ServerPair();
};

// Starts both (A first, which migrates the database). Throws when one does not start.
void StartServerPair(ServerPair& pair, const std::map<std::string, std::string>& env = {});

}  // namespace ikigai::support
