// tandem worker: runs the post-deploy work `tandem release` queued (src/worker/worker.h), as a
// daemon until SIGTERM/SIGINT or, with --once, until nothing is runnable. With --target it serves
// a fleet (src/fleet/fleet_worker.h).
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/context.h"
#include "cli/fleet_command.h"
#include "dashboard/dashboard.h"
#include "fleet/fleet_worker.h"
#include "fleet/targets.h"
#include "jobs/job.h"
#include "migrate/state.h"
#include "notify/notifier.h"
#include "pg/quote.h"
#include "server/worker_routes.h"
#include "worker/log.h"
#include "worker/worker.h"

namespace tandem::cli {
namespace {

struct WorkerFlags {
  bool once = false;
  std::string log_format = "text";
  CLI::Option* http_option = nullptr;  // given (with or without an address)?
  std::string http;                    // "" when given without one: 127.0.0.1:7420
};

// The files this worker was deployed with are used only to report drift; a worker image
// without them (or with unreadable ones) runs the recorded SQL all the same.
std::optional<migrate::MigrationSet> LoadFiles(Context& context, const config::Config& config,
                                               worker::Log& log) {
  auto loaded = context.LoadMigrations(config);
  if (loaded.ok()) return std::move(*loaded);
  log.Warning("migration files not loaded; drift is not reported",
              {{"reason", loaded.status().message()}});
  return std::nullopt;
}

// What every database's worker gets from the configuration and the flags.
worker::WorkerOptions BaseOptions(const config::Config& config, const WorkerFlags& flags,
                                  const std::optional<migrate::MigrationSet>& files,
                                  worker::Log& log) {
  worker::WorkerOptions options;
  options.schema = config.schema;
  options.settings = config.worker;
  options.release = config.release;
  options.background = config.background;
  // The limits in force are the file's as it is now: a person may raise a lag limit while a
  // backfill runs. A file that no longer parses keeps the last good settings.
  options.reload_background = [path = config.config_path, last = config.background]() mutable {
    if (path.empty()) return last;
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    if (auto parsed = config::ParseConfigText(text.str(), path); parsed.ok()) {
      last = parsed->background;
    }
    return last;
  };
  options.once = flags.once;
  options.actor = migrate::Actor();
  options.files = files ? &*files : nullptr;
  options.log = &log;
  return options;
}

// What `--http` serves: the worker's routes and, beside them, the dashboard
// (src/dashboard/dashboard.h) for the databases this worker serves. On an address other
// machines reach, the dashboard needs a token; without one only the worker's routes are
// served there, as before the dashboard existed.
struct WorkerHttp {
  std::unique_ptr<dashboard::Dashboard> board;
  std::unique_ptr<server::HttpServer> server;
};

// `fleet`: beside a fleet worker the dashboard LISTENs on no database and polls them on one
// session, so that it adds one session to the replica's bound (src/fleet/fleet_worker.h).
Result<WorkerHttp> ServeHttp(const server::ListenAddress& http, server::WorkerRoutes routes,
                             std::vector<dashboard::Source> sources, const config::Config& config,
                             const std::optional<migrate::MigrationSet>& files, worker::Log& log,
                             const std::string& worker_paths, bool fleet = false) {
  WorkerHttp served;
  std::string token = dashboard::TokenFromEnvironment(config.dashboard);
  bool with_dashboard = http.loopback() || !token.empty();
  server::ServerOptions server_options;
  server_options.address = http;
  if (with_dashboard) {
    dashboard::DashboardOptions board_options;
    board_options.sources = std::move(sources);
    board_options.store.schema = config.schema;
    board_options.store.search_path = config.search_path;
    board_options.store.max_listen = config.dashboard.max_listen;
    board_options.store.refresh_interval = config.dashboard.refresh_interval;
    if (fleet) {
      board_options.store.max_listen = 0;
      board_options.store.poll_threads = 1;
    }
    board_options.token = token;
    if (files) board_options.files = *files;
    served.board = std::make_unique<dashboard::Dashboard>(std::move(board_options));
    server_options.authorize = served.board->Authorizer();
  }
  served.server = std::make_unique<server::HttpServer>(std::move(server_options));
  server::AddWorkerRoutes(*served.server, std::move(routes));
  if (served.board) served.board->AddRoutes(*served.server);
  TANDEM_RETURN_IF_ERROR(served.server->Start());
  if (served.board) served.board->Start();
  server::ListenAddress bound = http;
  bound.port = served.server->port();
  log.Info(std::string(served.board ? "serving the dashboard, " + worker_paths : worker_paths) +
           " on http://" + bound.ToString());
  if (!with_dashboard) {
    log.Warning(
        "the dashboard is not served on an address other than loopback without a token; "
        "set " +
        config.dashboard.token_env + " to serve it there");
  }
  return served;
}

int RunFleet(Context& context, const config::Config& config, const WorkerFlags& flags,
             const std::optional<server::ListenAddress>& http);

int Run(Context& context, const WorkerFlags& flags) {
  auto config = context.LoadConfig();
  if (!config.ok()) return context.Fail(config.status());
  std::optional<server::ListenAddress> http;
  if (flags.http_option && flags.http_option->count() > 0) {
    auto parsed = server::ParseListenAddress(flags.http);
    if (!parsed.ok()) {
      Status status = parsed.status();
      return context.Fail(std::move(status).Prefix("--http"));
    }
    http = *parsed;
  }
  if (context.ForFleet()) return RunFleet(context, *config, flags, http);
  // Connect once up front: a bad URL or an unreachable database is reported like every command
  // does (exit 2 or 3) instead of as a worker retrying forever.
  auto probe = context.Connect(*config);
  if (!probe.ok()) return context.Fail(probe.status());
  pg::DatabaseUrl url = (*probe)->url();
  // Notification channels seen for the first time start here: what this worker does is sent,
  // the history before it is not.
  std::optional<long long> events_before_start;
  if (auto exists = migrate::StateSchemaExists(**probe, config->schema); exists.ok()) {
    events_before_start = 0;
    if (*exists) {
      auto newest = (*probe)->Query("SELECT coalesce(max(id), 0) FROM " +
                                    pg::QuoteIdentifier(config->schema) + ".events");
      if (newest.ok()) events_before_start = newest->GetInt(0, 0);
    }
  }
  probe->reset();

  worker::Log log(context.err, flags.log_format == "json");
  std::optional<migrate::MigrationSet> files = LoadFiles(context, *config, log);
  worker::WorkerOptions options = BaseOptions(*config, flags, files, log);

  // Notifications go out from their own thread and connection: a slow or failing webhook never
  // holds up a migration. One replica sends (the notifier's own advisory lock).
  notify::NotifierOptions notify_options;
  notify_options.url = url;
  notify_options.schema = config->schema;
  notify_options.channels = config->notify;
  notify_options.new_channels_after = events_before_start;
  notify_options.log = [&log](std::string_view level, std::string_view message,
                              const nlohmann::json& fields) { log.Write(level, message, fields); };
  auto notifier = notify::Notifier::Start(std::move(notify_options));
  if (!notifier.ok()) return context.Fail(notifier.status());
  options.on_transition = [n = notifier->get()] { n->Wake(); };

  // SIGTERM/SIGINT: the running statement is cancelled by the runner's rules, the job given
  // back, the lock released; within the grace a Kubernetes pod gets (30 s).
  interrupt::Graceful graceful(Duration(25'000));
  worker::WorkerState state;
  std::unique_ptr<dashboard::Dashboard> board;
  std::unique_ptr<server::HttpServer> http_server;
  if (http) {
    server::WorkerRoutes routes;
    routes.metrics = server::DatabaseMetrics(url, config->schema, url.dbname);
    routes.health = [&state, &url] {
      server::Health health;
      health.worker = state.active ? "active" : "standby";
      if (!state.connected) health.status = Status::Unavailable("not connected to the database");
      health.fields = {{"target", url.dbname},
                       {"running_job", std::to_string(state.running_job.load())}};
      return health;
    };
    auto served =
        ServeHttp(*http, std::move(routes), {dashboard::MakeSource(url.dbname, {}, url.conninfo)},
                  *config, files, log, "/metrics and /healthz");
    if (!served.ok()) return context.Fail(served.status());
    http_server = std::move(served->server);
    board = std::move(served->board);
  }
  log.Info(flags.once ? "worker started (--once)" : "worker started",
           {{"database", url.Redacted()}, {"schema", config->schema}});
  worker::WorkerSummary summary = worker::RunWorker(url, options, &state);
  if (http_server) http_server->Stop();
  if (board) board->Stop();
  // --once: what this run changed is announced before it exits (bounded: a dead webhook does
  // not keep a CI job waiting).
  if (flags.once && !interrupt::Requested() && !(*notifier)->Flush(Duration(30'000))) {
    log.Warning("some notifications were not sent before exiting; the next worker sends them");
  }
  (*notifier)->Stop();
  if (!summary.status.ok()) return context.Fail(summary.status);
  if (interrupt::Requested()) {
    log.Info(std::string("worker stopped by ") + interrupt::SignalName(interrupt::Signal()));
    return 0;
  }
  if (flags.once) {
    nlohmann::json fields = {{"succeeded", summary.succeeded},
                             {"failed", summary.failed},
                             {"retrying", summary.retrying},
                             {"waiting_for_a_person", summary.needs_person},
                             {"retry_pending", summary.retry_pending}};
    log.Info("worker done", fields);
    if (context.format() == Format::kJson) {
      fields["standby"] = summary.standby;
      context.out << fields.dump(2) << "\n";
    }
    return summary.failed > 0 || summary.needs_person || summary.retry_pending ? 1 : 0;
  }
  return 0;
}

// `tandem worker --target ...`: serves every chosen database (src/fleet/fleet_worker.h).
int RunFleet(Context& context, const config::Config& config, const WorkerFlags& flags,
             const std::optional<server::ListenAddress>& http) {
  auto all = fleet::ListTargets(config);
  if (!all.ok()) return context.Fail(all.status());
  auto targets = fleet::SelectTargets(*all, context.flags.target);
  if (!targets.ok()) return context.Fail(targets.status());
  int concurrency = context.flags.concurrency.value_or(config.fleet.concurrency);
  if (concurrency < 1) {
    return context.Fail(Status::InvalidInput("--concurrency must be at least 1"));
  }
  worker::Log log(context.err, flags.log_format == "json");
  std::optional<migrate::MigrationSet> files = LoadFiles(context, config, log);
  fleet::FleetWorkerOptions options;
  options.concurrency = concurrency;
  options.worker = BaseOptions(config, flags, files, log);
  options.notify = config.notify;

  interrupt::Graceful graceful(Duration(25'000));
  fleet::FleetWorkerState state;
  state.Set({});
  std::unique_ptr<dashboard::Dashboard> board;
  std::unique_ptr<server::HttpServer> http_server;
  if (http) {
    server::WorkerRoutes routes;
    // Rendered from what this replica knows and what its last metrics sweep read (one session,
    // each database in turn): a scrape opens no session, however many databases there are.
    options.metrics_interval = Duration(5000);
    routes.metrics = [&state]() -> Result<std::string> {
      return fleet::RenderFleetMetrics(state.Snapshot());
    };
    routes.health = [&state] {
      server::Health health;
      auto targets = state.Snapshot();
      int serving = 0, unreachable = 0, running = 0;
      std::string unreachable_names;
      for (const auto& t : targets) {
        serving += t.serving;
        running += t.running_job != 0;
        if (!t.unreachable.empty()) {
          ++unreachable;
          if (unreachable <= 10) unreachable_names += (unreachable > 1 ? "," : "") + t.name;
        }
      }
      health.worker = serving > 0 ? "active" : "standby";
      if (!targets.empty() && unreachable == static_cast<int>(targets.size())) {
        health.status = Status::Unavailable("no target database can be reached");
      }
      health.fields = {{"targets", std::to_string(targets.size())},
                       {"serving", std::to_string(serving)},
                       {"unreachable", std::to_string(unreachable)},
                       {"running_jobs", std::to_string(running)}};
      if (unreachable) health.fields.push_back({"unreachable_targets", unreachable_names});
      return health;
    };
    std::vector<dashboard::Source> sources;
    for (const auto& target : *targets) {
      sources.push_back(
          dashboard::MakeSource(target.name, target.groups, target.url, target.problem));
    }
    auto served = ServeHttp(*http, std::move(routes), std::move(sources), config, files, log,
                            "/metrics and /healthz", /*fleet=*/true);
    if (!served.ok()) return context.Fail(served.status());
    http_server = std::move(served->server);
    board = std::move(served->board);
  }
  log.Info(flags.once ? "fleet worker started (--once)" : "fleet worker started",
           {{"targets", targets->size()},
            {"concurrency", concurrency},
            {"schema", config.schema},
            {"target", context.flags.target}});
  if (!flags.once) {
    fleet::RunFleetWorker(*targets, options, &state);
    if (http_server) http_server->Stop();
    if (board) board->Stop();
    log.Info(std::string("fleet worker stopped by ") + interrupt::SignalName(interrupt::Signal()));
    return 0;
  }
  fleet::FleetOnceReport report = fleet::RunFleetWorkerOnce(*targets, options);
  if (http_server) http_server->Stop();
  if (board) board->Stop();
  if (interrupt::Requested()) {
    log.Info(std::string("fleet worker stopped by ") + interrupt::SignalName(interrupt::Signal()));
    return 0;
  }
  std::vector<TargetOutput> outputs(targets->size());
  int succeeded = 0, failed = 0, retrying = 0;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const worker::WorkerSummary& s = report.summaries[i];
    succeeded += s.succeeded;
    failed += s.failed;
    retrying += s.retrying;
    outputs[i].summary = s.standby ? "another worker is active: it runs the jobs"
                                   : std::to_string(s.succeeded) + " succeeded, " +
                                         std::to_string(s.failed) + " failed, " +
                                         std::to_string(s.retrying) + " retrying";
    outputs[i].json = {{"succeeded", s.succeeded},         {"failed", s.failed},
                       {"retrying", s.retrying},           {"waiting_for_a_person", s.needs_person},
                       {"retry_pending", s.retry_pending}, {"standby", s.standby}};
  }
  FleetCommand how;
  how.name = "worker";
  how.json_footer = [&](const std::vector<TargetOutput>&) {
    return nlohmann::json{{"succeeded", succeeded}, {"failed", failed}, {"retrying", retrying}};
  };
  int exit_code = report.rollout.AllOk() ? 0 : 1;
  if (context.format() == Format::kJson) {
    nlohmann::json json = FleetReportJson(how, report.rollout, outputs);
    json["exit_code"] = exit_code;
    context.out << json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    context.out << FleetReportText(how, report.rollout, outputs);
  }
  context.out.flush();
  return exit_code;
}
}  // namespace

void RegisterWorker(CLI::App& app, Context& context, Runner& selected) {
  auto* cmd = app.add_subcommand("worker",
                                 "run queued post-deploy migrations, one at a time, until stopped");
  auto flags = std::make_shared<WorkerFlags>();
  cmd->add_flag("--once", flags->once,
                "run what is runnable now and exit: 0 when all succeeded, 1 when something "
                "failed or waits for a person");
  cmd->add_option("--log-format", flags->log_format, "text (default) or json (one per line)")
      ->check(CLI::IsMember({"text", "json"}));
  flags->http_option =
      cmd->add_option("--http", flags->http,
                      "serve the dashboard, /metrics and /healthz on ADDR (default "
                      "127.0.0.1:7420)")
          ->expected(0, 1);
  cmd->callback([&context, &selected, flags] {
    selected = [&context, flags] { return Run(context, *flags); };
  });
}

}  // namespace tandem::cli
