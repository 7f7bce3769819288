// The route table of the whole API.
#include "http/routes.hpp"

#include "http/operations.hpp"

namespace ikigai::http {

void RegisterRoutes(Router& router, Server& server, Services& services) {
  RegisterOperationRoutes(router, server, services.db);
}

}  // namespace ikigai::http
