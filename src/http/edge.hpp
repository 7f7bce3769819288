// The checks at the edge of every request that need no database: request ids, the client address
// behind trusted proxies, CORS, and the JSON media type.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace ikigai::http {

// [A-Za-z0-9._:-]{1,128}: an incoming X-Request-Id is echoed only when it matches.
[[nodiscard]] bool IsValidRequestId(std::string_view id);

// The TCP peer, or, when the peer is a trusted proxy, the rightmost X-Forwarded-For address that
// is not a trusted proxy (API.md). Garbage in X-Forwarded-For is ignored from that point leftwards.
[[nodiscard]] std::string ClientAddress(const std::string& peer,
                                        const std::optional<std::string>& forwarded_for,
                                        const std::vector<config::Cidr>& trusted);

// True for application/json with optional parameters (charset=utf-8 and the like).
[[nodiscard]] bool IsJsonMediaType(std::string_view content_type);

// The origin to echo in Access-Control-Allow-Origin, or nullopt when it is not allowed: one of
// `allowed` exactly, or, with `allow_local` (development), http://localhost or http://127.0.0.1 on
// any port.
[[nodiscard]] std::optional<std::string> AllowedOrigin(const std::optional<std::string>& origin,
                                                       const std::vector<std::string>& allowed,
                                                       bool allow_local = false);

}  // namespace ikigai::http
