// The JSON text writers give the same bytes as nlohmann's dump, which they replace on hot paths.
#include "http/encode.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ikigai::http {
namespace {

std::string Dumped(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST(AppendJsonStringTest, SameBytesAsNlohmannDump) {
  const std::vector<std::string> cases = {
      "", "plain words", "quote \" inside", "back\\slash", "line\nbreak\ttab\r", std::string("nul\0byte", 8),
      "\x01\x1f\x7f", "/slash/", "caf\xC3\xA9", "\xF0\x9F\x98\x80 emoji", "bad \xFF byte", "cut \xC3",
      "~!@#$%^&*()_+{}|:<>?`-=[];',."};
  for (const auto& s : cases) {
    std::string out = "x";
    AppendJsonString(out, s);
    std::string want = "x";  // (not "x" + Dumped(s): GCC 12 -Wrestrict false positive)
    want += Dumped(s);
    EXPECT_EQ(out, want) << s;
  }
}

TEST(AppendJsonStringTest, TimestampIsAQuotedRfc3339String) {
  std::string out;
  AppendJsonTimestamp(out, 1795424400000LL);
  EXPECT_EQ(out, "\"2026-11-23T09:00:00Z\"");
}

}  // namespace
}  // namespace ikigai::http
