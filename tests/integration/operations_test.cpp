// The operations endpoints (API.md "Operations") and the command line, against the real binary.
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "support/backend.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/server.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace ikigai {
namespace {

using support::Http;
using support::IsJsonResponse;
using support::MetricSum;

class OperationsTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { suite_server_.Reset(); }
  static support::Server& Server() { return suite_server_.Get(); }
  static inline support::SuiteServer suite_server_;
};

TEST_F(OperationsTest, HealthzSaysOk) {
  auto res = Http(Server()).Get("/healthz");
  ASSERT_EQ(res.status, 200) << res;
  ASSERT_TRUE(IsJsonResponse(res));
  EXPECT_EQ(res.Json(), nlohmann::json({{"status", "ok"}})) << res;
}

TEST_F(OperationsTest, ReadyzIsOkOnAMigratedDatabase) {
  auto res = Http(Server()).Get("/readyz");
  EXPECT_EQ(res.status, 200) << res;
}

TEST_F(OperationsTest, MetricsCountRequestsByRoute) {
  Http http(Server());
  ASSERT_EQ(http.Get("/healthz").status, 200);
  support::Response metrics;
  // The counter may be bumped just after the response is written; wait for it, briefly.
  bool counted = support::WaitUntil(
      [&] {
        metrics = http.Get("/metrics");
        return metrics.status == 200 &&
               MetricSum(metrics.body, "ikigai_http_requests_total", {R"(route="/healthz")"})
                       .value_or(0) >= 1;
      },
      std::chrono::seconds{5}, std::chrono::milliseconds{50});
  EXPECT_TRUE(counted) << "no ikigai_http_requests_total{route=\"/healthz\"} >= 1 in " << metrics;
  EXPECT_EQ(metrics.status, 200) << metrics;
  EXPECT_EQ(metrics.Header("content-type").rfind("text/plain", 0), 0u) << metrics;
  EXPECT_NE(metrics.body.find("ikigai_http_request_duration_seconds_bucket"), std::string::npos)
      << metrics;
  // No stream is open here; the gauge is there from the start (issue 12: open streams).
  EXPECT_EQ(MetricSum(metrics.body, "ikigai_http_streams_open"), std::optional<double>(0.0)) << metrics;
}

TEST_F(OperationsTest, OpenApiDocumentDescribesTheContract) {
  auto res = Http(Server()).Get("/api/v1/openapi.json");
  ASSERT_EQ(res.status, 200) << res;
  ASSERT_TRUE(IsJsonResponse(res));
  auto doc = res.Json();
  EXPECT_EQ(doc.value("openapi", ""), "3.1.0");
  ASSERT_TRUE(doc.contains("paths") && doc["paths"].is_object()) << res;
  EXPECT_TRUE(doc["paths"].contains("/healthz")) << res;
}

// tools/openapi/conformance.mjs (ctest conformance.*) checks the recorded exchanges against
// src/http/openapi.json; that proves the served document only while the two are the same bytes.
TEST_F(OperationsTest, ServedOpenApiDocumentIsTheSourceFile) {
  std::ifstream in(IKIGAI_SOURCE_DIR "/src/http/openapi.json", std::ios::binary);
  ASSERT_TRUE(in) << "cannot read src/http/openapi.json";
  std::ostringstream file;
  file << in.rdbuf();
  auto res = Http(Server()).Get("/api/v1/openapi.json");
  ASSERT_EQ(res.status, 200) << res;
  // Not EXPECT_EQ: a difference would print both 130 KB documents.
  EXPECT_TRUE(res.body == file.str()) << "the served document (" << res.body.size()
                                      << " bytes) differs from src/http/openapi.json ("
                                      << file.str().size() << " bytes)";
}

// ---- the command line ----

TEST(CliTest, MigrateTwiceSucceeds) {
  support::TempDir dir;
  std::string url = support::FreshDatabaseUrl(dir);
  auto first = support::RunIkigai({"migrate", "--database-url", url});
  ASSERT_EQ(first.exit_status, 0) << first.out << first.err;
  auto second = support::RunIkigai({"migrate", "--database-url", url});
  EXPECT_EQ(second.exit_status, 0) << second.out << second.err;
}

TEST(CliTest, MigrateLeavesADatabaseTheServerFindsReady) {
  support::TempDir dir;
  std::string url = support::FreshDatabaseUrl(dir);
  auto migrate = support::RunIkigai({"migrate", "--database-url", url});
  ASSERT_EQ(migrate.exit_status, 0) << migrate.out << migrate.err;
  support::ServerOptions options;
  options.data_dir = dir.Path();
  options.database_url = url;
  auto server = support::StartServer(options);
  EXPECT_EQ(Http(server).Get("/readyz").status, 200);
}

TEST(CliTest, VersionPrintsAVersion) {
  auto res = support::RunIkigai({"version"});
  EXPECT_EQ(res.exit_status, 0) << res.err;
  EXPECT_TRUE(std::regex_search(res.out, std::regex(R"([0-9]+\.[0-9]+\.[0-9]+)")))
      << "stdout: " << res.out << "\nstderr: " << res.err;
}

TEST(CliTest, ServeHelpExitsZero) {
  auto res = support::RunIkigai({"serve", "--help"});
  EXPECT_EQ(res.exit_status, 0) << res.out << res.err;
  EXPECT_NE((res.out + res.err).find("--listen"), std::string::npos) << res.out << res.err;
}

}  // namespace
}  // namespace ikigai
