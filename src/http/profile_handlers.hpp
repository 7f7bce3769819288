// Handlers of API.md's Profile section (PATCH /me, POST /me/password, DELETE /me) and of
// "Roles and administration" (/admin/users). GET /me and the session routes are in
// account_handlers.
#pragma once

#include "http/cursor.hpp"
#include "http/router.hpp"
#include "users/admin_service.hpp"
#include "users/profile_service.hpp"

namespace ikigai::http {

void RegisterProfileRoutes(Router& router, users::ProfileService& profile);
void RegisterAdminRoutes(Router& router, users::AdminService& admin, const CursorSealer& cursors);

}  // namespace ikigai::http
