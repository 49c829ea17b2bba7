// The routes `tandem worker --http` serves: /metrics (Prometheus text) and /healthz. They hold
// no logic of their own: the worker passes functions that read the database (metrics) and its
// own state (health), so that the dashboard can add its routes to the same HttpServer later.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "pg/url.h"
#include "server/http_server.h"

namespace tandem::server {

struct Health {
  // Ok when the worker can do its work (it reached its database at its last try); otherwise
  // why not (only the primary message is shown: it names host and port, never a password).
  Status status;
  // "active": this replica holds the worker lock and runs jobs; "standby": another one does,
  // and this one takes over when it goes.
  std::string worker = "standby";
  // More string fields for the JSON body, in order (for example {"target", "main"}).
  std::vector<std::pair<std::string, std::string>> fields;
};

struct WorkerRoutes {
  // The exposition text (jobs::RenderMetrics); a failure answers 503 with its one-line message.
  std::function<Result<std::string>()> metrics;
  std::function<Health()> health;
};

// GET /metrics and GET /healthz (HEAD too).
//   /metrics  200 text/plain; version=0.0.4 — or 503 "metrics unavailable: <message>"
//   /healthz  200 {"status":"ok","worker":"active",...} — or 503 {"status":"unavailable",
//             "worker":"standby","error":"<message>",...}
// The functions run on the connection's thread, one call per request (several may run at once).
void AddWorkerRoutes(HttpServer& server, WorkerRoutes routes);

// Starts a server on `options.address` with the worker routes; what the worker calls for
// `--http`. Fails as HttpServer::Start does (kUnavailable naming the address when in use).
Result<std::unique_ptr<HttpServer>> StartWorkerServer(ServerOptions options, WorkerRoutes routes);

// The metrics function the worker passes: a connection of its own per scrape (closed after
// it; scrapes come every 15-60 s, so a pooled connection would mostly sit idle), named
// "tandem metrics" in pg_stat_activity, and bounded (3 s to connect, 5 s of statements) because
// Stop() waits for a scrape in progress. RenderMetrics for `schema`, labelled `target`.
std::function<Result<std::string>()> DatabaseMetrics(pg::DatabaseUrl url, std::string schema,
                                                     std::string target);

// The body /healthz answers, exposed for tests and for `tandem dashboard`.
std::string HealthJson(const Health& health);

}  // namespace tandem::server
