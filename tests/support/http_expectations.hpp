// gtest predicates for the API's conventions: problem+json, JSON bodies, request ids, metrics.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/http_client.hpp"

namespace ikigai::support {

// "application/json" or "application/problem+json", parameters allowed.
[[nodiscard]] bool IsJsonContentType(std::string_view content_type);

// A JSON (or problem+json) Content-Type and a body that parses.
[[nodiscard]] ::testing::AssertionResult IsJsonResponse(const Response& response);

// An RFC 9457 problem as API.md defines it: the status, Content-Type application/problem+json,
// and a body with "code" == code, "status" == status, string "type" and "title", and a
// "request_id" equal to the X-Request-Id header. Use: EXPECT_TRUE(IsProblem(res, 404,
// "not_found")).
// A 422 must also pass ErrorCodesProblem.
[[nodiscard]] ::testing::AssertionResult IsProblem(const Response& response, int status,
                                                   std::string_view code);
// "" when a 422 body carries API.md's `error_codes`: an object with exactly the keys of `errors`,
// each value one of the listed codes; otherwise what is wrong.
[[nodiscard]] std::string ErrorCodesProblem(const nlohmann::json& body);

// Matches [A-Za-z0-9._:-]{1,128}, the request ids the server echoes.
[[nodiscard]] bool IsValidRequestId(std::string_view id);

// An IMF-fixdate as in RFC 9110: "Sun, 06 Nov 1994 08:49:37 GMT".
[[nodiscard]] bool IsHttpDate(std::string_view date);

// True when a comma-separated header value lists `token` (case-insensitive), e.g. Allow or Vary.
[[nodiscard]] bool HeaderListContains(std::string_view value, std::string_view token);

// The sum of every sample of `metric` in Prometheus text format whose label set contains all of
// `label_fragments` (e.g. R"(route="/healthz")"); nullopt when there is no such sample.
[[nodiscard]] std::optional<double> MetricSum(std::string_view text, std::string_view metric,
                                              std::initializer_list<std::string_view> labels = {});

}  // namespace ikigai::support
