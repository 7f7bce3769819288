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

// For encoders that write JSON text directly (lists, where building an nlohmann object per item
// cost more than the query): appends `s` as a JSON string, byte for byte what JsonReply's dump
// writes (invalid UTF-8 replaced by U+FFFD, non-ASCII kept as is).
void AppendJsonString(std::string& out, std::string_view s);
// Appends Timestamp(millis) as a JSON string.
void AppendJsonTimestamp(std::string& out, long long millis);

}  // namespace ikigai::http
