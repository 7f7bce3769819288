// RFC 9457 problem details: the only place that turns a core::Error into an HTTP status and body.
#pragma once

#include <string>

#include "core/error.hpp"

namespace ikigai::http {

[[nodiscard]] int StatusFor(core::ErrorCode code);
// The `code` member of a problem body, e.g. "validation_failed".
[[nodiscard]] const char* CodeName(core::ErrorCode code);

// The WWW-Authenticate value of a 401 (RFC 6750): `Bearer`, plus error="invalid_token" and an
// error_description when an access token was sent and refused.
[[nodiscard]] std::string BearerChallenge(const core::Error& error);

// The problem+json body for an error of the request with this id.
[[nodiscard]] std::string ProblemBody(const core::Error& error, const std::string& request_id);

}  // namespace ikigai::http
