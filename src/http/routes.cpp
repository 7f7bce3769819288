// The route table of the whole API.
#include "http/routes.hpp"

#include "http/account_handlers.hpp"
#include "http/feedback_handlers.hpp"
#include "http/mfa_handlers.hpp"
#include "http/activity_handlers.hpp"
#include "http/notification_handlers.hpp"
#include "http/operations.hpp"
#include "http/profile_handlers.hpp"
#include "http/push_handlers.hpp"
#include "http/recovery_handlers.hpp"
#include "http/task_handlers.hpp"

namespace ikigai::http {

void RegisterRoutes(Router& router, Server& server, Services& services) {
  RegisterOperationRoutes(router, server, services);
  RegisterAccountRoutes(router, services.accounts, server.Config().refresh_ttl);
  RegisterTaskRoutes(router, services.tasks, services.maps, services.cursors);
  RegisterRecoveryRoutes(router, services.recovery);
  RegisterProfileRoutes(router, services.profile);
  RegisterAdminRoutes(router, services.admin, services.cursors);
  RegisterMfaRoutes(router, services.accounts, services.mfa, server.Config().refresh_ttl);
  RegisterFeedbackRoutes(router, services.feedback, services.cursors);
  RegisterNotificationRoutes(router, {services.notifications, services.hub, services.accounts, services.cursors,
                                      server.MaxStreams()});
  RegisterActivityRoutes(router, server, services.db, services.cursors);
  if (services.push != nullptr) {
    RegisterPushRoutes(router, {*services.push, services.cursors, services.push_public_key});
  }
}

}  // namespace ikigai::http
