// gtest predicates for the API's conventions: problem+json, JSON bodies, request ids, metrics.
#include "support/http_expectations.hpp"
#include "support/text.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>
#include <sstream>

namespace ikigai::support {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string MediaType(std::string_view content_type) {
  return LowerAscii(Trim(content_type.substr(0, content_type.find(';'))));
}

}  // namespace

bool IsJsonContentType(std::string_view content_type) {
  auto type = MediaType(content_type);
  return type == "application/json" || type == "application/problem+json";
}

::testing::AssertionResult IsJsonResponse(const Response& response) {
  if (response.status == 0) return ::testing::AssertionFailure() << response;
  if (!IsJsonContentType(response.Header("content-type"))) {
    return ::testing::AssertionFailure() << "Content-Type is not JSON: " << response;
  }
  if (!nlohmann::json::accept(response.body)) {
    return ::testing::AssertionFailure() << "body is not JSON: " << response;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsProblem(const Response& response, int status, std::string_view code) {
  auto fail = [&](std::string_view why) {
    return ::testing::AssertionFailure()
           << why << " (expected a " << status << " " << code << " problem); got " << response;
  };
  if (response.status != status) return fail("wrong status");
  if (MediaType(response.Header("content-type")) != "application/problem+json") {
    return fail("Content-Type is not application/problem+json");
  }
  auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return fail("body is not a JSON object");
  if (!body.contains("code") || body["code"] != code) return fail("wrong or missing \"code\"");
  if (!body.contains("status") || body["status"] != status) {
    return fail("wrong or missing \"status\"");
  }
  if (!body.contains("type") || !body["type"].is_string() ||
      body["type"].get<std::string>().empty()) {
    return fail("missing \"type\"");
  }
  if (!body.contains("title") || !body["title"].is_string() ||
      body["title"].get<std::string>().empty()) {
    return fail("missing \"title\"");
  }
  std::string header_id = response.Header("x-request-id");
  if (header_id.empty()) return fail("no X-Request-Id header");
  if (!body.contains("request_id") || body["request_id"] != header_id) {
    return fail("\"request_id\" differs from the X-Request-Id header");
  }
  if (status == 422) {
    if (std::string why = ErrorCodesProblem(body); !why.empty()) return fail(why);
  }
  return ::testing::AssertionSuccess();
}

std::string ErrorCodesProblem(const nlohmann::json& body) {
  static const std::set<std::string> kCodes = {
      "required",  "unknown_field", "read_only",     "invalid_type",     "too_short",
      "too_long",  "out_of_range",  "invalid_format", "invalid_value",   "taken",
      "too_common", "same_as_identity", "incorrect", "same_as_current", "too_many"};
  if (!body.contains("errors") || !body["errors"].is_object() || body["errors"].empty()) {
    return "no \"errors\" object";
  }
  if (!body.contains("error_codes") || !body["error_codes"].is_object()) return "no \"error_codes\" object";
  const auto& errors = body["errors"];
  const auto& codes = body["error_codes"];
  if (errors.size() != codes.size()) return "\"error_codes\" and \"errors\" have different keys";
  for (const auto& [field, message] : errors.items()) {
    if (!codes.contains(field)) return "\"error_codes\" lacks \"" + field + "\"";
    if (!codes[field].is_string() || !kCodes.contains(codes[field].get<std::string>())) {
      return "error_codes." + field + " is not one of API.md's codes: " + codes[field].dump();
    }
  }
  return "";
}

bool IsValidRequestId(std::string_view id) {
  static const std::regex kPattern("[A-Za-z0-9._:-]{1,128}");
  return std::regex_match(id.begin(), id.end(), kPattern);
}

bool IsHttpDate(std::string_view date) {
  static const std::regex kPattern(
      "(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
      "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT");
  return std::regex_match(date.begin(), date.end(), kPattern);
}

bool HeaderListContains(std::string_view value, std::string_view token) {
  std::string wanted = LowerAscii(token);
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    if (LowerAscii(Trim(value.substr(start, comma - start))) == wanted) return true;
    start = comma + 1;
  }
  return false;
}

std::optional<double> MetricSum(std::string_view text, std::string_view metric,
                                std::initializer_list<std::string_view> labels) {
  std::optional<double> sum;
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line.front() == '#') continue;
    std::size_t name_end = line.find_first_of("{ ");
    if (name_end == std::string::npos || line.compare(0, name_end, metric) != 0 ||
        name_end != metric.size()) {
      continue;
    }
    std::string label_set;
    std::size_t value_start = name_end;
    if (line[name_end] == '{') {
      // Label values may contain '}' (route="/api/v1/tasks/{id}"): skip quoted text.
      std::size_t close = std::string::npos;
      bool quoted = false;
      for (std::size_t i = name_end + 1; i < line.size(); ++i) {
        if (quoted && line[i] == '\\') {
          ++i;
        } else if (line[i] == '"') {
          quoted = !quoted;
        } else if (!quoted && line[i] == '}') {
          close = i;
          break;
        }
      }
      if (close == std::string::npos) continue;
      label_set = line.substr(name_end, close - name_end + 1);
      value_start = close + 1;
    }
    bool match = std::all_of(labels.begin(), labels.end(), [&](std::string_view fragment) {
      return label_set.find(fragment) != std::string::npos;
    });
    if (!match) continue;
    std::istringstream value_stream(line.substr(value_start));
    double value = 0;
    if (value_stream >> value) sum = sum.value_or(0) + value;
  }
  return sum;
}

}  // namespace ikigai::support
