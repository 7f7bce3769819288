// Handlers of forgot/reset password and email verification.
#pragma once

#include "auth/recovery_service.hpp"
#include "http/router.hpp"

namespace ikigai::http {

void RegisterRecoveryRoutes(Router& router, auth::RecoveryService& recovery);

}  // namespace ikigai::http
