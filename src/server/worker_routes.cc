#include "server/worker_routes.h"

#include "base/json_text.h"
#include "jobs/metrics.h"

namespace tandem::server {
namespace {

// The first line of a message: a body of one line, whatever the error held.
std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

std::string HealthJson(const Health& health) {
  std::string out = "{\"status\":";
  AppendJsonString(out, health.status.ok() ? "ok" : "unavailable");
  out += ",\"worker\":";
  AppendJsonString(out, health.worker);
  for (const auto& [name, value] : health.fields) {
    out += ',';
    AppendJsonString(out, name);
    out += ':';
    AppendJsonString(out, value);
  }
  if (!health.status.ok()) {
    out += ",\"error\":";
    AppendJsonString(out, FirstLine(health.status.message()));
  }
  return out + "}\n";
}

void AddWorkerRoutes(HttpServer& server, WorkerRoutes routes) {
  auto metrics = std::move(routes.metrics);
  auto health = std::move(routes.health);
  server.Get("/metrics", [metrics](const Request&) {
    Result<std::string> text = metrics();
    if (!text.ok()) {
      return Response::Text(503,
                            "metrics unavailable: " + FirstLine(text.status().message()) + "\n");
    }
    Response response = Response::Text(200, std::move(text).value());
    response.content_type = std::string(jobs::kMetricsContentType);
    return response;
  });
  server.Get("/healthz", [health](const Request&) {
    Health now = health();
    return Response::Json(now.status.ok() ? 200 : 503, HealthJson(now));
  });
}

Result<std::unique_ptr<HttpServer>> StartWorkerServer(ServerOptions options, WorkerRoutes routes) {
  auto server = std::make_unique<HttpServer>(std::move(options));
  AddWorkerRoutes(*server, std::move(routes));
  TANDEM_RETURN_IF_ERROR(server->Start());
  return server;
}

}  // namespace tandem::server
