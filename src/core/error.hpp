// Typed errors that services return; http/problem.cpp is the only place that maps them to HTTP.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>

#include <restinio/expected.hpp>

namespace ikigai::core {

// One code per kind of failure a client can see. Order follows API.md's error table.
enum class ErrorCode {
  kBadRequest,            // bad query parameter
  kMalformedJson,         // unparsable body
  kInvalidToken,          // bad/expired/used one-time token
  kUnauthorized,          // missing/invalid/revoked access or refresh token
  kInvalidCredentials,    // failed login
  kForbidden,             // authenticated, not allowed
  kAccountDisabled,       // correct password, disabled account
  kEmailNotVerified,      // correct password, verification required
  kMfaRequired,           // correct password, two-factor sign-in on: the second step is next
  kNotFound,              // no such resource, or someone else's
  kMethodNotAllowed,      // known path, wrong method
  kConflict,              // uniqueness or last-admin rule
  kPreconditionFailed,    // If-Match mismatch
  kPayloadTooLarge,       // body over the limit
  kUnsupportedMediaType,  // body that is not JSON
  kValidation,            // field errors
  kRateLimited,           // too many attempts
  kInternal,              // a bug or an unexpected failure; never leaks details
  kUnavailable,           // database unreachable, queue full, shutting down
  // HTTP/1.1 framing errors, answered by the transport before the connection closes.
  kUriTooLong,            // request target over 8 KiB
  kHeadersTooLarge,       // too many header fields, or one too long
  kNotImplemented,        // a transfer coding other than chunked
  kVersionNotSupported,   // an HTTP version other than 1.0 and 1.1
};

// Why one field was refused: API.md's `error_codes`, the stable contract a client translates and
// branches on (the English message beside it may change).
enum class FieldCode {
  kRequired,        // absent, null where not allowed, empty or blank
  kUnknownField,    // not a member of this request
  kReadOnly,        // a member of the resource the caller cannot set here (server-owned)
  kInvalidType,     // wrong JSON type
  kTooShort,        // under the minimum length
  kTooLong,         // over the maximum length
  kOutOfRange,      // a number outside its range
  kInvalidFormat,   // the right type in the wrong shape (email, date, UTF-8, control characters)
  kInvalidValue,    // not one of the allowed values, or a combination that is not allowed
  kTaken,           // unique and already in use
  kTooCommon,       // a password of the common-password list
  kSameAsIdentity,  // a password equal to the username or email
  kIncorrect,       // a password or code that does not match
  kSameAsCurrent,   // a new password equal to the current one
  kTooMany,         // more items than allowed
};

// "required", "unknown_field", ...: the value in `error_codes`.
[[nodiscard]] const char* FieldCodeName(FieldCode code);

struct FieldError {
  FieldCode code = FieldCode::kInvalidValue;
  std::string message{};  // English, for people: "must be 1 to 200 characters"
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string detail{};                         // safe for clients; empty means the default text
  std::map<std::string, FieldError> fields{};   // field name -> code and message (validation)
  std::optional<int> retry_after_seconds{};     // 429 and 503
  // 401 for an access token (API.md): "missing", "malformed", "expired" or "revoked"; empty
  // for other 401s (refresh tokens, failed logins).
  std::string reason{};
  // Extension members of the problem body (RFC 9457 3.2), e.g. mfa_token of a 403 mfa_required.
  std::map<std::string, std::string> members{};
};

template <class T>
using Result = nonstd::expected<T, Error>;

inline nonstd::unexpected_type<Error> Fail(ErrorCode code, std::string detail = {}) {
  return nonstd::make_unexpected(Error{code, std::move(detail), {}, std::nullopt});
}

inline nonstd::unexpected_type<Error> Fail(Error error) {
  return nonstd::make_unexpected(std::move(error));
}

inline nonstd::unexpected_type<Error> FailField(std::string field, FieldCode code, std::string message) {
  Error e{ErrorCode::kValidation, {}, {}, std::nullopt};
  e.fields.emplace(std::move(field), FieldError{code, std::move(message)});
  return nonstd::make_unexpected(std::move(e));
}

// A failure that is not the client's business (SQL, I/O). Its message goes to the log only.
class InternalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ikigai::core
