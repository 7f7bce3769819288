// Request accessors and the reply builders every handler uses.
#include "http/request.hpp"

#include "http/problem.hpp"

namespace ikigai::http {

std::optional<std::string> Request::Header(std::string_view lower_name) const {
  std::optional<std::string> combined;
  const std::string_view separator = lower_name == "cookie" ? "; " : ", ";
  for (const auto& [name, value] : headers) {
    if (name != lower_name) continue;
    if (combined) {
      *combined += separator;
      *combined += value;
    } else {
      combined = value;
    }
  }
  return combined;
}

std::string Request::Param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string{} : it->second;
}

Reply JsonReply(int status, const nlohmann::json& body) {
  Reply r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Reply JsonTextReply(int status, std::string json_text) {
  Reply r;
  r.status = status;
  r.body = std::move(json_text);
  return r;
}

Reply NoContent() {
  Reply r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

Reply ErrorReply(const core::Error& error, const Request& request) {
  Reply r;
  r.status = StatusFor(error.code);
  r.content_type = "application/problem+json";
  r.body = ProblemBody(error, request.request_id);
  if (r.status == 401) r.With("WWW-Authenticate", BearerChallenge(error));
  if (error.retry_after_seconds) r.With("Retry-After", std::to_string(*error.retry_after_seconds));
  return r;
}

}  // namespace ikigai::http
