// Decode, call the notification service or the stream hub, encode.
#include "http/notification_handlers.hpp"

#include "core/ids.hpp"
#include "http/account_handlers.hpp"
#include "http/encode.hpp"
#include "http/json_body.hpp"
#include "http/pagination.hpp"

namespace ikigai::http {

std::string PreferencesJson(const store::NotificationPrefsRow& p) {
  nlohmann::json email = nlohmann::json::object(), in_app = nlohmann::json::object(), push = nlohmann::json::object();
  for (notify::Kind k : notify::kKinds) {
    const std::string name(notify::KindName(k));
    email[name] = p.email[notify::Index(k)];
    in_app[name] = p.in_app[notify::Index(k)];
    push[name] = p.push[notify::Index(k)];
  }
  return nlohmann::json{{"email", email}, {"in_app", in_app}, {"push", push},
                        {"reminder_lead_minutes", p.reminder_lead_minutes}}
      .dump();
}

namespace {

// At most this many missed notifications are replayed when a stream resumes (the newest ones);
// the inbox list has the rest.
constexpr int kMaxReplay = 1000;

nlohmann::json Scope(const store::NotificationQuery& q) {
  return {{"u", q.user_id}, {"r", q.unread ? (*q.unread ? 1 : 0) : -1}, {"k", q.kind.value_or("")}};
}

core::Result<store::NotificationQuery> ParseListQuery(const Request& r, const CursorSealer& cursors) {
  store::NotificationQuery q;
  q.user_id = r.auth->user.id;
  auto limit = ParseLimit(r);
  if (!limit) return core::Fail(limit.error());
  q.limit = *limit;
  auto unread = ParseBoolParam(r, "unread");
  if (!unread) return core::Fail(unread.error());
  q.unread = *unread;
  if (auto kind = QueryParam(r, "kind")) {
    if (!notify::ParseKind(*kind)) {
      return core::Fail(BadQuery("kind", core::FieldCode::kInvalidValue, "must be one of task_due, security, announcement, feedback_reply"));
    }
    q.kind = *kind;
  }
  if (auto cursor = QueryParam(r, "cursor")) {
    auto payload = cursors.Open(*cursor);
    if (!payload || !payload->contains("scope") || (*payload)["scope"] != Scope(q) || !payload->contains("k") ||
        !(*payload)["k"].is_string() || !core::IsIdText((*payload)["k"].get<std::string>())) {
      return core::Fail(BadQuery("cursor", core::FieldCode::kInvalidValue, "is not a cursor of this list"));
    }
    q.before_id = (*payload)["k"].get<std::string>();
  }
  return q;
}


// Reads {"<kind>": bool, ...} of one channel into `out`; errors keyed "<channel>.<kind>".
void ReadChannel(FieldReader& f, const char* channel, std::array<std::optional<bool>, 4>& out) {
  auto raw = f.Raw(channel);
  if (!raw) return;
  if (!raw->is_object()) {
    f.AddError(channel, core::FieldCode::kInvalidType, "must be an object of kind: true|false");
    return;
  }
  for (const auto& [key, value] : raw->items()) {
    const std::string field = std::string(channel) + "." + key;
    const auto kind = notify::ParseKind(key);
    if (!kind) {
      f.AddError(field, core::FieldCode::kUnknownField, "is not a notification kind");
    } else if (!value.is_boolean()) {
      f.AddError(field, core::FieldCode::kInvalidType, "must be true or false");
    } else {
      out[notify::Index(*kind)] = value.get<bool>();
    }
  }
}

Reply StreamHandler(const NotificationRoutes& d, Request& r) {
  core::Result<auth::AuthContext> who = core::Fail(core::ErrorCode::kUnauthorized);
  if (auto ticket = QueryParam(r, "ticket")) {
    who = d.accounts.RedeemStreamTicket(*ticket);
  } else {
    who = BearerAuthenticator(d.accounts).Authenticate(r);
  }
  if (!who) return ErrorReply(who.error(), r);
  std::string after;
  auto last = r.Header("last-event-id");
  if (!last) last = QueryParam(r, "last_event_id");
  if (last) {
    if (!core::IsIdText(*last)) {
      return ErrorReply(BadQuery("last_event_id", core::FieldCode::kInvalidFormat, "must be the id of a notification"), r);
    }
    after = *last;
  }
  if (d.hub.Open() >= d.max_streams) {
    return ErrorReply({core::ErrorCode::kUnavailable, "This server holds as many streams as it can; retry shortly.",
                       {}, 5},
                      r);
  }
  if (after.empty()) after = d.hub.StartingPoint();
  Reply reply;
  reply.content_type = "text/event-stream";
  reply.body = "retry: 3000\n\n";
  std::vector<std::string> sent;
  if (last) {
    auto missed = d.notifications.Missed(who->user.id, after, kMaxReplay);
    if (!missed) return ErrorReply(missed.error(), r);
    for (const auto& row : *missed) {
      reply.body += notify::EncodeEvent(row);
      sent.push_back(row.id);
    }
    if (!missed->empty()) after = missed->back().id;
  }
  reply.stream = std::make_shared<StreamStart>();
  reply.stream->on_open = [&hub = d.hub, user = who->user.id, session = who->session_id, after,
                           sent = std::move(sent)](std::shared_ptr<EventSink> sink) mutable {
    struct Output final : notify::StreamOutput {
      explicit Output(std::shared_ptr<EventSink> s) : sink(std::move(s)) {}
      bool Send(std::string bytes) override { return sink->Send(std::move(bytes)); }
      void Close() override { sink->Close(); }
      [[nodiscard]] bool IsOpen() const override { return sink->IsOpen(); }
      std::shared_ptr<EventSink> sink;
    };
    hub.Add(std::make_shared<Output>(std::move(sink)), user, session, after, std::move(sent));
  };
  return reply;
}

}  // namespace

void RegisterNotificationRoutes(Router& router, const NotificationRoutes& deps) {
  const NotificationRoutes d = deps;
  auto& n = deps.notifications;
  router.Add({.method = "GET", .path = "/api/v1/notifications", .access = Access::kUser,
              .handler = [&n, &cursors = deps.cursors](Request& r) {
                auto q = ParseListQuery(r, cursors);
                if (!q) return ErrorReply(q.error(), r);
                auto page = n.List(*q);
                if (!page) return ErrorReply(page.error(), r);
                const bool more = static_cast<int>(page->items.size()) > q->limit;
                if (more) page->items.resize(static_cast<std::size_t>(q->limit));
                std::string body = "{\"items\":[";
                for (std::size_t i = 0; i < page->items.size(); ++i) {
                  if (i > 0) body += ',';
                  body += notify::NotificationJson(page->items[i]);
                }
                body += "],\"next_cursor\":";
                if (more) {
                  AppendJsonString(body, cursors.Seal({{"scope", Scope(*q)}, {"k", page->items.back().id}}));
                } else {
                  body += "null";
                }
                body += '}';
                return JsonTextReply(200, std::move(body)).With("X-Unread-Count", std::to_string(page->unread));
              }});
  router.Add({.method = "POST", .path = "/api/v1/notifications/{id}/read", .access = Access::kUser,
              .handler = [&n](Request& r) {
                if (auto ok = RequireNoFields(r.body); !ok) return ErrorReply(ok.error(), r);
                auto done = n.MarkRead(r.auth->user.id, r.Param("id"));
                return done ? NoContent() : ErrorReply(done.error(), r);
              }});
  router.Add({.method = "POST", .path = "/api/v1/notifications/read-all", .access = Access::kUser,
              .handler = [&n](Request& r) {
                if (auto ok = RequireNoFields(r.body); !ok) return ErrorReply(ok.error(), r);
                auto done = n.MarkAllRead(r.auth->user.id);
                return done ? NoContent() : ErrorReply(done.error(), r);
              }});
  router.Add({.method = "DELETE", .path = "/api/v1/notifications/{id}", .access = Access::kUser,
              .handler = [&n](Request& r) {
                if (auto ok = RequireNoFields(r.body); !ok) return ErrorReply(ok.error(), r);
                auto done = n.Delete(r.auth->user.id, r.Param("id"));
                return done ? NoContent() : ErrorReply(done.error(), r);
              }});
  router.Add({.method = "POST", .path = "/api/v1/notifications/stream-ticket", .access = Access::kUser,
              .handler = [&a = deps.accounts](Request& r) {
                if (auto ok = RequireNoFields(r.body); !ok) return ErrorReply(ok.error(), r);
                auto ticket = a.IssueStreamTicket(*r.auth);
                if (!ticket) return ErrorReply(ticket.error(), r);
                return JsonReply(201, {{"ticket", *ticket}, {"expires_in", 60}});
              }});
  router.Add({.method = "GET", .path = "/api/v1/notifications/stream",
              .handler = [d](Request& r) { return StreamHandler(d, r); }});
  router.Add({.method = "GET", .path = "/api/v1/me/notification-preferences", .access = Access::kUser,
              .handler = [&n](Request& r) {
                auto prefs = n.Preferences(r.auth->user.id);
                if (!prefs) return ErrorReply(prefs.error(), r);
                return JsonTextReply(200, PreferencesJson(*prefs));
              }});
  router.Add({.method = "PATCH", .path = "/api/v1/me/notification-preferences", .access = Access::kUser,
              .takes_body = true, .handler = [&n](Request& r) {
                auto body = ParseJsonObject(r.body);
                if (!body) return ErrorReply(body.error(), r);
                FieldReader f(*body);
                notify::PreferencesPatch patch;
                ReadChannel(f, "email", patch.email);
                ReadChannel(f, "in_app", patch.in_app);
                ReadChannel(f, "push", patch.push);
                if (auto lead = f.Integer("reminder_lead_minutes")) {
                  if (*lead < notify::kMinReminderLead || *lead > notify::kMaxReminderLead) {
                    f.AddError("reminder_lead_minutes", core::FieldCode::kOutOfRange, "must be an integer from 5 to 10080");
                  } else {
                    patch.reminder_lead_minutes = static_cast<int>(*lead);
                  }
                }
                if (patch.email[notify::Index(notify::Kind::kSecurity)] == false) {
                  f.AddError("email.security", core::FieldCode::kInvalidValue, "security emails cannot be switched off");
                }
                if (auto ok = f.Finish(); !ok) return ErrorReply(ok.error(), r);
                auto prefs = n.UpdatePreferences(r.auth->user.id, patch);
                if (!prefs) return ErrorReply(prefs.error(), r);
                return JsonTextReply(200, PreferencesJson(*prefs));
              }});
  router.Add({.method = "POST", .path = "/api/v1/admin/notifications", .access = Access::kAdmin, .takes_body = true,
              .handler = [&n](Request& r) {
                auto body = ParseJsonObject(r.body);
                if (!body) return ErrorReply(body.error(), r);
                FieldReader f(*body);
                notify::BroadcastInput in;
                in.title = f.String("title", true).value_or("");
                in.body = f.String("body", true).value_or("");
                in.role = f.String("role");
                if (auto ids = f.Raw("user_ids")) {
                  if (!ids->is_array()) {
                    f.AddError("user_ids", core::FieldCode::kInvalidType, "must be an array of user ids");
                  } else {
                    std::vector<std::string> list;
                    for (const auto& v : *ids) {
                      if (!v.is_string()) {
                        f.AddError("user_ids", core::FieldCode::kInvalidType, "must be an array of user ids");
                        break;
                      }
                      list.push_back(v.get<std::string>());
                    }
                    in.user_ids = std::move(list);
                  }
                }
                if (auto ok = f.Finish(); !ok) return ErrorReply(ok.error(), r);
                auto recipients = n.Broadcast(r.auth->user.id, in, r.Meta());
                if (!recipients) return ErrorReply(recipients.error(), r);
                return JsonReply(202, {{"recipients", *recipients}});
              }});
}

}  // namespace ikigai::http
