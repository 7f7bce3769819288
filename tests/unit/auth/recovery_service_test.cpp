// Forgot-password answers after the same work for every address (issue 11, item 6): whether the
// account exists is only looked up in the background, after the answer. On an in-memory SQLite.
#include "auth/recovery_service.hpp"

#include <functional>
#include <vector>

#include <gtest/gtest.h>
#include <soci/soci.h>
#include <sodium.h>

#include "core/random.hpp"
#include "store/migrations.hpp"
#include "store/users.hpp"
#include "support/fake_clock.hpp"

namespace ikigai::auth {
namespace {

class ForgotTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_GE(sodium_init(), 0); }

  ForgotTest() : db_(*store::ParseDatabaseUrl("sqlite::memory:"), store::DatabaseOptions{.pool_size = 1}) {
    EXPECT_TRUE(store::Migrate(db_, clock_));
    config_.rate_limits_enabled = false;  // as in `make bench`: events are still counted
    recovery_.SetBackground([this](std::function<void()> task) {
      later_.push_back(std::move(task));
      return true;
    });
    store::UserRow user;
    user.id = "0193aaaa-0000-7000-8000-000000000001";
    user.username = "alice";
    user.email = "alice@example.com";
    user.display_name = "Alice";
    user.password_hash = hasher_.Hash("Correct-Horse-Battery-9");
    EXPECT_TRUE(db_.Run([&](store::Connection& c) { return store::UserStore::Insert(c, user); }));
  }

  long long Count(const std::string& table) {
    long long n = -1;
    (void)db_.Run([&](store::Connection& c) -> core::Result<void> {
      c.Sql() << "SELECT COUNT(*) FROM " + table, soci::into(n);
      return {};
    });
    return n;
  }

  // Rows each request writes before it answers, and what it leaves for later.
  struct Written {
    long long events, tokens, mails, activity;
    std::size_t later;
  };
  Written Snapshot() {
    return {Count("login_attempts"), Count("one_time_tokens"), Count("mail_outbox"), Count("activity"), later_.size()};
  }

  support::FakeClock clock_;
  core::SodiumRandom random_;
  config::Config config_;
  store::Database db_;
  PasswordHasher hasher_{{8, 1}};
  PasswordPolicy policy_;
  mail::Outbox outbox_{clock_, random_};
  notify::Notifier notifier_{clock_, random_};
  notify::EmailChannel email_{outbox_, config_.public_url};
  RecoveryService recovery_{db_, config_, clock_, random_, hasher_, policy_, outbox_, Notifying()};

  const notify::Notifier& Notifying() {
    notifier_.AddChannel(&email_);
    return notifier_;
  }
  std::vector<std::function<void()>> later_;
};

TEST_F(ForgotTest, KnownAndUnknownAddressesDoTheSameWorkBeforeTheAnswer) {
  const core::RequestMeta meta{"127.0.0.1", "test", "req-1"};
  const auto before = Snapshot();
  ASSERT_TRUE(recovery_.Forgot("alice@example.com", meta));
  const auto known = Snapshot();
  ASSERT_TRUE(recovery_.Forgot("nobody@example.com", meta));
  const auto unknown = Snapshot();

  // Each wrote its forgot_account event and queued one task; neither wrote a token, mail or event.
  EXPECT_EQ(known.events - before.events, 1);
  EXPECT_EQ(unknown.events - known.events, 1);
  EXPECT_EQ(known.later - before.later, 1u);
  EXPECT_EQ(unknown.later - known.later, 1u);
  for (const auto* s : {&known, &unknown}) {
    EXPECT_EQ(s->tokens, before.tokens);
    EXPECT_EQ(s->mails, before.mails);
    EXPECT_EQ(s->activity, before.activity);
  }

  // Afterwards the known address gets its link, the unknown one nothing.
  later_[0]();
  EXPECT_EQ(Count("one_time_tokens"), before.tokens + 1);
  EXPECT_EQ(Count("mail_outbox"), before.mails + 1);
  later_[1]();
  EXPECT_EQ(Count("one_time_tokens"), before.tokens + 1);
  EXPECT_EQ(Count("mail_outbox"), before.mails + 1);
}

TEST_F(ForgotTest, WithoutABackgroundTheMailIsQueuedAtOnce) {
  recovery_.SetBackground({});
  ASSERT_TRUE(recovery_.Forgot("ALICE@example.com", {"127.0.0.1", "test", "req-2"}));
  EXPECT_EQ(Count("mail_outbox"), 1);
}

TEST_F(ForgotTest, AFullBackgroundQueueRunsTheWorkAtOnce) {
  recovery_.SetBackground([](std::function<void()>) { return false; });
  ASSERT_TRUE(recovery_.Forgot("alice@example.com", {"127.0.0.1", "test", "req-3"}));
  EXPECT_EQ(Count("mail_outbox"), 1);
}

}  // namespace
}  // namespace ikigai::auth
