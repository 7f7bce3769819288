// Liveness, readiness (database reachable and migrated), metrics and the API description.
#include "http/operations.hpp"

#include "http/metrics.hpp"
#include "store/migrations.hpp"

namespace ikigai::http {

void RegisterOperationRoutes(Router& router, Server& server, const Services& services) {
  store::Database& db = services.db;
  router.Add({.method = "GET", .path = "/healthz", .exec = Exec::kInline, .handler = [](Request&) {
                return JsonReply(200, {{"status", "ok"}});
              }});
  router.Add({.method = "GET", .path = "/readyz", .exec = Exec::kWorker, .handler = [&db](Request& r) {
                auto version = store::CurrentVersion(db);
                if (!version) return ErrorReply(version.error(), r);
                const int latest = store::LatestVersion(db.GetDialect());
                if (*version != latest) {
                  return ErrorReply({core::ErrorCode::kUnavailable,
                                     "The database schema is not at the version this server needs.",
                                     {}, 5},
                                    r);
                }
                return JsonReply(200, {{"status", "ready"}, {"schema_version", *version}});
              }});
  router.Add({.method = "GET", .path = "/metrics", .exec = Exec::kInline, .handler = [&server, &services](Request&) {
                Reply reply;
                reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
                reply.body = RenderMetrics(server, services);
                return reply;
              }});
  router.Add({.method = "GET", .path = "/api/v1/openapi.json", .exec = Exec::kInline, .handler = [](Request&) {
                Reply reply;
                reply.body = std::string(OpenApiDocument());
                return reply;
              }});
}

}  // namespace ikigai::http
