// Recovery and verification rules.
#include "auth/recovery_service.hpp"

#include <spdlog/spdlog.h>

#include "core/ids.hpp"
#include "core/time_format.hpp"
#include "mail/templates.hpp"
#include "store/one_time_tokens.hpp"
#include "store/sessions.hpp"
#include "store/users.hpp"

namespace ikigai::auth {
namespace {

constexpr std::chrono::minutes kResetTtl{30};
constexpr std::chrono::hours kVerifyTtl{24};

core::Error InvalidToken() {
  return core::Error{core::ErrorCode::kInvalidToken, "The link is invalid, expired or already used.", {}, std::nullopt};
}

// Tokens we issue are 43 characters of base64url; anything else cannot be one.
bool LooksLikeToken(const std::string& t) {
  if (t.size() != 43) return false;
  return std::all_of(t.begin(), t.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

}  // namespace

RecoveryService::RecoveryService(store::Database& db, const config::Config& config, const core::Clock& clock,
                                 core::Random& random, const PasswordHasher& hasher, const PasswordPolicy& policy,
                                 const mail::Outbox& outbox, const notify::Notifier& notifier)
    : db_(db),
      config_(config),
      clock_(clock),
      random_(random),
      hasher_(hasher),
      policy_(policy),
      outbox_(outbox),
      notifier_(notifier),
      limiter_(config, clock),
      recorder_(clock, random) {}

std::string RecoveryService::NewToken(store::Connection& c, const std::string& user_id, const std::string& purpose,
                                      std::chrono::seconds ttl, const std::optional<std::string>& data) {
  const long long now = core::ToMillis(clock_.Now());
  store::OneTimeTokenStore::VoidAll(c, user_id, purpose, now);
  const std::string token = core::RandomToken(random_, 32);
  store::OneTimeTokenRow row;
  row.id = core::NewId(clock_, random_);
  row.user_id = user_id;
  row.purpose = purpose;
  row.token_hash = HashToken(token);
  row.data = data;
  row.created_at = now;
  row.expires_at = now + ttl.count() * 1000;
  store::OneTimeTokenStore::Insert(c, row);
  return token;
}

void RecoveryService::QueueVerification(store::Connection& c, const store::UserRow& user, const std::string& address) {
  const std::string token = NewToken(c, user.id, "verify", kVerifyTtl, address);
  // The address is unproved by definition: nothing the user typed goes into this mail.
  outbox_.Enqueue(c, user.id, "verify_email", address,
                  {{"email", address}, {"link", config_.public_url + "/verify-email?token=" + token}});
}

void RecoveryService::OnRegistered(store::Connection& c, const store::UserRow& user, const core::RequestMeta&) {
  QueueVerification(c, user, user.email);
}

core::Result<void> RecoveryService::Forgot(const std::string& email, const core::RequestMeta& meta) {
  const std::string subject = store::LowerAscii(email);
  // Counted in its own statements first, so concurrent requests see each other's events. Over the
  // limit: the same 202, and nothing is sent.
  auto allowed = limiter_.Consume(db_, "forgot_account", subject);
  if (!allowed) {
    if (allowed.error().code == core::ErrorCode::kRateLimited) return {};
    return core::Fail(allowed.error());
  }
  // Whether the account exists is only learnt after the answer: a known address used to answer
  // in 3.25 ms and an unknown one in 1.76 ms (token, mail rendering, three more writes and a
  // commit), which told anyone which addresses have accounts.
  auto later = [this, email, meta] { QueueReset(email, meta); };
  if (!run_later_ || !run_later_(later)) later();
  return {};
}

void RecoveryService::QueueReset(const std::string& email, const core::RequestMeta& meta) {
  const std::string subject = store::LowerAscii(email);
  bool queued = false;
  auto done = db_.Transaction([&](store::Connection& c) -> core::Result<void> {
    queued = false;
    auto user = store::UserStore::FindByLogin(c, email);
    if (!user || store::LowerAscii(user->email) != subject || user->disabled) return {};
    const std::string token = NewToken(c, user->id, "reset", kResetTtl, std::nullopt);
    std::map<std::string, std::string> values = {{"link", config_.public_url + "/reset-password?token=" + token}};
    mail::SetIfProved(values, user->email_verified, "display_name", user->display_name);
    outbox_.Enqueue(c, user->id, "reset_password", user->email, values);
    recorder_.Record(c, meta, {.actor_id = user->id, .action = "auth.password_reset_requested",
                               .target_type = "user", .target_id = user->id});
    queued = true;
    return {};
  });
  if (!done) {
    // The client has its 202 already; the address's event stays counted, so a retry is limited
    // like any other request.
    spdlog::warn("request {}: the password reset mail could not be queued: {}", meta.request_id,
                 done.error().detail.empty() ? "database error" : done.error().detail);
    return;
  }
  if (queued) outbox_.Wake();
}

core::Result<void> RecoveryService::Reset(const std::string& token, const std::string& password,
                                          const core::RequestMeta& meta) {
  if (!LooksLikeToken(token)) return core::Fail(InvalidToken());
  const std::string hash = HashToken(token);
  // First look: is the token good, and is the password acceptable for this user?
  auto user = db_.Run([&](store::Connection& c) -> core::Result<store::UserRow> {
    auto t = store::OneTimeTokenStore::FindForUpdate(c, hash);
    const long long now = core::ToMillis(clock_.Now());
    if (!t || t->purpose != "reset" || t->used_at || t->expires_at <= now) return core::Fail(InvalidToken());
    auto u = store::UserStore::FindById(c, t->user_id);
    if (!u) return core::Fail(InvalidToken());
    return *u;
  });
  if (!user) return core::Fail(user.error());
  if (auto ok = policy_.Check(password, user->username, user->email); !ok) return ok;
  const std::string new_hash = hasher_.Hash(password);
  auto done = db_.Transaction([&](store::Connection& c) -> core::Result<void> {
    const long long now = core::ToMillis(clock_.Now());
    auto t = store::OneTimeTokenStore::FindForUpdate(c, hash);
    if (!t || t->purpose != "reset" || t->used_at || t->expires_at <= now || !store::OneTimeTokenStore::Use(c, t->id, now)) {
      return core::Fail(InvalidToken());
    }
    store::UserStore::UpdatePasswordHash(c, user->id, new_hash, now);
    store::UserStore::ClearPendingEmail(c, user->id, now);
    // The reset link reached this address: that proves it as well as a verification link does.
    if (!user->email_verified) store::UserStore::SetEmailVerified(c, user->id, now);
    const long long revoked = store::SessionStore::RevokeAll(c, user->id, now);
    // Proved before this request, not by its link: the name was typed before anyone proved it.
    std::map<std::string, std::string> values = {{"when", core::FormatRfc3339(clock_.Now())},
                                                 {"reset_link", config_.public_url + "/forgot-password"}};
    mail::SetIfProved(values, user->email_verified, "display_name", user->display_name);
    (void)notifier_.Notify(c, notify::Recipient::Of(*user),
                           notify::SecurityMail("Your password was changed",
                                                "The password of your account was reset on " +
                                                    core::FormatRfc3339(core::FromMillis(now)) +
                                                    " with a link sent to your email address, and every session "
                                                    "was signed out. If this was not you, reset it again at once.",
                                                {{"event", "password_reset"}}, "password_changed", std::move(values)));
    recorder_.Record(c, meta, {.actor_id = user->id, .action = "auth.password_reset", .target_type = "user",
                               .target_id = user->id, .data = {{"sessions_revoked", revoked}}});
    return {};
  });
  if (done) notifier_.AfterCommit();
  return done;
}

core::Result<void> RecoveryService::Verify(const std::string& token, const core::RequestMeta& meta) {
  if (!LooksLikeToken(token)) return core::Fail(InvalidToken());
  const std::string hash = HashToken(token);
  return db_.Transaction([&](store::Connection& c) -> core::Result<void> {
    const long long now = core::ToMillis(clock_.Now());
    auto t = store::OneTimeTokenStore::FindForUpdate(c, hash);
    if (!t || t->purpose != "verify" || t->used_at || t->expires_at <= now || !t->data) {
      return core::Fail(InvalidToken());
    }
    auto user = store::UserStore::FindById(c, t->user_id);
    if (!user) return core::Fail(InvalidToken());
    const std::string& address = *t->data;
    const bool change = store::LowerAscii(address) != store::LowerAscii(user->email);
    // A change is only what the account still asks for: a password reset or change cancels a
    // pending address (the owner's answer to the "email changed" notice), and a newer request
    // replaces it, so an older link for another address is dead.
    if (change && (!user->pending_email || store::LowerAscii(*user->pending_email) != store::LowerAscii(address))) {
      return core::Fail(InvalidToken());
    }
    if (change) {
      // A pending change of address: it becomes the account's address now, unless taken meanwhile.
      auto changed = store::UserStore::ChangeEmail(c, user->id, address, now);
      if (!changed) return changed;
    } else {
      store::UserStore::SetEmailVerified(c, user->id, now);
    }
    if (!store::OneTimeTokenStore::Use(c, t->id, now)) return core::Fail(InvalidToken());
    activity::Event event{.actor_id = user->id, .action = "auth.email_verified", .target_type = "user",
                          .target_id = user->id};
    if (change) {
      event.action = "user.email_changed";
      event.data = {{"fields", {"email"}}};
    }
    recorder_.Record(c, meta, event);
    return {};
  });
}

core::Result<void> RecoveryService::Resend(const AuthContext& who, const core::RequestMeta& meta) {
  (void)meta;
  const std::string address = who.user.pending_email.value_or(who.user.email);
  if (who.user.email_verified && !who.user.pending_email) return {};
  // Each resend mails an address the account has not proved, so it is limited per account
  // (verify_account): counted only when a mail goes out, and taken back if it could not be queued.
  auto reserved = limiter_.Consume(db_, "verify_account", "user:" + who.user.id);
  if (!reserved) return core::Fail(reserved.error());
  auto done = db_.Transaction([&](store::Connection& c) -> core::Result<void> {
    QueueVerification(c, who.user, address);
    return {};
  });
  if (done) {
    outbox_.Wake();
  } else {
    (void)db_.Run([&](store::Connection& c) -> core::Result<void> {
      RateLimiter::Undo(c, *reserved);
      return {};
    });
  }
  return done;
}

}  // namespace ikigai::auth
