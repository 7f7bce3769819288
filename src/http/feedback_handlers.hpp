// Handlers of API.md's Feedback section.
#pragma once

#include "feedback/feedback_service.hpp"
#include "http/cursor.hpp"
#include "http/router.hpp"

namespace ikigai::http {

void RegisterFeedbackRoutes(Router& router, feedback::FeedbackService& feedback, const CursorSealer& cursors);

}  // namespace ikigai::http
