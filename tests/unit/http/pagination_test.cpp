// Query-parameter checks shared by every list: limit and boolean parameters.
#include "http/pagination.hpp"

#include <gtest/gtest.h>

namespace ikigai::http {
namespace {

Request WithQuery(std::map<std::string, std::string> query) {
  Request r;
  r.query = std::move(query);
  return r;
}

TEST(PaginationTest, LimitDefaultsTo20AndAcceptsOneToHundred) {
  EXPECT_EQ(ParseLimit(WithQuery({})).value(), 20);
  EXPECT_EQ(ParseLimit(WithQuery({{"limit", "1"}})).value(), 1);
  EXPECT_EQ(ParseLimit(WithQuery({{"limit", "100"}})).value(), 100);
}

TEST(PaginationTest, LimitOutOfRangeOrNotANumberIs400NamingIt) {
  for (const char* bad : {"0", "101", "-1", "", "abc", "10x", "1e2", " 5", "99999999999999999999"}) {
    auto limit = ParseLimit(WithQuery({{"limit", bad}}));
    ASSERT_FALSE(limit) << bad;
    EXPECT_EQ(limit.error().code, core::ErrorCode::kBadRequest);
    EXPECT_TRUE(limit.error().fields.contains("limit"));
    EXPECT_NE(limit.error().detail.find("'limit'"), std::string::npos);
  }
}

TEST(PaginationTest, BooleansAreTrueOrFalseOnly) {
  EXPECT_EQ(ParseBoolParam(WithQuery({}), "disabled").value(), std::nullopt);
  EXPECT_EQ(ParseBoolParam(WithQuery({{"disabled", "true"}}), "disabled").value(), true);
  EXPECT_EQ(ParseBoolParam(WithQuery({{"disabled", "false"}}), "disabled").value(), false);
  for (const char* bad : {"1", "yes", "TRUE", ""}) {
    auto v = ParseBoolParam(WithQuery({{"disabled", bad}}), "disabled");
    ASSERT_FALSE(v) << bad;
    EXPECT_EQ(v.error().code, core::ErrorCode::kBadRequest);
  }
}

}  // namespace
}  // namespace ikigai::http
