#include "server/worker_routes.h"

#include "base/json_text.h"
#include "jobs/metrics.h"
#include "pg/connection.h"

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

std::function<Result<std::string>()> DatabaseMetrics(pg::DatabaseUrl url, std::string schema,
                                                     std::string target) {
  return [url = std::move(url), schema = std::move(schema),
          target = std::move(target)]() -> Result<std::string> {
    pg::ConnectOptions options;
    options.application_name = "tandem metrics";
    options.connect_timeout_seconds = 3;
    TANDEM_ASSIGN_OR_RETURN(auto connection, pg::Connection::Open(url, options));
    TANDEM_RETURN_IF_ERROR(connection->Exec("SET statement_timeout = '5s'"));
    return jobs::RenderMetrics(*connection, schema, target);
  };
}

Result<std::unique_ptr<HttpServer>> StartWorkerServer(ServerOptions options, WorkerRoutes routes) {
  auto server = std::make_unique<HttpServer>(std::move(options));
  AddWorkerRoutes(*server, std::move(routes));
  TANDEM_RETURN_IF_ERROR(server->Start());
  return server;
}

}  // namespace tandem::server
