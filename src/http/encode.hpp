// JSON shapes of API.md's resources; never a password hash or token.
#pragma once

#include <nlohmann/json.hpp>

#include "auth/account_service.hpp"
#include "store/sessions.hpp"
#include "store/users.hpp"

namespace ikigai::http {

[[nodiscard]] nlohmann::json EncodeUser(const store::UserRow& user);
[[nodiscard]] nlohmann::json EncodeTokenPair(const auth::TokenPair& pair);
[[nodiscard]] nlohmann::json EncodeSession(const store::SessionRow& session, bool current);
[[nodiscard]] std::string Timestamp(long long millis);

}  // namespace ikigai::http
