// tandem dashboard: serves the dashboard (src/dashboard/dashboard.h) for one database or a
// fleet, without running any work, until SIGTERM/SIGINT.
#include <iostream>
#include <memory>

#include "base/interrupt.h"
#include "cli/context.h"
#include "dashboard/dashboard.h"
#include "fleet/targets.h"
#include "server/worker_routes.h"

namespace tandem::cli {
namespace {

struct DashboardFlags {
  std::string http;  // "" : 127.0.0.1:7420
};

// The targets shown: --target's, all of a configured fleet when no single database was given,
// or the one database.
Result<std::vector<dashboard::Source>> Sources(Context& context, const config::Config& config) {
  bool url_given = config.database_url_source == "flag" ||
                   config.database_url_source == "DATABASE_URL" ||
                   config.database_url_source == "TANDEM_DATABASE_URL";
  std::vector<dashboard::Source> sources;
  if (context.ForFleet() || (config.HasTargets() && !url_given)) {
    TANDEM_ASSIGN_OR_RETURN(auto all, fleet::ListTargets(config));
    TANDEM_ASSIGN_OR_RETURN(
        auto chosen, fleet::SelectTargets(all, context.ForFleet() ? context.flags.target : "all"));
    for (auto& target : chosen) {
      sources.push_back(
          dashboard::MakeSource(target.name, target.groups, target.url, target.problem));
    }
    return sources;
  }
  // One database: connected once up front, so that a bad URL or an unreachable database is
  // reported as every command reports it (exit 2 or 3).
  TANDEM_ASSIGN_OR_RETURN(auto probe, context.Connect(config));
  pg::DatabaseUrl url = probe->url();
  sources.push_back(
      dashboard::MakeSource(url.dbname.empty() ? "main" : url.dbname, {}, url.conninfo));
  return sources;
}

int Run(Context& context, const DashboardFlags& flags) {
  auto config = context.LoadConfig();
  if (!config.ok()) return context.Fail(config.status());
  auto address = server::ParseListenAddress(flags.http);
  if (!address.ok()) {
    Status status = address.status();
    return context.Fail(std::move(status).Prefix("--http"));
  }
  std::string token = dashboard::TokenFromEnvironment(config->dashboard);
  if (Status refused =
          dashboard::CheckListenAddress(*address, !token.empty(), config->dashboard.token_env);
      !refused.ok()) {
    return context.Fail(refused);
  }
  auto sources = Sources(context, *config);
  if (!sources.ok()) return context.Fail(sources.status());

  dashboard::DashboardOptions options;
  options.sources = std::move(*sources);
  options.store.schema = config->schema;
  options.store.search_path = config->search_path;
  options.store.max_listen = config->dashboard.max_listen;
  options.store.refresh_interval = config->dashboard.refresh_interval;
  options.token = token;
  if (auto files = context.LoadMigrations(*config); files.ok()) options.files = std::move(*files);
  size_t targets = options.sources.size();
  dashboard::Dashboard board(std::move(options));

  server::ServerOptions server_options;
  server_options.address = *address;
  server_options.authorize = board.Authorizer();
  server_options.max_connections = 256;  // every open tab holds one for its live stream
  server::HttpServer http(std::move(server_options));
  board.AddRoutes(http);
  http.Get("/healthz", [](const server::Request&) {
    return server::Response::Json(200, "{\"status\":\"ok\"}\n");
  });

  interrupt::Graceful graceful(Duration(10'000));
  if (Status started = http.Start(); !started.ok()) return context.Fail(started);
  board.Start();
  server::ListenAddress bound = *address;
  bound.port = http.port();
  context.err << "serving the dashboard for " << targets << (targets == 1 ? " target" : " targets")
              << " on http://" << bound.ToString()
              << (token.empty() ? " (read-only: no token)" : "") << std::endl;
  while (!interrupt::Requested()) interrupt::SleepFor(Duration(1000));
  http.Stop();
  board.Stop();
  context.err << "dashboard stopped by " << interrupt::SignalName(interrupt::Signal()) << std::endl;
  return 0;
}

}  // namespace

void RegisterDashboard(CLI::App& app, Context& context, Runner& selected) {
  auto* cmd = app.add_subcommand(
      "dashboard", "serve the dashboard (pages, JSON API, live updates) without running work");
  auto flags = std::make_shared<DashboardFlags>();
  cmd->add_option("--http", flags->http,
                  "the address to serve on (default 127.0.0.1:7420; another address needs "
                  "TANDEM_DASHBOARD_TOKEN)");
  cmd->callback([&context, &selected, flags] {
    selected = [&context, flags] { return Run(context, *flags); };
  });
}

}  // namespace tandem::cli
