// The operations endpoints: /healthz, /readyz, /metrics and the OpenAPI document.
#pragma once

#include <string_view>

#include "http/router.hpp"
#include "http/server.hpp"
#include "http/routes.hpp"

namespace ikigai::http {

// The OpenAPI 3.1 document of the whole API (src/http/openapi.json, compiled in).
[[nodiscard]] std::string_view OpenApiDocument();

void RegisterOperationRoutes(Router& router, Server& server, const Services& services);

}  // namespace ikigai::http
