// The route table of the whole API.
#include "http/routes.hpp"

#include "http/account_handlers.hpp"
#include "http/operations.hpp"
#include "http/task_handlers.hpp"

namespace ikigai::http {

void RegisterRoutes(Router& router, Server& server, Services& services) {
  RegisterOperationRoutes(router, server, services.db);
  RegisterAccountRoutes(router, services.accounts);
  RegisterTaskRoutes(router, services.tasks, services.maps, services.cursors);
}

}  // namespace ikigai::http
