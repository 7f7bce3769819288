// Handlers of API.md's Activity log (the caller's events, every event for admins) and Your data
// (the export of everything the service holds about the caller, streamed).
#pragma once

#include <string>

#include "http/cursor.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "store/activity.hpp"
#include "store/database.hpp"

namespace ikigai::http {

// Appends one event as API.md's JSON object (`data` is the stored object, written as is).
void AppendActivity(std::string& out, const store::ActivityRow& row);

void RegisterActivityRoutes(Router& router, Server& server, store::Database& db, const CursorSealer& cursors);

}  // namespace ikigai::http
