// Maps typed errors to statuses, codes, titles and problem+json bodies.
#include "http/problem.hpp"

#include <nlohmann/json.hpp>

namespace ikigai::http {
namespace {

using core::ErrorCode;

struct Text {
  const char* title;
  const char* detail;
};

Text TextFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest: return {"Bad request", "A query parameter is invalid."};
    case ErrorCode::kMalformedJson: return {"Malformed JSON", "The request body is not valid JSON."};
    case ErrorCode::kInvalidToken: return {"Invalid token", "The token is invalid, expired or already used."};
    case ErrorCode::kUnauthorized: return {"Unauthorized", "Authentication is required."};
    case ErrorCode::kInvalidCredentials: return {"Invalid credentials", "The login or password is incorrect."};
    case ErrorCode::kForbidden: return {"Forbidden", "You are not allowed to do this."};
    case ErrorCode::kAccountDisabled: return {"Account disabled", "This account is disabled."};
    case ErrorCode::kEmailNotVerified: return {"Email not verified", "Verify your email address first."};
    case ErrorCode::kMfaRequired: return {"Second factor required", "Send a code of your authenticator app."};
    case ErrorCode::kNotFound: return {"Not found", "No such resource."};
    case ErrorCode::kMethodNotAllowed: return {"Method not allowed", "This method is not allowed on this path."};
    case ErrorCode::kConflict: return {"Conflict", "The request conflicts with the current state."};
    case ErrorCode::kPreconditionFailed: return {"Precondition failed", "The resource has changed since you read it."};
    case ErrorCode::kPayloadTooLarge: return {"Payload too large", "The request body is too large."};
    case ErrorCode::kUnsupportedMediaType: return {"Unsupported media type", "The request body must be application/json."};
    case ErrorCode::kValidation: return {"Validation failed", "One or more fields are invalid."};
    case ErrorCode::kRateLimited: return {"Too many requests", "Too many attempts. Try again later."};
    case ErrorCode::kInternal: return {"Internal error", "Something went wrong on our side."};
    case ErrorCode::kUnavailable: return {"Service unavailable", "The service is temporarily unavailable."};
    case ErrorCode::kUriTooLong: return {"URI too long", "The request target is longer than 8192 bytes."};
    case ErrorCode::kHeadersTooLarge: return {"Headers too large", "The request has too many header fields, or one that is too long."};
    case ErrorCode::kNotImplemented: return {"Not implemented", "Only the chunked transfer coding is supported."};
    case ErrorCode::kVersionNotSupported: return {"HTTP version not supported", "Only HTTP/1.0 and HTTP/1.1 are supported."};
  }
  return {"Internal error", "Something went wrong on our side."};
}

}  // namespace

int StatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest: return 400;
    case ErrorCode::kMalformedJson: return 400;
    case ErrorCode::kInvalidToken: return 400;
    case ErrorCode::kUnauthorized: return 401;
    case ErrorCode::kInvalidCredentials: return 401;
    case ErrorCode::kForbidden: return 403;
    case ErrorCode::kAccountDisabled: return 403;
    case ErrorCode::kEmailNotVerified: return 403;
    case ErrorCode::kMfaRequired: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kMethodNotAllowed: return 405;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kPreconditionFailed: return 412;
    case ErrorCode::kPayloadTooLarge: return 413;
    case ErrorCode::kUnsupportedMediaType: return 415;
    case ErrorCode::kValidation: return 422;
    case ErrorCode::kRateLimited: return 429;
    case ErrorCode::kInternal: return 500;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kUriTooLong: return 414;
    case ErrorCode::kHeadersTooLarge: return 431;
    case ErrorCode::kNotImplemented: return 501;
    case ErrorCode::kVersionNotSupported: return 505;
  }
  return 500;
}

const char* CodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest: return "bad_request";
    case ErrorCode::kMalformedJson: return "malformed_json";
    case ErrorCode::kInvalidToken: return "invalid_token";
    case ErrorCode::kUnauthorized: return "unauthorized";
    case ErrorCode::kInvalidCredentials: return "invalid_credentials";
    case ErrorCode::kForbidden: return "forbidden";
    case ErrorCode::kAccountDisabled: return "account_disabled";
    case ErrorCode::kEmailNotVerified: return "email_not_verified";
    case ErrorCode::kMfaRequired: return "mfa_required";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kMethodNotAllowed: return "method_not_allowed";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kPreconditionFailed: return "precondition_failed";
    case ErrorCode::kPayloadTooLarge: return "payload_too_large";
    case ErrorCode::kUnsupportedMediaType: return "unsupported_media_type";
    case ErrorCode::kValidation: return "validation_failed";
    case ErrorCode::kRateLimited: return "rate_limited";
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kUriTooLong: return "uri_too_long";
    case ErrorCode::kHeadersTooLarge: return "headers_too_large";
    case ErrorCode::kNotImplemented: return "not_implemented";
    case ErrorCode::kVersionNotSupported: return "http_version_not_supported";
  }
  return "internal";
}

std::string ProblemBody(const core::Error& error, const std::string& request_id) {
  const Text text = TextFor(error.code);
  const char* code = CodeName(error.code);
  // Internal errors never carry details to the client, whatever the service put there.
  const bool keep_detail = !error.detail.empty() && error.code != ErrorCode::kInternal;
  nlohmann::json body = {
      {"type", std::string("urn:ikigai:problem:") + code},
      {"title", text.title},
      {"status", StatusFor(error.code)},
      {"detail", keep_detail ? error.detail : std::string(text.detail)},
      {"code", code},
  };
  if (!error.fields.empty()) {
    // `errors` (English, for people) and `error_codes` (the contract, for programs) always have
    // the same keys.
    nlohmann::json messages = nlohmann::json::object(), codes = nlohmann::json::object();
    for (const auto& [field, problem] : error.fields) {
      messages[field] = problem.message;
      codes[field] = core::FieldCodeName(problem.code);
    }
    body["errors"] = std::move(messages);
    body["error_codes"] = std::move(codes);
  }
  if (!error.reason.empty()) body["reason"] = error.reason;
  for (const auto& [name, value] : error.members) body[name] = value;
  body["request_id"] = request_id;
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string BearerChallenge(const core::Error& error) {
  // RFC 6750 3.1: no error code when the request carried no credentials at all.
  if (error.reason.empty() || error.reason == "missing") return "Bearer";
  const std::string detail = error.detail.empty() ? std::string(TextFor(error.code).detail) : error.detail;
  std::string quoted;
  for (char c : detail) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return "Bearer error=\"invalid_token\", error_description=\"" + quoted + "\"";
}

}  // namespace ikigai::http
