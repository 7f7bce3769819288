// API.md's Web Push subsection: the VAPID public key and the caller's push subscriptions.
#pragma once

#include <string>

#include "http/cursor.hpp"
#include "http/router.hpp"
#include "notify/push_subscriptions.hpp"

namespace ikigai::http {

struct PushRoutes {
  notify::PushSubscriptionService& subscriptions;
  const CursorSealer& cursors;
  std::string public_key;  // base64url of the 65-byte VAPID public point
};

void RegisterPushRoutes(Router& router, const PushRoutes& deps);

}  // namespace ikigai::http
