// The data export. The document is produced section by section by a Download producer: the head
// (user, map, preferences, sessions) at once, then tasks, notifications, feedback and activity
// in keyset pages of 1,000 rows, each page its own short read. A chunk is cut at about 64 KiB,
// so memory holds one page and one chunk whatever the user owns. The pages are not one snapshot:
// a task created during the export may or may not be in it.
#include "http/export_handlers.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include "auth/rate_limiter.hpp"
#include "core/time_format.hpp"
#include "http/activity_handlers.hpp"
#include "http/encode.hpp"
#include "http/notification_handlers.hpp"
#include "http/task_handlers.hpp"
#include "notify/stream_hub.hpp"
#include "store/activity.hpp"
#include "store/ikigai_maps.hpp"
#include "store/notifications.hpp"
#include "store/push.hpp"
#include "store/sessions.hpp"
#include "store/tasks.hpp"
#include "store/users.hpp"

namespace ikigai::http {
namespace {

constexpr std::size_t kChunkBytes = 64 * 1024;
constexpr int kPageRows = 1000;

// A value the database cannot read now ends the export (the transport cuts the transfer).
template <class T>
T Must(core::Result<T> r) {
  if (!r) throw std::runtime_error("export: database unavailable");
  return std::move(*r);
}

// Whether the feedback table exists: the feedback capability's migration (0004) may not be in
// this schema yet; until it is, the section is an empty array.
bool HasFeedbackTable(store::Connection& c) {
  long long n = 0;
  if (c.GetDialect() == store::Dialect::kSqlite) {
    c.Sql() << "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'feedback'", soci::into(n);
  } else {
    c.Sql() << "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND "
               "table_name = 'feedback'",
        soci::into(n);
  }
  return n > 0;
}

class ExportProducer {
 public:
  ExportProducer(store::Database& db, std::string user_id, std::string session_id, long long now)
      : db_(db), user_id_(std::move(user_id)), session_id_(std::move(session_id)), now_(now) {}

  std::optional<std::string> Next() {
    while (pending_.size() - offset_ < kChunkBytes && phase_ != Phase::kDone) Fill();
    if (offset_ >= pending_.size()) return std::nullopt;
    const std::size_t n = std::min(kChunkBytes, pending_.size() - offset_);
    std::string chunk = pending_.substr(offset_, n);
    offset_ += n;
    if (offset_ == pending_.size()) {
      pending_.clear();
      offset_ = 0;
    } else if (offset_ >= kChunkBytes) {
      pending_.erase(0, offset_);
      offset_ = 0;
    }
    return chunk;
  }

 private:
  enum class Phase { kHead, kTasks, kNotifications, kFeedback, kActivity, kDone };

  // Appends the next piece of the document and advances the phase when a section is complete.
  void Fill() {
    switch (phase_) {
      case Phase::kHead:
        Head();
        pending_ += ",\"tasks\":[";
        phase_ = Phase::kTasks;
        break;
      case Phase::kTasks:
        if (!Tasks()) {
          pending_ += "],\"notifications\":[";
          phase_ = Phase::kNotifications;
        }
        break;
      case Phase::kNotifications:
        if (!Notifications()) {
          pending_ += "],\"feedback\":[";
          phase_ = Phase::kFeedback;
        }
        break;
      case Phase::kFeedback:
        if (!Feedback()) {
          pending_ += "],\"activity\":[";
          phase_ = Phase::kActivity;
        }
        break;
      case Phase::kActivity:
        if (!Activity()) {
          pending_ += "]}";
          phase_ = Phase::kDone;
        }
        break;
      case Phase::kDone:
        break;
    }
  }

  void Separate() {
    if (!first_) pending_ += ',';
    first_ = false;
  }

  void Head() {
    struct HeadRows {
      std::optional<store::UserRow> user;
      std::optional<store::IkigaiMapRow> map;
      store::NotificationPrefsRow prefs;
      std::vector<store::SessionRow> sessions;
      std::vector<store::PushSubscriptionRow> push;
      bool feedback = false;
    };
    auto rows = Must(db_.Run([&](store::Connection& c) -> core::Result<HeadRows> {
      HeadRows h;
      h.user = store::UserStore::FindById(c, user_id_);
      h.map = store::IkigaiMapStore::Get(c, user_id_, false);
      h.prefs = store::NotificationStore::Prefs(c, user_id_);
      h.sessions = store::SessionStore::ListLive(c, user_id_, now_);
      h.push = store::PushStore::ForUserByRegistration(c, user_id_);
      h.feedback = HasFeedbackTable(c);
      return h;
    }));
    if (!rows.user) throw std::runtime_error("export: the account is gone");
    has_feedback_ = rows.feedback;
    pending_ += "{\"exported_at\":";
    AppendJsonTimestamp(pending_, now_);
    // EncodeUser, EncodeSession and the map never carry a hash or a token.
    pending_ += ",\"user\":" + EncodeUser(*rows.user).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    pending_ += ",\"ikigai_map\":";
    const store::IkigaiMapRow map = rows.map.value_or(store::IkigaiMapRow{});
    pending_ += "{\"love\":" + map.love + ",\"good_at\":" + map.good_at + ",\"world_needs\":" + map.world_needs +
                ",\"paid_for\":" + map.paid_for + ",\"statement\":";
    AppendJsonString(pending_, map.statement);
    pending_ += ",\"updated_at\":";
    if (rows.map) {
      AppendJsonTimestamp(pending_, map.updated_at);
    } else {
      pending_ += "null";
    }
    pending_ += ",\"version\":" + std::to_string(map.version) + '}';
    pending_ += ",\"notification_preferences\":" + PreferencesJson(rows.prefs);
    // Endpoints and dates only: the keys are the browser's secrets and stay out of the file.
    pending_ += ",\"push_subscriptions\":[";
    for (std::size_t i = 0; i < rows.push.size(); ++i) {
      const auto& s = rows.push[i];
      if (i > 0) pending_ += ',';
      pending_ += "{\"endpoint\":";
      AppendJsonString(pending_, s.endpoint);
      pending_ += ",\"created_at\":";
      AppendJsonTimestamp(pending_, s.created_at);
      pending_ += ",\"last_success_at\":";
      if (s.last_success_at) {
        AppendJsonTimestamp(pending_, *s.last_success_at);
      } else {
        pending_ += "null";
      }
      pending_ += '}';
    }
    pending_ += ']';
    pending_ += ",\"sessions\":[";
    for (std::size_t i = 0; i < rows.sessions.size(); ++i) {
      if (i > 0) pending_ += ',';
      pending_ += EncodeSession(rows.sessions[i], rows.sessions[i].id == session_id_)
                      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    pending_ += ']';
  }

  // Each section reader appends one page; false once the section has no more rows (after which
  // `first_` is reset for the next section).
  bool Tasks() {
    store::TaskQuery q;
    q.user_id = user_id_;
    q.sort = store::TaskSort::kCreatedAsc;
    q.limit = kPageRows;
    q.after = task_after_;
    auto rows = Must(db_.Run(
        [&](store::Connection& c) -> core::Result<std::vector<store::TaskRow>> { return store::TaskStore::List(c, q); }));
    const bool more = rows.size() > static_cast<std::size_t>(kPageRows);
    if (more) rows.resize(kPageRows);
    for (const auto& t : rows) {
      Separate();
      AppendTask(pending_, t);
    }
    if (!rows.empty()) task_after_ = store::TaskKey{rows.back().due_at, rows.back().priority, rows.back().created_at,
                                                    rows.back().id};
    return EndOfPage(more);
  }

  bool Notifications() {
    store::NotificationQuery q;
    q.user_id = user_id_;
    q.limit = kPageRows;
    q.before_id = notification_before_;
    auto rows = Must(db_.Run([&](store::Connection& c) -> core::Result<std::vector<store::NotificationRow>> {
      return store::NotificationStore::List(c, q);
    }));
    const bool more = rows.size() > static_cast<std::size_t>(kPageRows);
    if (more) rows.resize(kPageRows);
    for (const auto& n : rows) {
      Separate();
      pending_ += notify::NotificationJson(n);
    }
    if (!rows.empty()) notification_before_ = rows.back().id;
    return EndOfPage(more);
  }

  // Read with its own statement against the columns of migration 0004_feedback.
  bool Feedback() {
    if (!has_feedback_) return EndOfPage(false);
    struct Item {
      std::string id, category, message, context, status, reply;
      int rating = 0;
      soci::indicator rating_ind = soci::i_null, reply_ind = soci::i_null;
      long long created_at = 0, updated_at = 0;
    };
    auto rows = Must(db_.Run([&](store::Connection& c) -> core::Result<std::vector<Item>> {
      Item it;
      std::vector<Item> out;
      const int limit = kPageRows + 1;
      soci::statement st = (c.Sql().prepare << "SELECT id, category, message, rating, context, status, reply, "
                                               "created_at, updated_at FROM feedback WHERE user_id = :u AND id > :a "
                                               "ORDER BY id LIMIT :n",
                            soci::use(user_id_), soci::use(feedback_after_), soci::use(limit),
                            soci::into(it.id), soci::into(it.category), soci::into(it.message),
                            soci::into(it.rating, it.rating_ind), soci::into(it.context), soci::into(it.status),
                            soci::into(it.reply, it.reply_ind), soci::into(it.created_at), soci::into(it.updated_at));
      st.execute();
      while (st.fetch()) out.push_back(it);
      return out;
    }));
    const bool more = rows.size() > static_cast<std::size_t>(kPageRows);
    if (more) rows.resize(kPageRows);
    for (const auto& f : rows) {
      Separate();
      pending_ += "{\"id\":";
      AppendJsonString(pending_, f.id);
      pending_ += ",\"user_id\":";
      AppendJsonString(pending_, user_id_);
      pending_ += ",\"category\":";
      AppendJsonString(pending_, f.category);
      pending_ += ",\"message\":";
      AppendJsonString(pending_, f.message);
      pending_ += ",\"rating\":" + (f.rating_ind == soci::i_ok ? std::to_string(f.rating) : std::string("null"));
      auto context = nlohmann::json::parse(f.context, nullptr, false);
      pending_ += ",\"context\":" + (context.is_object() ? context.dump(-1, ' ', false,
                                                                        nlohmann::json::error_handler_t::replace)
                                                         : std::string("{}"));
      pending_ += ",\"status\":";
      AppendJsonString(pending_, f.status);
      pending_ += ",\"reply\":";
      if (f.reply_ind == soci::i_ok) {
        AppendJsonString(pending_, f.reply);
      } else {
        pending_ += "null";
      }
      pending_ += ",\"created_at\":";
      AppendJsonTimestamp(pending_, f.created_at);
      pending_ += ",\"updated_at\":";
      AppendJsonTimestamp(pending_, f.updated_at);
      pending_ += '}';
    }
    if (!rows.empty()) feedback_after_ = rows.back().id;
    return EndOfPage(more);
  }

  bool Activity() {
    store::ActivityQuery q;
    q.user_id = user_id_;
    q.limit = kPageRows + 1;
    q.after = activity_after_;
    auto rows = Must(db_.Run([&](store::Connection& c) -> core::Result<std::vector<store::ActivityRow>> {
      return store::ActivityStore::List(c, q);
    }));
    const bool more = rows.size() > static_cast<std::size_t>(kPageRows);
    if (more) rows.resize(kPageRows);
    for (const auto& e : rows) {
      Separate();
      AppendActivity(pending_, e);
    }
    if (!rows.empty()) activity_after_ = store::ActivityQuery::Key{rows.back().at, rows.back().id};
    return EndOfPage(more);
  }

  bool EndOfPage(bool more) {
    if (!more) first_ = true;
    return more;
  }

  store::Database& db_;
  std::string user_id_;
  std::string session_id_;
  long long now_;
  Phase phase_ = Phase::kHead;
  std::string pending_;
  std::size_t offset_ = 0;
  bool first_ = true;
  bool has_feedback_ = false;
  std::optional<store::TaskKey> task_after_;
  std::optional<std::string> notification_before_;
  std::string feedback_after_;
  std::optional<store::ActivityQuery::Key> activity_after_;
};

// Usernames are [A-Za-z0-9._-] already; anything else would not belong in a header.
std::string FileNamePart(const std::string& s) {
  std::string out;
  for (char ch : s) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                    ch == '_' || ch == '-';
    out += ok ? ch : '_';
  }
  return out;
}

}  // namespace

void RegisterExportRoutes(Router& router, Server& server, store::Database& db) {
  auto limiter = std::make_shared<auth::RateLimiter>(server.Config(), server.Clock());
  const core::Clock& clock = server.Clock();
  router.Add({.method = "GET", .path = "/api/v1/me/export", .access = Access::kUser,
              .handler = [&db, &clock, limiter](Request& r) {
                const std::string& user_id = r.auth->user.id;
                // HEAD gets the header only (the transport never runs a HEAD's download): it reads
                // nothing, so it does not count against the limit.
                if (r.method != "HEAD") {
                  auto allowed = limiter->Consume(db, "export_user", "user:" + user_id);
                  if (!allowed) return ErrorReply(allowed.error(), r);
                }
                const long long now = core::ToMillis(clock.Now());
                auto producer = std::make_shared<ExportProducer>(db, user_id, r.auth->session_id, now);
                Reply reply;
                reply.status = 200;
                reply.content_type = "application/json";
                reply.download = std::make_shared<Download>(Download{[producer] { return producer->Next(); }});
                const std::string date = Timestamp(now).substr(0, 10);
                return reply.With("Content-Disposition", "attachment; filename=\"ikigai-export-" +
                                                             FileNamePart(r.auth->user.username) + "-" + date +
                                                             ".json\"");
              }});
}

}  // namespace ikigai::http
