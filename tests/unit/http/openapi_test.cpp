// The OpenAPI document describes every registered route, and only real ones.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "auth/access_tokens.hpp"
#include "auth/account_service.hpp"
#include "http/operations.hpp"
#include "http/routes.hpp"
#include "support/fake_clock.hpp"

namespace ikigai::http {
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(OpenApiTest, EveryRegisteredRouteIsDocumented) {
  auto cfg = config::FromValues({});
  ASSERT_TRUE(cfg);
  support::FakeClock clock;
  core::SodiumRandom random;
  auto url = store::ParseDatabaseUrl("sqlite::memory:");
  ASSERT_TRUE(url);
  store::Database db(*url, store::DatabaseOptions{.pool_size = 1});
  Router router;
  Server server(*cfg, router, clock, random);
  auth::PasswordHasher hasher({8192, 1});
  auth::PasswordPolicy policy;
  auth::AccessTokens tokens({{std::string(32, 'k')}, "ikigai", "ikigai", std::chrono::seconds(900)},
                            clock, random);
  auth::AccountService accounts(db, *cfg, clock, random, hasher, policy, tokens);
  tasks::TaskService task_service(db, clock, random);
  tasks::IkigaiMapService map_service(db, clock, random);
  CursorSealer cursors({std::string(32, 'k')});
  mail::Outbox outbox(clock, random);
  notify::Notifier notifier(clock, random);
  auth::RecoveryService recovery(db, *cfg, clock, random, hasher, policy, outbox, notifier);
  users::ProfileService profile(db, *cfg, clock, random, accounts, recovery, outbox, notifier);
  users::AdminService admin(db, clock, random);
  users::MfaService mfa(db, clock, random, accounts, notifier);
  notify::NotificationService notifications(db, notifier, clock, random);
  notify::StreamHub hub(db, clock);
  feedback::FeedbackService feedback_service(db, *cfg, clock, random, notifier);
  notify::PushSubscriptionService push(db, clock, random, false);
  Services services{
      db,      accounts, task_service,  map_service, cursors,  recovery,         profile,
      admin,   mfa,      notifications, hub,         notifier, feedback_service, nullptr,
      nullptr, &push,    "key"};
  RegisterRoutes(router, server, services);

  const auto doc = nlohmann::json::parse(OpenApiDocument());
  EXPECT_EQ(doc["openapi"], "3.1.0");
  std::size_t documented = 0;
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [method, op] : ops.items()) {
      if (method == "parameters") continue;
      ++documented;
      EXPECT_EQ(router
                    .Find(std::string(method == "get"     ? "GET"
                                      : method == "post"  ? "POST"
                                      : method == "put"   ? "PUT"
                                      : method == "patch" ? "PATCH"
                                                          : "DELETE"),
                          path)
                    .kind,
                Match::Kind::kFound)
          << "documented but not served: " << method << " " << path;
    }
  }
  for (const auto& route : router.Routes()) {
    ASSERT_TRUE(doc["paths"].contains(route->path)) << "route not documented: " << route->path;
    EXPECT_TRUE(doc["paths"][route->path].contains(Lower(route->method)))
        << "method not documented: " << route->method << " " << route->path;
  }
  EXPECT_EQ(documented, router.Routes().size());
}

}  // namespace
}  // namespace ikigai::http
