// tandem status, tandem up, tandem down.
#include <algorithm>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "background/runner.h"
#include "cli/context.h"
#include "cli/fleet_command.h"
#include "cli/fleet_status.h"
#include "cli/render.h"
#include "expand/executor.h"
#include "jobs/job.h"
#include "jobs/transitions.h"
#include "migrate/history.h"
#include "migrate/runner.h"
#include "migrate/runner_lock.h"
#include "pg/url.h"
#include "worker/worker.h"

namespace tandem::cli {
namespace {

// Loads config, migrations and a connection, in the order that makes errors cheapest: bad
// input (exit 2) is found before the database is contacted.
struct Prepared {
  config::Config config;
  migrate::MigrationSet files;
  std::unique_ptr<pg::Connection> connection;
};

Result<Prepared> Prepare(Context& context) {
  Prepared p;
  TANDEM_ASSIGN_OR_RETURN(p.config, context.LoadConfig());
  TANDEM_ASSIGN_OR_RETURN(p.files, context.LoadMigrations(p.config));
  TANDEM_ASSIGN_OR_RETURN(p.connection, context.Connect(p.config));
  return p;
}

int PrintRunReport(Context& context, const migrate::RunReport& report) {
  if (context.format() == Format::kJson) {
    context.out << RunReportJson(report).dump(2, ' ', false,
                                              nlohmann::json::error_handler_t::replace)
                << "\n";
    return ExitCodeFor(report.status);
  }
  context.out << RunReportText(report, UseColor());
  if (!report.status.ok()) return context.Fail(report.status);
  return 0;
}

std::optional<std::string> OptionalString(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

std::vector<migrate::StatusEntry> AddJobStates(pg::Connection& connection,
                                               const config::Config& config,
                                               std::vector<migrate::StatusEntry> entries);

// What `tandem status` shows for one database. `history` holds the rows the entries point to.
Result<std::vector<migrate::StatusEntry>> StatusEntries(pg::Connection& connection,
                                                        const config::Config& config,
                                                        const migrate::MigrationSet& files,
                                                        std::vector<migrate::HistoryRow>& history) {
  TANDEM_ASSIGN_OR_RETURN(history, migrate::ReadHistory(connection, config.schema));
  auto entries = migrate::ComputeStatus(files, history);
  MarkLeftRunning(connection, config.schema, history, entries);
  return AddJobStates(connection, config, std::move(entries));
}

// Post-deploy migrations queued as jobs: their job's state beside them. A cancelled job
// is work a person decided not to do, so --exit-code does not count it.
std::vector<migrate::StatusEntry> AddJobStates(pg::Connection& connection,
                                               const config::Config& config,
                                               std::vector<migrate::StatusEntry> entries) {
  if (auto all = jobs::ListJobs(connection, config.schema); all.ok()) {
    std::map<std::string, const jobs::Job*> by_version;
    for (const auto& j : *all) by_version[j.version] = &j;
    for (auto& e : entries) {
      auto it = by_version.find(e.version);
      if (it == by_version.end()) continue;
      e.job_id = it->second->id;
      e.job_status = std::string(jobs::StatusName(it->second->status));
    }
  }
  // Online migrations: their expand/contract state.
  if (auto online = expand::ReadOnlineStates(connection, config.schema); online.ok()) {
    for (auto& e : entries) {
      for (const auto& o : *online)
        if (o.version == e.version) e.online_state = o.description;
    }
  }
  return entries;
}

// `tandem status --target ...`: one line per database and the fleet's totals; exit 1 when a
// database could not be read (or, with --exit-code, when any has work left).
int FleetStatus(Context& context, bool exit_code) {
  auto config = context.LoadConfig();
  if (!config.ok()) return context.Fail(config.status());
  auto files = context.LoadMigrations(*config);
  if (!files.ok()) return context.Fail(files.status());
  FleetCommand how;
  how.name = "status";
  how.read_only = true;
  how.json_footer = FleetStatusTotals;
  how.text_footer = FleetStatusFooter;
  bool work = false;
  std::mutex mutex;
  int code = RunOnFleet(
      context, *config, how,
      [&](const fleet::Target&, pg::Connection& connection, TargetOutput& output) -> Status {
        std::vector<migrate::HistoryRow> history;
        TANDEM_ASSIGN_OR_RETURN(
            auto fast, ReadFleetStatusEntries(connection, *config, *files, history, exit_code));
        std::vector<migrate::StatusEntry> entries;
        if (fast) {
          entries = std::move(*fast);
        } else {
          TANDEM_ASSIGN_OR_RETURN(entries, StatusEntries(connection, *config, *files, history));
        }
        FleetStatusRow row = CountStatus(entries);
        output.summary = FleetStatusLine(row);
        output.json = FleetStatusJson(row);
        // As on one database: a cancelled job is not work left.
        bool left = false;
        for (const auto& e : entries) {
          left |= e.state != migrate::MigrationState::kApplied && e.job_status != "cancelled";
        }
        std::lock_guard<std::mutex> lock(mutex);
        work |= left;
        return Status::Ok();
      });
  if (code == 0 && exit_code && work) return 1;
  return code;
}

struct UpFlags {
  std::string to;
  bool dry_run = false, allow_drift = false, strict_order = false;
};

// `tandem up` on one database: what both the single-database command and each database of
// --target run.
migrate::RunReport UpOn(pg::Connection& connection, const config::Config& config,
                        migrate::MigrationSet& files, const UpFlags& f) {
  migrate::UpOptions options;
  options.schema = config.schema;
  options.lock_wait = config.lock_wait;
  options.dry_run = f.dry_run;
  options.allow_drift = f.allow_drift;
  options.strict_order = f.strict_order;
  options.to_version = OptionalString(f.to);
  // Online migrations: the expand as `tandem release` runs it, the backfill here.
  options.online.exec.settings = config.release;
  options.online.exec.actor = jobs::ResolveActor("");
  options.online.backfill = background::SettingsFrom(config.background, config.worker.max_attempts);
  // Migrations `tandem release` queued as jobs belong to the worker: up leaves them alone,
  // so that the two never run one at the same time. Read under the runner lock (include is
  // first called once Up holds it), where no release can queue one meanwhile.
  std::optional<std::map<std::string, jobs::Job>> queued;
  std::vector<std::string> left;
  Status jobs_status = Status::Ok();
  options.include = [&](const migrate::Migration& m) {
    if (!queued) {
      queued.emplace();
      auto all = jobs::ListJobs(connection, config.schema);
      if (!all.ok()) jobs_status = all.status();
      if (all.ok())
        for (auto& j : *all) (*queued)[j.version] = std::move(j);
    }
    auto it = queued->find(m.version);
    if (it == queued->end()) return jobs_status.ok();
    left.push_back("migration " + m.version + " (" + m.name + ") is job " +
                   std::to_string(it->second.id) + " of the worker (" +
                   std::string(jobs::StatusName(it->second.status)) +
                   "): left to \"tandem worker\"; see \"tandem jobs show " +
                   std::to_string(it->second.id) + "\"");
    return false;
  };
  auto report = migrate::Up(connection, files, options);
  if (!jobs_status.ok() && report.status.ok()) report.status = jobs_status;
  report.warnings.insert(report.warnings.end(), left.begin(), left.end());
  return report;
}

using RunOn = std::function<migrate::RunReport(pg::Connection&, const config::Config&,
                                               migrate::MigrationSet&)>;

// up and down: on one database, or with --target on each chosen database (fleet_command.h),
// each giving the report a single-database run gives (its JSON is the database's entry).
int RunMigrations(Context& context, const std::string& name, const RunOn& run) {
  if (!context.ForFleet()) {
    auto prepared = Prepare(context);
    if (!prepared.ok()) return context.Fail(prepared.status());
    StopOnSignal stop_on_signal(*prepared->connection);
    return PrintRunReport(context, run(*prepared->connection, prepared->config, prepared->files));
  }
  auto config = context.LoadConfig();
  if (!config.ok()) return context.Fail(config.status());
  auto files = context.LoadMigrations(*config);
  if (!files.ok()) return context.Fail(files.status());
  FleetCommand how;
  how.name = name;
  return RunOnFleet(
      context, *config, how,
      [&](const fleet::Target&, pg::Connection& connection, TargetOutput& output) -> Status {
        migrate::MigrationSet copy = *files;  // a run splits the sections in place
        migrate::RunReport report = run(connection, *config, copy);
        output.json = RunReportJson(report);
        std::vector<std::string> actions;
        for (const auto& r : report.runs) actions.push_back(r.action);
        output.summary =
            report.nothing_to_do || actions.empty() ? "nothing to do" : CountedActions(actions);
        if (!report.warnings.empty()) {
          output.summary += " (" + std::to_string(report.warnings.size()) + " warning" +
                            (report.warnings.size() == 1 ? "" : "s") + ")";
        }
        return report.status;
      });
}

}  // namespace

void RegisterStatus(CLI::App& app, Context& context, Runner& selected) {
  auto* cmd = app.add_subcommand("status", "show applied, pending, failed and drifted migrations");
  auto exit_code = std::make_shared<bool>(false);
  cmd->add_flag("--exit-code", *exit_code, "exit 1 when anything is pending, failed or drifted");
  cmd->callback([&context, &selected, exit_code] {
    selected = [&context, exit_code]() -> int {
      if (context.ForFleet()) return FleetStatus(context, *exit_code);
      auto prepared = Prepare(context);
      if (!prepared.ok()) return context.Fail(prepared.status());
      std::vector<migrate::HistoryRow> history;
      auto entries =
          StatusEntries(*prepared->connection, prepared->config, prepared->files, history);
      if (!entries.ok()) return context.Fail(entries.status());
      bool work = false;
      for (const auto& e : *entries) {
        work |= e.state != migrate::MigrationState::kApplied && e.job_status != "cancelled";
      }
      if (context.format() == Format::kJson) {
        context.out << StatusJsonText(*entries, prepared->connection->url().Redacted(),
                                      prepared->files.directory,
                                      std::string(migrate::LayoutName(prepared->files.layout)));
      } else {
        context.out << StatusText(*entries, UseColor());
      }
      return *exit_code && work ? 1 : 0;
    };
  });
}

void RegisterUp(CLI::App& app, Context& context, Runner& selected) {
  auto* cmd =
      app.add_subcommand("up", "apply pending migrations (development use; deploys use release)");
  auto f = std::make_shared<UpFlags>();
  cmd->add_option("--to", f->to, "apply up to and including this version");
  cmd->add_flag("--dry-run", f->dry_run, "print what would run and change nothing");
  cmd->add_flag("--allow-drift", f->allow_drift, "run even if applied migrations were edited");
  cmd->add_flag("--strict-order", f->strict_order,
                "refuse pending migrations older than the newest applied one");
  cmd->callback([&context, &selected, f] {
    selected = [&context, f]() -> int {
      return RunMigrations(
          context, f->dry_run ? "up --dry-run" : "up",
          [f](pg::Connection& connection, const config::Config& config,
              migrate::MigrationSet& files) { return UpOn(connection, config, files, *f); });
    };
  });
}

void RegisterDown(CLI::App& app, Context& context, Runner& selected) {
  auto* cmd = app.add_subcommand("down", "revert applied migrations, newest first (default: one)");
  struct Flags {
    std::string to;
    std::optional<int> steps;
    bool dry_run = false;
  };
  auto f = std::make_shared<Flags>();
  auto* to = cmd->add_option("--to", f->to, "revert every migration newer than this version");
  cmd->add_option("--steps", f->steps, "how many migrations to revert (default 1)")->excludes(to);
  cmd->add_flag("--dry-run", f->dry_run, "print what would run and change nothing");
  cmd->callback([&context, &selected, f] {
    selected = [&context, f]() -> int {
      // Checked before anything is loaded: a negative count once reverted one migration.
      if (f->steps && *f->steps < 1) {
        return context.Fail(
            Status::InvalidInput("--steps must be at least 1, not " + std::to_string(*f->steps))
                .WithHint("to revert nothing, do not run \"tandem down\"; to "
                          "revert back to a version, use --to"));
      }
      return RunMigrations(context, f->dry_run ? "down --dry-run" : "down",
                           [f](pg::Connection& connection, const config::Config& config,
                               migrate::MigrationSet& files) {
                             migrate::DownOptions options;
                             options.schema = config.schema;
                             options.lock_wait = config.lock_wait;
                             options.dry_run = f->dry_run;
                             options.to_version = OptionalString(f->to);
                             options.steps = f->steps.value_or(1);
                             options.online.settings = config.release;
                             options.online.actor = jobs::ResolveActor("");
                             return migrate::Down(connection, files, options);
                           });
    };
  });
}

}  // namespace tandem::cli
