// Handlers of API.md's Tasks and Ikigai map sections.
#pragma once

#include "http/cursor.hpp"
#include "http/router.hpp"
#include "tasks/ikigai_map_service.hpp"
#include "tasks/task_service.hpp"

namespace ikigai::http {

// Appends API.md's Task JSON object for `task`.
void AppendTask(std::string& out, const store::TaskRow& task);

void RegisterTaskRoutes(Router& router, tasks::TaskService& tasks, tasks::IkigaiMapService& maps,
                        const CursorSealer& cursors);

}  // namespace ikigai::http
