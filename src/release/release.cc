// The release flow: lock, refuse, (lint gate), apply pre-deploy, queue the rest (release.h).
#include "release/release.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "background/placeholders.h"
#include "expand/executor.h"
#include "jobs/transitions.h"
#include "migrate/history.h"
#include "migrate/layouts.h"
#include "migrate/runner_lock.h"
#include "migrate/state.h"
#include "pg/quote.h"
#include "release/retry.h"

namespace tandem::release {
namespace {

using Clock = std::chrono::steady_clock;

ReleaseItem ItemFor(const migrate::StatusEntry& entry, const config::ReleaseSettings& settings) {
  const migrate::Migration& m = *entry.migration;
  ReleaseItem item;
  item.version = m.version;
  item.name = m.name;
  item.phase = m.phase;
  item.file = m.paths.empty() ? "" : m.paths.front();
  item.transactional = m.transactional;
  item.out_of_order = entry.out_of_order;
  item.retry_budget = settings.retry_budget;
  item.statements_total = static_cast<int>(m.up.statements.size());
  return item;
}

// Post-deploy and background migrations become `pending` rows for the worker, with an event
// each, in one transaction. ON CONFLICT DO NOTHING: a concurrent release (impossible under
// the runner lock, but cheap to guard) or an earlier one already queued it.
Status Queue(pg::Connection& connection, const std::string& schema,
             const std::vector<const migrate::Migration*>& migrations, bool require_approval,
             migrate::Layout layout) {
  if (migrations.empty()) return Status::Ok();
  // One transaction, sent in one round trip: a release of hundreds of post-deploy migrations
  // queues them as fast as one.
  std::vector<pg::PipelineStep> steps = {{"BEGIN", {}}};
  std::string actor = migrate::Actor();
  for (const migrate::Migration* m : migrations) {
    steps.push_back(
        pg::PipelineStep{"INSERT INTO " + pg::QuoteIdentifier(schema) +
                             ".migrations (version, name, phase, checksum, status, transactional, "
                             "statements_total, applied_by_host, applied_by_pid, tandem_version) "
                             "VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, pg_backend_pid(), $8) "
                             "ON CONFLICT (version) DO NOTHING",
                         {m->version, m->name, std::string(migrate::PhaseName(m->phase)),
                          m->checksum, m->transactional ? "true" : "false",
                          std::to_string(m->up.split ? m->up.statements.size() : 0),
                          migrate::HostName(), TANDEM_VERSION}});
    nlohmann::json detail = {{"phase", std::string(migrate::PhaseName(m->phase))},
                             {"by", "release"}};
    steps.push_back(pg::PipelineStep{"INSERT INTO " + pg::QuoteIdentifier(schema) +
                                         ".events (version, event, actor, detail) VALUES ($1, "
                                         "$2, $3, $4)",
                                     {m->version, "queued", actor, detail.dump()}});
  }
  // The jobs the worker runs, with the SQL as released (issue 12): queued in the same
  // transaction, so a release either queued its work whole or not at all.
  for (auto& step :
       jobs::QueueJobSteps(schema, migrations, require_approval,
                           {jobs::ResolveActor(""), "released"}, migrate::LayoutName(layout))) {
    steps.push_back(std::move(step));
  }
  steps.push_back({"COMMIT", {}});
  Status status = connection.ExecPipeline(steps).error;
  if (!status.ok()) {
    if (connection.in_transaction()) connection.Exec("ROLLBACK");
    return std::move(status).Prefix("could not queue post-deploy migrations for the worker");
  }
  return Status::Ok();
}

}  // namespace

Result<migrate::SessionLimits> LimitsFor(const migrate::Migration& migration,
                                         const config::ReleaseSettings& settings) {
  migrate::SessionLimits limits = migrate::WithMigrationLimits(
      migration,
      {settings.lock_timeout, settings.statement_timeout, settings.idle_in_transaction_timeout});
  if (*limits.lock_timeout <= Duration(0)) {
    Status status = Status::InvalidInput("lock_timeout must be greater than zero")
                        .WithDetail(
                            "tandem release never waits for a lock without a timeout: "
                            "a waiting ALTER queues every later query behind it")
                        .WithHint(
                            "use a short lock_timeout (the default is 500ms) and let "
                            "release retry within its retry budget");
    if (migration.lock_timeout) status.WithLocation({migration.paths.front(), 0, 0});
    return status;
  }
  return limits;
}

ReleaseReport Release(pg::Connection& connection, migrate::MigrationSet& files,
                      const ReleaseOptions& options) {
  const Clock::time_point started = Clock::now();
  ReleaseReport report;
  report.plan = options.plan;
  report.approval_required = options.require_approval;
  report.database = connection.url().Redacted();
  auto finish = [&]() -> ReleaseReport {
    report.duration = std::chrono::duration_cast<Duration>(Clock::now() - started);
    return std::move(report);
  };
  if (options.settings.retry_budget < Duration(0)) {
    report.status = Status::InvalidInput("retry budget must not be negative");
    return finish();
  }

  // The plan reads only: no runner lock (it would make `--plan` wait behind a release), no
  // state schema.
  std::optional<migrate::RunnerLock> lock;
  if (!options.plan) {
    auto acquired = migrate::RunnerLock::Acquire(connection, options.schema, options.lock_wait);
    if (!acquired.ok()) {
      report.status = acquired.status();
      return finish();
    }
    lock.emplace(std::move(*acquired));
  }
  auto history = migrate::ReadHistory(connection, options.schema);
  if (!history.ok()) {
    report.status = history.status();
    return finish();
  }
  std::vector<migrate::StatusEntry> entries = migrate::ComputeStatus(files, *history);

  // Everything that must be refused is refused before anything changes.
  std::string drifted;
  std::vector<migrate::StatusEntry*> to_apply, to_queue;
  for (migrate::StatusEntry& e : entries) {
    using migrate::MigrationState;
    if (e.state == MigrationState::kDrifted) drifted += (drifted.empty() ? "" : ", ") + e.version;
    if (e.state == MigrationState::kMissingFile) {
      report.warnings.push_back("applied migration " + e.version + " (" + e.name +
                                ") has no file in " + files.directory);
    }
    bool pending = e.state == MigrationState::kPending || e.state == MigrationState::kFailed;
    if (!pending) continue;
    if (e.phase == migrate::Phase::kPreDeploy) {
      to_apply.push_back(&e);
    } else if (e.row) {
      // Queued by an earlier release (or failed in the worker): the worker's business now.
      ReleaseItem item = ItemFor(e, options.settings);
      item.action = "already-queued";
      report.queued.push_back(std::move(item));
    } else {
      to_queue.push_back(&e);
    }
  }
  if (!drifted.empty()) {
    report.status = Status::Failed("applied migrations were edited since they ran: " + drifted)
                        .WithDetail(
                            "their files no longer match the checksum recorded when they ran, so "
                            "the schema may not be what the files say")
                        .WithHint(
                            "restore the files (git checkout), or write a new migration for the "
                            "change");
    return finish();
  }
  // Split before changing anything: a syntax error anywhere stops the release up front.
  // Background migrations hold :batch_start placeholders, so the worker splits those.
  for (auto* list : {&to_apply, &to_queue}) {
    for (migrate::StatusEntry* e : *list) {
      if (e->phase == migrate::Phase::kBackground) {
        // Not split here, but refused up front if the worker could never batch it.
        auto bound = background::BindPlaceholders(e->migration->up.text);
        if (!bound.ok()) {
          Status status = bound.status();
          report.status = std::move(status)
                              .Prefix("background migration " + e->migration->version)
                              .WithLocation({e->migration->up.path, e->migration->up.text_line, 1});
          return finish();
        }
        continue;
      }
      Status split = migrate::SplitSections(*const_cast<migrate::Migration*>(e->migration));
      if (split.ok()) split = migrate::CheckResume(*e->migration, e->row);
      if (!split.ok()) {
        report.status = split;
        return finish();
      }
    }
  }
  // `-- tandem:requires`: a pre-deploy migration that needs a background one finished waits for
  // it; the person is told which job and how to finish it now.
  for (migrate::StatusEntry* e : to_apply) {
    if (e->migration->required_versions.empty()) continue;
    auto exists = jobs::JobsTableExists(connection, options.schema);
    if (!exists.ok()) {
      report.status = exists.status();
      return finish();
    }
    for (const std::string& required : e->migration->required_versions) {
      pg::QueryResult job;
      if (*exists) {
        auto found =
            connection.Query("SELECT id, status FROM " + pg::QuoteIdentifier(options.schema) +
                                 ".jobs WHERE kind = 'background' AND version = $1",
                             {required});
        if (!found.ok()) {
          report.status = found.status();
          return finish();
        }
        job = std::move(*found);
      }
      if (job.rows() == 0) {
        report.status =
            Status::Failed("migration " + e->version + " requires background migration " +
                           required + ", which has not been released")
                .WithHint("release " + required +
                          " first and let it finish (tandem worker, or tandem jobs finalize)");
        return finish();
      }
      if (job.Get(0, 1) != "succeeded") {
        std::string id = job.Get(0, 0);
        report.status =
            Status::Failed("migration " + e->version + " requires background migration " +
                           required + " (job " + id + "), which is " + job.Get(0, 1))
                .WithDetail("nothing was applied")
                .WithHint("finish it now with \"tandem jobs finalize " + id +
                          "\" (or wait for the worker), then run tandem release again");
        return finish();
      }
    }
  }
  for (migrate::StatusEntry* e : to_apply) {
    ReleaseItem item = ItemFor(*e, options.settings);
    auto limits = LimitsFor(*e->migration, options.settings);
    if (!limits.ok()) {
      report.status = limits.status();
      return finish();
    }
    item.limits = *limits;
    item.action = options.plan ? "would-apply" : "pending";
    report.migrations.push_back(std::move(item));
  }
  for (migrate::StatusEntry* e : to_queue) {
    ReleaseItem item = ItemFor(*e, options.settings);
    item.action = options.plan ? "would-queue" : "queued";
    report.queued.push_back(std::move(item));
  }

  // ---- LINT GATE (issue 4, item 7) ----
  // The pending pre-deploy migrations are checked here, before anything changes. The CLI
  // sets options.lint_gate once the linter provides the gate function; until then none runs.
  if (options.lint_gate && !to_apply.empty()) {
    std::vector<const migrate::Migration*> pending;
    // Online migrations are planned as expand/contract (src/expand/): their plain SQL is what
    // the user wants in the end, not what runs, so the linter's findings on it do not apply.
    for (migrate::StatusEntry* e : to_apply)
      if (!e->migration->online) pending.push_back(e->migration);
    if (Status gate = pending.empty() ? Status::Ok() : options.lint_gate(pending); !gate.ok()) {
      report.status = gate;
      return finish();
    }
  }

  if (to_apply.empty() && to_queue.empty()) report.nothing_to_do = true;
  if (options.plan || report.nothing_to_do) return finish();

  if (Status s = migrate::EnsureStateSchema(connection, options.schema); !s.ok()) {
    report.status = s;
    return finish();
  }
  std::unique_ptr<BlockerWatch> watch;
  if (!to_apply.empty()) {
    // Poll often enough to see the blockers of even a short lock_timeout at least twice.
    Duration interval = std::clamp(options.settings.lock_timeout / 4, Duration(10), Duration(50));
    auto started_watch =
        BlockerWatch::Start(connection.url(), connection.backend_pid(), interval,
                            options.watch_slots, options.settings.lock_timeout / 2);
    if (started_watch.ok()) {
      watch = std::move(*started_watch);
    } else {
      report.warnings.push_back("blockers will not be named: " + started_watch.status().message());
    }
  }
  for (size_t i = 0; i < to_apply.size(); ++i) {
    ReleaseItem& item = report.migrations[i];
    if (to_apply[i]->migration->online) {
      // Expand/contract: the expand steps and the backfill job (src/expand/executor.h).
      auto expand_started = Clock::now();
      expand::ExecOptions expand_options;
      expand_options.schema = options.schema;
      expand_options.settings = options.settings;
      expand_options.settings.lock_timeout = *item.limits.lock_timeout;
      expand_options.actor = jobs::ResolveActor("");
      expand_options.sleep = options.sleep;
      Status expanded = expand::Expand(connection, *to_apply[i]->migration, expand_options);
      item.duration = std::chrono::duration_cast<Duration>(Clock::now() - expand_started);
      item.action = expanded.ok() ? "applied" : "failed";
      item.error = expanded;
      if (expanded.ok()) {
        item.statements_done = item.statements_total;
        report.warnings.push_back("online migration " + item.version +
                                  " is expanded: both apps work; see \"tandem status\", and run "
                                  "\"tandem complete " +
                                  item.version + " --now\" once the old app is gone");
      }
    } else {
      ApplyWithRetries(connection, *to_apply[i]->migration, to_apply[i]->row, options, watch.get(),
                       item);
    }
    if (item.action != "applied") {
      report.status = item.error;
      // The rest stay pending, and nothing is queued: this release must not be deployed.
      for (size_t j = i + 1; j < report.migrations.size(); ++j)
        report.migrations[j].action = "not-run";
      for (auto& q : report.queued)
        if (q.action == "queued") q.action = "not-queued";
      return finish();
    }
  }
  watch.reset();
  std::vector<const migrate::Migration*> queue;
  for (migrate::StatusEntry* e : to_queue) queue.push_back(e->migration);
  if (Status s = Queue(connection, options.schema, queue, options.require_approval, files.layout);
      !s.ok()) {
    report.status = s;
  }
  return finish();
}

}  // namespace tandem::release
