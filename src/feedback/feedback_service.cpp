// Feedback rules and their transactions.
#include "feedback/feedback_service.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/ids.hpp"
#include "core/text.hpp"
#include "core/time_format.hpp"
#include "store/users.hpp"

namespace ikigai::feedback {

using core::FieldCode;
using core::FieldError;

namespace {

core::Error NotFound() { return core::Error{core::ErrorCode::kNotFound, "No such feedback.", {}, std::nullopt}; }

std::string Subject(const std::string& user_id) { return "user:" + user_id; }

// nullopt when every context key and value is acceptable.
std::optional<FieldError> CheckContext(const std::vector<std::pair<std::string, std::string>>& context) {
  if (context.size() > kMaxContextMembers) return FieldError{FieldCode::kTooMany, "must have at most 10 members"};
  for (const auto& [key, value] : context) {
    const long k = core::CountCodePoints(key);
    if (k < 1 || k > kMaxContextKey) {
      return FieldError{k < 1 ? FieldCode::kTooShort : FieldCode::kTooLong, "keys must be 1 to 64 characters"};
    }
    if (core::HasControl(key, false) || HasForbiddenControl(key)) {
      return FieldError{FieldCode::kInvalidFormat, "keys must not contain control characters"};
    }
    const long v = core::CountCodePoints(value);
    if (v < 0) return FieldError{FieldCode::kInvalidFormat, "values must be strings of at most 200 characters"};
    if (v > kMaxContextValue) return FieldError{FieldCode::kTooLong, "values must be strings of at most 200 characters"};
    if (HasForbiddenControl(value)) {
      return FieldError{FieldCode::kInvalidFormat, "values must not contain control characters other than newline and tab"};
    }
  }
  return std::nullopt;
}

}  // namespace

bool IsCategory(std::string_view s) { return std::find(kCategories.begin(), kCategories.end(), s) != kCategories.end(); }
bool IsStatus(std::string_view s) { return std::find(kStatuses.begin(), kStatuses.end(), s) != kStatuses.end(); }

bool HasForbiddenControl(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const long cp = core::NextCodePoint(text, i);
    if (cp < 0) return true;
    if (cp == '\n' || cp == '\t') continue;
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return true;
  }
  return false;
}

std::optional<FieldError> CheckText(std::string_view text) {
  const long n = core::CountCodePoints(text);
  if (n < 1) return FieldError{FieldCode::kRequired, "must be 1 to 5000 characters"};
  if (n > kMaxText) return FieldError{FieldCode::kTooLong, "must be 1 to 5000 characters"};
  if (HasForbiddenControl(text)) {
    return FieldError{FieldCode::kInvalidFormat, "must not contain control characters other than newline and tab"};
  }
  if (core::IsBlank(text)) return FieldError{FieldCode::kRequired, "must not be blank"};
  return std::nullopt;
}

std::map<std::string, FieldError> Check(const FeedbackInput& in) {
  std::map<std::string, FieldError> errors;
  if (!IsCategory(in.category)) errors["category"] = {FieldCode::kInvalidValue, "must be one of bug, idea, praise, other"};
  if (auto m = CheckText(in.message)) errors["message"] = *m;
  if (in.rating && (*in.rating < 1 || *in.rating > 5)) {
    errors["rating"] = {FieldCode::kOutOfRange, "must be an integer from 1 to 5, or null"};
  }
  if (auto m = CheckContext(in.context)) errors["context"] = *m;
  return errors;
}

core::Result<long long> FeedbackService::Reserve(const std::string& user_id) {
  return limiter_.Consume(db_, std::string(kLimitBucket), Subject(user_id));
}

void FeedbackService::Release(long long reservation) {
  (void)db_.Run([&](store::Connection& c) -> core::Result<void> {
    auth::RateLimiter::Undo(c, reservation);
    return {};
  });
}

core::Result<store::FeedbackRow> FeedbackService::Create(const std::string& user_id, const FeedbackInput& in,
                                                         long long reservation, const core::RequestMeta& meta) {
  auto errors = Check(in);
  if (!errors.empty()) {
    Release(reservation);
    return core::Fail(core::Error{core::ErrorCode::kValidation, {}, std::move(errors), std::nullopt});
  }
  store::FeedbackRow row;
  row.id = core::NewId(clock_, random_);
  row.user_id = user_id;
  row.category = in.category;
  row.message = in.message;
  if (in.rating) row.rating = static_cast<int>(*in.rating);
  nlohmann::json context = nlohmann::json::object();
  for (const auto& [k, v] : in.context) context[k] = v;
  row.context = context.dump();
  row.created_at = row.updated_at = core::ToMillis(clock_.Now());
  auto created = db_.Transaction([&](store::Connection& c) -> core::Result<store::FeedbackRow> {
    store::FeedbackStore::Insert(c, row);
    // The category and rating only: the message is the user's own words and stays out of the log.
    recorder_.Record(c, meta, {.actor_id = user_id, .action = "feedback.created", .target_type = "feedback",
                               .target_id = row.id,
                               .data = {{"category", row.category},
                                        {"rating", row.rating ? nlohmann::json(*row.rating) : nlohmann::json()}}});
    return row;
  });
  if (!created) Release(reservation);
  return created;
}

core::Result<store::FeedbackRow> FeedbackService::GetOwn(const std::string& user_id, const std::string& id) {
  return db_.Run([&](store::Connection& c) -> core::Result<store::FeedbackRow> {
    auto row = store::FeedbackStore::Get(c, id);
    if (!row || row->user_id != user_id) return core::Fail(NotFound());
    return std::move(*row);
  });
}

core::Result<std::vector<store::FeedbackRow>> FeedbackService::List(const store::FeedbackQuery& query) {
  return db_.Run([&](store::Connection& c) -> core::Result<std::vector<store::FeedbackRow>> {
    return store::FeedbackStore::List(c, query);
  });
}

core::Result<store::FeedbackRow> FeedbackService::Update(const std::string& admin_id, const std::string& id,
                                                         const FeedbackChanges& in, const core::RequestMeta& meta) {
  core::Error invalid{core::ErrorCode::kValidation, {}, {}, std::nullopt};
  if (in.status && !IsStatus(*in.status)) invalid.fields["status"] = {FieldCode::kInvalidValue, "must be one of new, triaged, planned, done, dismissed"};
  if (in.reply && *in.reply) {
    if (auto m = CheckText(**in.reply)) invalid.fields["reply"] = *m;
  }
  if (!invalid.fields.empty()) return core::Fail(std::move(invalid));
  bool notified = false;
  auto updated = db_.Transaction([&](store::Connection& c) -> core::Result<store::FeedbackRow> {
    notified = false;
    auto row = store::FeedbackStore::Get(c, id, true);
    if (!row) return core::Fail(NotFound());
    nlohmann::json fields = nlohmann::json::array();
    if (in.status && *in.status != row->status) {
      row->status = *in.status;
      fields.push_back("status");
    }
    bool new_reply = false;
    if (in.reply && *in.reply != row->reply) {
      row->reply = *in.reply;
      fields.push_back("reply");
      new_reply = row->reply.has_value();
    }
    if (fields.empty()) return *row;  // nothing changed: updated_at kept, no event, no notice
    row->updated_at = core::ToMillis(clock_.Now());
    store::FeedbackStore::Update(c, *row);
    if (new_reply) {
      auto author = store::UserStore::FindById(c, row->user_id);
      if (author) {
        notify::Notice notice;
        notice.kind = notify::Kind::kFeedbackReply;
        notice.title = "Reply to your feedback";
        notice.body = *row->reply;
        notice.data = {{"feedback_id", row->id}};
        notice.link = public_url_ + "/feedback/" + row->id;
        (void)notifier_.Notify(c, notify::Recipient::Of(*author), notice);
        notified = true;
      }
    }
    // The field names only: the reply is an admin's words to the author, not a log entry.
    recorder_.Record(c, meta, {.actor_id = admin_id, .action = "feedback.updated", .target_type = "feedback",
                               .target_id = row->id, .data = {{"fields", fields}}});
    return *row;
  });
  if (updated && notified) notifier_.AfterCommit();
  return updated;
}

core::Result<FeedbackStats> FeedbackService::Stats() {
  auto counts = db_.Run([&](store::Connection& c) -> core::Result<store::FeedbackCounts> {
    return store::FeedbackStore::Counts(c);
  });
  if (!counts) return core::Fail(counts.error());
  FeedbackStats out;
  for (auto s : kStatuses) {
    const std::string name(s);
    const auto it = counts->by_status.find(name);
    out.by_status[name] = it == counts->by_status.end() ? 0 : it->second;
    out.total += out.by_status[name];
  }
  for (auto k : kCategories) {
    const std::string name(k);
    const auto it = counts->by_category.find(name);
    out.by_category[name] = it == counts->by_category.end() ? 0 : it->second;
  }
  if (counts->rated > 0) {
    out.average_rating =
        std::round(static_cast<double>(counts->rating_sum) * 100.0 / static_cast<double>(counts->rated)) / 100.0;
  }
  return out;
}

}  // namespace ikigai::feedback
