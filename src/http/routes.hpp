// Every route of the API, registered in one place: the server and the OpenAPI test both use it.
#pragma once

#include "auth/account_service.hpp"
#include "auth/recovery_service.hpp"
#include "feedback/feedback_service.hpp"
#include "jobs/runner.hpp"
#include "mail/outbox.hpp"
#include "notify/notification_service.hpp"
#include "notify/push_sender.hpp"
#include "notify/push_subscriptions.hpp"
#include "notify/stream_hub.hpp"
#include "http/cursor.hpp"
#include "tasks/ikigai_map_service.hpp"
#include "tasks/task_service.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "store/database.hpp"
#include "users/admin_service.hpp"
#include "users/mfa_service.hpp"
#include "users/profile_service.hpp"

namespace ikigai::http {

// The collaborators handlers need. Grows with each capability.
struct Services {
  store::Database& db;
  auth::AccountService& accounts;
  tasks::TaskService& tasks;
  tasks::IkigaiMapService& maps;
  const CursorSealer& cursors;
  auth::RecoveryService& recovery;
  users::ProfileService& profile;
  users::AdminService& admin;
  users::MfaService& mfa;
  notify::NotificationService& notifications;
  notify::StreamHub& hub;
  const notify::Notifier& notifier;
  feedback::FeedbackService& feedback;
  const mail::OutboxSender* outbox_sender = nullptr;  // for metrics; null where no sender runs
  const jobs::Runner* jobs = nullptr;                   // for metrics; null where no jobs run
  notify::PushSubscriptionService* push = nullptr;      // the Web Push routes; null: not served
  std::string push_public_key{};                        // base64url VAPID public key
  const notify::PushSender* push_sender = nullptr;      // for metrics; null where no sender runs
};

void RegisterRoutes(Router& router, Server& server, Services& services);

}  // namespace ikigai::http
