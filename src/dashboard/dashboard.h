// The dashboard: pages, JSON API and live updates over the state tandem keeps in each target
// (tandem.migrations, tandem.jobs, tandem.events). Start here.
//
// `tandem dashboard` and `tandem worker --http` build a Dashboard, add its routes to their
// HttpServer (whose `authorize` is the dashboard's, see auth.h) and start it. It reads through
// the Store (store.h: snapshots kept fresh by LISTEN/NOTIFY and a slow refresh), changes jobs
// only through jobs/transitions.h (each change an event naming the actor), and renders pages
// with everything from a database escaped (html.h).
//
// Routes (docs/dashboard.md):
//   GET  /  /jobs  /events  /targets/NAME  /targets/NAME/migrations/V  /targets/NAME/jobs/ID
//   GET  /login   POST /login   POST /logout
//   GET  /api/targets  /api/targets/NAME/migrations  /api/jobs  /api/jobs/ID  /api/events
//   GET  /api/stream (server-sent events)
//   POST /api/jobs/ID/{pause,resume,retry,cancel,approve}[?target=NAME]
//   GET  /assets/app.js  /assets/app.css  /favicon.ico
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "dashboard/auth.h"
#include "dashboard/store.h"
#include "migrate/migration.h"
#include "server/http_server.h"

namespace tandem::dashboard {

struct DashboardOptions {
  std::vector<Source> sources;
  StoreOptions store;
  std::string token;  // empty: read-only
  // The project's migration files when they could be loaded: the SQL of migrations that are not
  // jobs (pre-deploy ones) comes from them. Optional.
  std::optional<migrate::MigrationSet> files;
};

class Dashboard {
 public:
  explicit Dashboard(DashboardOptions options);
  ~Dashboard();

  // Adds every route. Call before server.Start(); the server's options must use Authorizer().
  void AddRoutes(server::HttpServer& server);
  std::function<std::optional<server::Response>(const server::Request&)> Authorizer();
  // Starts reading the targets (the pages show "loading" until each has been read once).
  void Start();
  void Stop();

  Store& store() { return store_; }
  Auth& auth() { return auth_; }

 private:
  DashboardOptions options_;
  Store store_;
  Auth auth_;
};

// The token for [dashboard] token_env (TANDEM_DASHBOARD_TOKEN unless renamed); "" when unset.
std::string TokenFromEnvironment(const config::DashboardSettings& settings);

// Refuses (kInvalidInput, exit 2) an address reachable from other machines when no token is
// configured: the pages would show every target's state to anyone who can reach the port.
Status CheckListenAddress(const server::ListenAddress& address, bool has_token,
                          const std::string& token_env);

// A source from a target's name, groups and URL (redacted here; a URL that does not parse
// makes the source's problem).
Source MakeSource(std::string name, std::vector<std::string> groups, std::string url,
                  Status problem = Status::Ok());

}  // namespace tandem::dashboard
