// API.md's Feedback: users send feedback (limited to feedback_user per hour, counted in the
// database), read their own; admins list it with filters, set its status, reply (which notifies
// the author through the Notifier in the same transaction) and read counts made by the database.
// Every change records its activity event in its own transaction.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "activity/recorder.hpp"
#include "auth/rate_limiter.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/random.hpp"
#include "core/request_meta.hpp"
#include "notify/notifier.hpp"
#include "store/database.hpp"
#include "store/feedback.hpp"

namespace ikigai::feedback {

inline constexpr long kMaxText = 5000;           // message and reply, in code points
inline constexpr std::size_t kMaxContextMembers = 10;
inline constexpr long kMaxContextKey = 64;
inline constexpr long kMaxContextValue = 200;
inline constexpr std::string_view kLimitBucket = "feedback_user";

inline constexpr std::array<std::string_view, 4> kCategories = {"bug", "idea", "praise", "other"};
inline constexpr std::array<std::string_view, 5> kStatuses = {"new", "triaged", "planned", "done", "dismissed"};

[[nodiscard]] bool IsCategory(std::string_view s);
[[nodiscard]] bool IsStatus(std::string_view s);

// nullopt when `text` is a valid message or reply (1..5000 code points, not blank, no control
// character but newline and tab); otherwise why not.
[[nodiscard]] std::optional<core::FieldError> CheckText(std::string_view text);
// True when the text holds a control character (C0, DEL, C1) other than \n and \t, or is not
// valid UTF-8.
[[nodiscard]] bool HasForbiddenControl(std::string_view text);

// The body of POST /feedback, already type-checked (rating an integer, context an object whose
// values are strings); the rules are the service's.
struct FeedbackInput {
  std::string category{};
  std::string message{};
  std::optional<long long> rating{};
  std::vector<std::pair<std::string, std::string>> context{};
};

// PATCH /admin/feedback/{id}; reply: an engaged outer optional is "present", nullopt inside is
// null (clears the reply).
struct FeedbackChanges {
  std::optional<std::string> status{};
  std::optional<std::optional<std::string>> reply{};
};

struct FeedbackStats {
  long long total = 0;
  std::map<std::string, long long> by_status;    // every status, 0 when none
  std::map<std::string, long long> by_category;  // every category, 0 when none
  std::optional<double> average_rating;          // over rated items, to 2 decimals
};

// Field errors of an input (empty map: valid).
[[nodiscard]] std::map<std::string, core::FieldError> Check(const FeedbackInput& input);

class FeedbackService {
 public:
  FeedbackService(store::Database& db, const config::Config& config, const core::Clock& clock, core::Random& random,
                  const notify::Notifier& notifier)
      : db_(db),
        public_url_(config.public_url),
        clock_(clock),
        random_(random),
        limiter_(config, clock),
        recorder_(clock, random),
        notifier_(notifier) {}

  // Counts one item against the author's feedback_user limit before the body is validated
  // (API.md's order: rate limit, then validation); 429 with Retry-After beyond it. Returns the
  // reservation, which Create keeps on success and Release gives back.
  [[nodiscard]] core::Result<long long> Reserve(const std::string& user_id);
  void Release(long long reservation);
  // 422 for field rules. Gives the reservation back on any failure: only items that exist count.
  [[nodiscard]] core::Result<store::FeedbackRow> Create(const std::string& user_id, const FeedbackInput& input,
                                                        long long reservation, const core::RequestMeta& meta);
  // The author's own item; 404 for an unknown id or someone else's.
  [[nodiscard]] core::Result<store::FeedbackRow> GetOwn(const std::string& user_id, const std::string& id);
  [[nodiscard]] core::Result<std::vector<store::FeedbackRow>> List(const store::FeedbackQuery& query);
  // 422 before 404. A new or changed (non-null) reply notifies the author in the same transaction.
  [[nodiscard]] core::Result<store::FeedbackRow> Update(const std::string& admin_id, const std::string& id,
                                                        const FeedbackChanges& changes, const core::RequestMeta& meta);
  [[nodiscard]] core::Result<FeedbackStats> Stats();

 private:
  store::Database& db_;
  std::string public_url_;
  const core::Clock& clock_;
  core::Random& random_;
  auth::RateLimiter limiter_;
  activity::Recorder recorder_;
  const notify::Notifier& notifier_;
};

}  // namespace ikigai::feedback
