// The Notifications section of API.md: inbox, preferences, announcements, the live stream and
// its browser tickets.
#pragma once

#include "auth/account_service.hpp"
#include "http/cursor.hpp"
#include "http/router.hpp"
#include "notify/notification_service.hpp"
#include "notify/stream_hub.hpp"

namespace ikigai::http {

struct NotificationRoutes {
  notify::NotificationService& notifications;
  notify::StreamHub& hub;
  auth::AccountService& accounts;
  const CursorSealer& cursors;
  std::size_t max_streams = 10000;
};

// API.md's preferences object as JSON text.
[[nodiscard]] std::string PreferencesJson(const store::NotificationPrefsRow& p);

void RegisterNotificationRoutes(Router& router, const NotificationRoutes& deps);

}  // namespace ikigai::http
