// GET /api/v1/me/export: everything the service holds about the caller as one JSON document,
// written as a download (Reply::download) so that its size costs no memory.
#pragma once

#include "http/router.hpp"
#include "http/server.hpp"
#include "store/database.hpp"

namespace ikigai::http {

void RegisterExportRoutes(Router& router, Server& server, store::Database& db);

}  // namespace ikigai::http
