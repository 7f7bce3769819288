// Helpers for the tests of API.md "Tasks" and "Ikigai map".
#include "support/task_api.hpp"

#include <regex>
#include <stdexcept>
#include <utility>

#include "support/http_expectations.hpp"

namespace ikigai::support {

std::map<std::string, std::string> TaskServerEnv() {
  return AccountServerEnv({{"IKIGAI_RATE_LIMITS", "off"}});
}

Headers ApiUser::With(Headers extra) const {
  Headers out = auth;
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

ApiUser NewApiUser(const Http& http, std::string_view prefix) {
  ApiUser user;
  user.who = NewCredentials(prefix);
  auto pair = RegisterAndLogin(http, user.who);
  user.id = pair.user_id;
  if (user.id.empty()) throw std::runtime_error("the access token of " + user.who.username + " has no sub");
  user.auth = BearerHeaders(pair.access_token);
  return user;
}

std::string Numbered(std::string_view prefix, long long n) {
  std::string out(prefix);
  out += std::to_string(n);
  return out;
}

std::string UrlEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

std::string TasksQuery(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string path = "/api/v1/tasks";
  char sep = '?';
  for (const auto& [name, value] : params) {
    path += sep;
    path += UrlEncode(name);
    path += '=';
    path += UrlEncode(value);
    sep = '&';
  }
  return path;
}

Response PostTask(const Http& http, const ApiUser& user, const nlohmann::json& body) {
  return http.Post("/api/v1/tasks", body.dump(), user.auth);
}

nlohmann::json CreateTask(const Http& http, const ApiUser& user, const nlohmann::json& body) {
  auto res = PostTask(http, user, body);
  if (res.status != 201) throw std::runtime_error("creating a task " + body.dump() + " failed: " + res.Describe());
  return res.Json();
}

Response GetTask(const Http& http, const ApiUser& user, const std::string& id) {
  return http.Get("/api/v1/tasks/" + id, "", user.auth);
}

Response PatchTask(const Http& http, const ApiUser& user, const std::string& id, const nlohmann::json& body,
                   std::optional<std::string> if_match) {
  Headers headers = user.auth;
  if (if_match) headers.emplace_back("If-Match", *if_match);
  return http.Patch("/api/v1/tasks/" + id, body.dump(), std::move(headers));
}

bool IsUtcTimestamp(const nlohmann::json& value) {
  static const std::regex kPattern(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)");
  return value.is_string() && std::regex_match(value.get<std::string>(), kPattern);
}

bool IsUuidV7(const nlohmann::json& value) {
  static const std::regex kPattern("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  return value.is_string() && std::regex_match(value.get<std::string>(), kPattern);
}

IfMatchRace TallyIfMatchRace(const std::vector<Response>& results) {
  IfMatchRace race;
  for (const auto& r : results) {
    if (r.status == 200) {
      ++race.ok;
      race.winner = r.Json();
    } else if (IsProblem(r, 412, "precondition_failed")) {
      ++race.precondition_failed;
    } else {
      ADD_FAILURE() << "neither 200 nor 412: " << r;
    }
  }
  return race;
}

::testing::AssertionResult IsFieldError(const Response& response, std::string_view field) {
  auto problem = IsProblem(response, 422, "validation_failed");
  if (!problem) return problem << " (a field error on \"" << field << "\" was expected)";
  auto body = response.Json();
  const std::string name(field);
  if (!body.contains("errors") || !body["errors"].is_object() || !body["errors"].contains(name) ||
      !body["errors"][name].is_string() || body["errors"][name].get<std::string>().empty()) {
    return ::testing::AssertionFailure() << "no errors." << field << " message in " << response;
  }
  return ::testing::AssertionSuccess();
}

std::vector<ActivityRow> ActivityOf(DirectDb& db, const std::string& actor_id, const std::string& action_prefix) {
  std::vector<ActivityRow> out;
  for (auto& row : db.Query("SELECT actor_id, action, target_type, target_id, request_id, data FROM activity "
                            "WHERE actor_id = " +
                            DirectDb::Quote(actor_id) + " ORDER BY at, id")) {
    ActivityRow event{row[0], row[1].value_or(""), row[2], row[3], row[4].value_or(""), nullptr};
    if (event.action.rfind(action_prefix, 0) != 0) continue;
    const std::string data = row[5].value_or("");
    event.data = nlohmann::json::parse(data, nullptr, false);
    if (event.data.is_discarded()) throw std::runtime_error("activity data is not JSON: " + data);
    out.push_back(std::move(event));
  }
  return out;
}

}  // namespace ikigai::support
