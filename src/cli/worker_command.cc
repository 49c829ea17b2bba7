// tandem worker: runs the post-deploy work `tandem release` queued (src/worker/worker.h), as a
// daemon until SIGTERM/SIGINT or, with --once, until nothing is runnable.
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/context.h"
#include "dashboard/dashboard.h"
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
  // The files this worker was deployed with are used only to report drift; a worker image
  // without them (or with unreadable ones) runs the recorded SQL all the same.
  std::optional<migrate::MigrationSet> files;
  if (auto loaded = context.LoadMigrations(*config); loaded.ok()) {
    files = std::move(*loaded);
  } else {
    log.Warning("migration files not loaded; drift is not reported",
                {{"reason", loaded.status().message()}});
  }

  worker::WorkerOptions options;
  options.schema = config->schema;
  options.settings = config->worker;
  options.release = config->release;
  options.background = config->background;
  // The limits in force are the file's as it is now: a person may raise a lag limit while a
  // backfill runs. A file that no longer parses keeps the last good settings.
  options.reload_background = [path = config->config_path, last = config->background]() mutable {
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
    // The dashboard beside them (src/dashboard/dashboard.h), for this worker's database. On an
    // address other machines reach it needs a token; without one only /metrics and /healthz
    // are served there, as before the dashboard existed.
    std::string token = dashboard::TokenFromEnvironment(config->dashboard);
    bool with_dashboard = http->loopback() || !token.empty();
    server::ServerOptions server_options{*http};
    if (with_dashboard) {
      dashboard::DashboardOptions board_options;
      board_options.sources.push_back(dashboard::MakeSource(url.dbname, {}, url.conninfo));
      board_options.store.schema = config->schema;
      board_options.store.search_path = config->search_path;
      board_options.store.refresh_interval = config->dashboard.refresh_interval;
      board_options.token = token;
      if (files) board_options.files = *files;
      board = std::make_unique<dashboard::Dashboard>(std::move(board_options));
      server_options.authorize = board->Authorizer();
    }
    http_server = std::make_unique<server::HttpServer>(std::move(server_options));
    server::AddWorkerRoutes(*http_server, std::move(routes));
    if (board) board->AddRoutes(*http_server);
    if (Status started = http_server->Start(); !started.ok()) return context.Fail(started);
    if (board) board->Start();
    server::ListenAddress bound = *http;
    bound.port = http_server->port();
    log.Info(std::string(board ? "serving the dashboard, /metrics and /healthz"
                               : "serving /metrics and /healthz") +
             " on http://" + bound.ToString());
    if (!with_dashboard) {
      log.Warning(
          "the dashboard is not served on an address other than loopback without a "
          "token; set " +
          config->dashboard.token_env + " to serve it there");
    }
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
