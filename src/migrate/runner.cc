#include "migrate/runner.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "expand/plan.h"
#include "migrate/history.h"
#include "migrate/layouts.h"
#include "migrate/runner_lock.h"
#include "migrate/state.h"
#include "pg/quote.h"

namespace tandem::migrate {
namespace {

Status UnknownVersion(const std::string& version, const MigrationSet& files) {
  return Status::InvalidInput("unknown version \"" + version + "\"")
      .WithDetail("no migration file in " + files.directory + " and no applied migration has it")
      .WithHint("run \"tandem status\" to see the versions");
}

bool KnownVersion(const std::string& version, const MigrationSet& files,
                  const std::vector<HistoryRow>& history) {
  if (files.Find(version)) return true;
  for (const auto& row : history)
    if (files.Compare(row.version, version) == 0) return true;
  return false;
}

// The runner lock (held as long as the returned value lives) and the history read under it.
struct Locked {
  RunnerLock lock;
  std::vector<HistoryRow> history;
};

Result<Locked> LockAndReadHistory(pg::Connection& connection, const MigrationSet& files,
                                  const std::string& schema, Duration lock_wait,
                                  const std::optional<std::string>& to_version) {
  TANDEM_ASSIGN_OR_RETURN(RunnerLock lock, RunnerLock::Acquire(connection, schema, lock_wait));
  TANDEM_ASSIGN_OR_RETURN(std::vector<HistoryRow> history, ReadHistory(connection, schema));
  if (to_version && !KnownVersion(*to_version, files, history)) {
    return UnknownVersion(*to_version, files);
  }
  return Locked{std::move(lock), std::move(history)};
}

bool AnyOnline(const MigrationSet& files) {
  return std::any_of(files.migrations.begin(), files.migrations.end(),
                     [](const Migration& m) { return m.online; });
}

std::string CompleteNotice(const std::string& version) {
  return "online: expanded, and backfilled here: the old and the new names both work; run "
         "\"tandem complete " +
         version + " --now\" to finish it (the contract), or \"tandem down\" to undo it";
}

// An online migration's expand and its backfill in the foreground (expand/develop.h).
ApplyOutcome UpOnline(pg::Connection& connection, const Migration& migration,
                      const UpOptions& options) {
  auto started = std::chrono::steady_clock::now();
  expand::DevelopmentOptions online = options.online;
  online.exec.schema = options.schema;
  if (options.limits.lock_timeout) online.exec.settings.lock_timeout = *options.limits.lock_timeout;
  if (migration.lock_timeout) online.exec.settings.lock_timeout = *migration.lock_timeout;
  ApplyOutcome outcome;
  outcome.statements_total = static_cast<int>(migration.up.statements.size());
  Status status = expand::ExpandAndBackfill(connection, migration, online);
  outcome.duration =
      std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started);
  outcome.succeeded = status.ok();
  if (status.ok()) {
    outcome.statements_done = outcome.statements_total;
    outcome.notices.push_back(CompleteNotice(migration.version));
  } else {
    outcome.error = status;
    if (outcome.error.location().file.empty() && !migration.paths.empty())
      outcome.error.WithLocation({migration.paths.front(), migration.up.location.line, 0});
  }
  return outcome;
}

// The expand steps and backfill `up` would run for an online migration (--dry-run).
Result<std::vector<std::string>> OnlinePlanStatements(pg::Connection& connection,
                                                      const Migration& migration,
                                                      const std::string& schema) {
  std::vector<std::string> out;
  expand::Plan plan;
  TANDEM_ASSIGN_OR_RETURN(auto state,
                          expand::ReadOnlineState(connection, schema, migration.version));
  if (state && (state->state == "expanding" || state->state == "expanded")) {
    plan = state->plan;
  } else {
    TANDEM_ASSIGN_OR_RETURN(plan, expand::PlanMigration(connection, migration));
  }
  for (size_t i = 0; i < plan.expand.size(); ++i) {
    out.push_back("-- online expand step " + std::to_string(i + 1) + ": " + plan.expand[i].name);
    for (const auto& sql : plan.expand[i].sql) out.push_back(sql);
  }
  if (plan.backfill) {
    out.push_back("-- online backfill, run here in batches of ctid ranges:\n" + plan.backfill->sql);
  }
  return out;
}

// Forgets an online migration's state, steps and backfill job, so that `tandem up` expands it
// again as the first time (development: an aborted migration otherwise stays aborted). The job
// is deleted only once it is done with (cancelled by the abort, succeeded or failed).
Status ForgetOnline(pg::Connection& connection, const std::string& schema,
                    const std::string& version) {
  std::string s = pg::QuoteIdentifier(schema);
  std::vector<pg::PipelineStep> steps = {
      {"BEGIN", {}},
      {"DELETE FROM " + s +
           ".jobs WHERE kind = 'background' AND version = $1 AND status IN ('cancelled', "
           "'succeeded', 'failed')",
       {version}},
      {"DELETE FROM " + s + ".online_steps WHERE version = $1", {version}},
      {"DELETE FROM " + s + ".online_migrations WHERE version = $1", {version}},
      {"INSERT INTO " + s +
           ".events (version, event, actor, detail) VALUES ($1, 'reverted', $2, "
           "'{\"online\": true}')",
       {version, Actor()}},
      {"COMMIT", {}}};
  Status status = connection.ExecPipeline(steps).error;
  if (!status.ok() && connection.in_transaction()) connection.Exec("ROLLBACK");
  return status;
}

// `tandem down` of an online migration not completed: its abort (schema and rows as before).
ApplyOutcome DownOnline(pg::Connection& connection, const Migration& migration,
                        const expand::OnlineState& state, const DownOptions& options) {
  auto started = std::chrono::steady_clock::now();
  expand::ExecOptions exec = options.online;
  exec.schema = options.schema;
  ApplyOutcome outcome;
  for (const auto& step : state.plan.expand)
    outcome.statements_total += static_cast<int>(step.undo.size());
  Status status = expand::Abort(connection, migration.version, exec);
  if (status.ok()) status = ForgetOnline(connection, options.schema, migration.version);
  outcome.duration =
      std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started);
  outcome.succeeded = status.ok();
  if (status.ok()) {
    outcome.statements_done = outcome.statements_total;
    outcome.notices.push_back(
        "online: the expand was undone (tandem abort): the schema and "
        "every row are as before the migration");
  } else {
    outcome.error = status;
  }
  return outcome;
}

// What the abort of an online migration would run (down --dry-run): the undo of each expand
// step done, newest first.
std::vector<std::string> AbortStatements(const expand::OnlineState& state) {
  std::vector<std::string> out;
  const auto& steps = state.plan.expand;
  for (int i = static_cast<int>(steps.size()); i >= 1; --i) {
    if (steps[i - 1].undo.empty()) continue;
    out.push_back("-- undo of online expand step " + std::to_string(i) + ": " + steps[i - 1].name);
    for (const auto& sql : steps[i - 1].undo) out.push_back(sql);
  }
  if (state.job_id != 0) {
    out.push_back("-- backfill job " + std::to_string(state.job_id) +
                  " cancelled if unfinished, then forgotten with the online state");
  }
  return out;
}

}  // namespace

RunReport Up(pg::Connection& connection, MigrationSet& files, const UpOptions& options) {
  RunReport report;
  auto locked =
      LockAndReadHistory(connection, files, options.schema, options.lock_wait, options.to_version);
  if (!locked.ok()) {
    report.status = locked.status();
    return report;
  }
  const std::vector<HistoryRow>* history = &locked->history;
  std::vector<StatusEntry> entries = ComputeStatus(files, *history);

  // Everything that must be refused is refused before anything changes.
  std::vector<std::string> drifted, out_of_order;
  std::vector<StatusEntry*> todo;
  for (StatusEntry& e : entries) {
    if (e.state == MigrationState::kDrifted) drifted.push_back(e.version);
    if (e.state == MigrationState::kMissingFile) {
      report.warnings.push_back("applied migration " + e.version + " (" + e.name +
                                ") has no file in " + files.directory);
    }
    bool runnable = e.state == MigrationState::kPending || e.state == MigrationState::kFailed;
    if (!runnable) continue;
    if (options.to_version && files.Compare(e.version, *options.to_version) > 0) continue;
    if (options.include && !options.include(*e.migration)) continue;
    if (e.out_of_order) out_of_order.push_back(e.version);
    todo.push_back(&e);
  }
  if (!drifted.empty()) {
    std::string list;
    for (const auto& v : drifted) list += (list.empty() ? "" : ", ") + v;
    if (!options.allow_drift) {
      report.status = Status::Failed("applied migrations were edited since they ran: " + list)
                          .WithDetail(
                              "their files no longer match the checksum recorded when they ran, so "
                              "the schema may not be what the files say")
                          .WithHint(
                              "restore the files (git checkout), or write a new migration for the "
                              "change; --allow-drift runs anyway");
      return report;
    }
    report.warnings.push_back("running despite drifted migrations (--allow-drift): " + list);
  }
  if (!out_of_order.empty()) {
    std::string list;
    for (const auto& v : out_of_order) list += (list.empty() ? "" : ", ") + v;
    if (options.strict_order) {
      report.status =
          Status::Failed("pending migrations are older than the newest applied one: " + list)
              .WithDetail("--strict-order refuses to apply migrations out of version order")
              .WithHint("rename them to a newer version, or drop --strict-order");
      return report;
    }
    report.warnings.push_back("applying out of order (older than the newest applied): " + list);
  }
  for (StatusEntry* e : todo) {
    Status split = SplitSections(*const_cast<Migration*>(e->migration));
    if (split.ok()) split = CheckResume(*e->migration, e->row);
    if (!split.ok()) {
      report.status = split;
      return report;
    }
  }
  // Applied online migrations whose backfill a killed `tandem up` cut short: finished here.
  std::vector<StatusEntry*> backfills;
  if (AnyOnline(files)) {
    for (StatusEntry& e : entries) {
      if (e.state != MigrationState::kApplied || !e.migration || !e.migration->online) continue;
      if (options.to_version && files.Compare(e.version, *options.to_version) > 0) continue;
      auto left = expand::BackfillLeft(connection, options.schema, e.version);
      if (!left.ok()) {
        report.status = left.status();
        return report;
      }
      if (*left) backfills.push_back(&e);
    }
  }
  if (todo.empty() && backfills.empty()) {
    report.nothing_to_do = true;
    return report;
  }
  if (options.dry_run) {
    for (StatusEntry* e : backfills) {
      MigrationRun run;
      run.version = e->version;
      run.name = e->name;
      run.phase = e->phase;
      run.action = "would-apply";
      run.statements.push_back("-- online backfill left unfinished: run here to its end");
      report.runs.push_back(std::move(run));
    }
    for (StatusEntry* e : todo) {
      MigrationRun run;
      run.version = e->version;
      run.name = e->name;
      run.phase = e->phase;
      run.action = "would-apply";
      run.out_of_order = e->out_of_order;
      if (e->migration->online) {
        auto planned = OnlinePlanStatements(connection, *e->migration, options.schema);
        if (!planned.ok()) {
          report.status = planned.status();
          return report;
        }
        run.statements = std::move(*planned);
      } else {
        for (const auto& s : e->migration->up.statements) run.statements.push_back(s.sql);
      }
      report.runs.push_back(std::move(run));
    }
    return report;
  }
  if (Status s = EnsureStateSchema(connection, options.schema); !s.ok()) {
    report.status = s;
    return report;
  }
  for (StatusEntry* e : backfills) {
    MigrationRun run;
    run.version = e->version;
    run.name = e->name;
    run.phase = e->phase;
    auto started = std::chrono::steady_clock::now();
    expand::DevelopmentOptions online = options.online;
    online.exec.schema = options.schema;
    Status status = expand::FinishBackfill(connection, e->version, online);
    run.outcome.duration =
        std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started);
    run.outcome.succeeded = status.ok();
    run.outcome.error = status;
    run.action = status.ok() ? "applied" : "failed";
    if (status.ok()) run.outcome.notices.push_back(CompleteNotice(e->version));
    report.runs.push_back(std::move(run));
    if (!status.ok()) {
      report.status = status;
      return report;
    }
  }
  // Consecutive plain migrations go to ApplyUpAll together; each online one runs on its own.
  std::vector<ApplyOutcome> outcomes;
  for (size_t i = 0; i < todo.size();) {
    if (todo[i]->migration->online) {
      outcomes.push_back(UpOnline(connection, *todo[i]->migration, options));
      if (!outcomes.back().succeeded) break;
      ++i;
      continue;
    }
    std::vector<UpItem> items;
    for (; i < todo.size() && !todo[i]->migration->online; ++i) {
      StatusEntry* e = todo[i];
      ApplyOptions apply;
      apply.schema = options.schema;
      apply.limits = WithMigrationLimits(*e->migration, options.limits);
      apply.out_of_order = e->out_of_order;
      items.push_back({e->migration, e->row, std::move(apply)});
    }
    std::vector<ApplyOutcome> part = ApplyUpAll(connection, items);
    bool failed = part.empty() || !part.back().succeeded;
    for (auto& o : part) outcomes.push_back(std::move(o));
    if (failed) break;
  }
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const StatusEntry* e = todo[i];
    MigrationRun run;
    run.version = e->version;
    run.name = e->name;
    run.phase = e->phase;
    run.out_of_order = e->out_of_order;
    run.outcome = std::move(outcomes[i]);
    run.action = run.outcome.succeeded ? "applied" : "failed";
    if (!run.outcome.succeeded) report.status = run.outcome.error;
    report.runs.push_back(std::move(run));
  }
  return report;
}

RunReport Down(pg::Connection& connection, MigrationSet& files, const DownOptions& options) {
  RunReport report;
  auto locked =
      LockAndReadHistory(connection, files, options.schema, options.lock_wait, options.to_version);
  if (!locked.ok()) {
    report.status = locked.status();
    return report;
  }
  const std::vector<HistoryRow>* history = &locked->history;
  if (!options.to_version && options.steps < 1) {
    report.status = Status::InvalidInput("--steps must be at least 1");
    return report;
  }
  std::vector<StatusEntry> entries = ComputeStatus(files, *history);
  std::vector<StatusEntry*> targets;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    bool applied = it->state == MigrationState::kApplied || it->state == MigrationState::kDrifted ||
                   it->state == MigrationState::kMissingFile;
    if (!applied) continue;
    if (options.to_version) {
      if (files.Compare(it->version, *options.to_version) <= 0) break;
    } else if (static_cast<int>(targets.size()) >= options.steps) {
      break;
    }
    targets.push_back(&*it);
  }
  // Online migrations among the targets: their state decides how they are reverted.
  std::map<std::string, expand::OnlineState> online;
  if (AnyOnline(files)) {
    auto states = expand::ReadOnlineStates(connection, options.schema);
    if (!states.ok()) {
      report.status = states.status();
      return report;
    }
    for (auto& st : *states) online[st.version] = std::move(st);
  }
  // An online migration that has not been completed is undone by its abort: no down section.
  auto aborts = [&](const StatusEntry* e) {
    auto it = online.find(e->version);
    return e->migration && e->migration->online && it != online.end() &&
           it->second.state != "completed" && it->second.state != "aborted";
  };
  // Validate every target before reverting any.
  for (StatusEntry* e : targets) {
    if (!e->migration) {
      report.status = Status::InvalidInput("cannot revert " + e->version + " (" + e->name +
                                           "): its file is missing from " + files.directory)
                          .WithHint("restore the file, or revert by hand");
      return report;
    }
    Migration& m = *const_cast<Migration*>(e->migration);
    if (aborts(e)) continue;
    if (m.online && !m.down.present && online.count(m.version)) {
      report.status =
          Status::InvalidInput("online migration " + m.version +
                               " is completed and has no down section")
              .WithLocation({m.paths.empty() ? "" : m.paths.front(), m.up.location.line, 0})
              .WithDetail(
                  "its contract dropped the old columns, tables or views, so undoing the expand "
                  "cannot bring them back")
              .WithHint(
                  "add a -- migrate:down section that changes the schema back, or write a "
                  "new migration");
      return report;
    }
    if (!m.down.present) {
      report.status =
          Status::InvalidInput("migration " + m.version + " has no down section")
              .WithLocation({m.paths.empty() ? "" : m.paths.front(), m.up.location.line, 0})
              .WithHint(DownSectionHint(files.layout, m));
      return report;
    }
    if (e->state == MigrationState::kDrifted) {
      report.warnings.push_back("reverting " + m.version +
                                " although its file changed since it was applied");
    }
    Status split = SplitDownSection(m);
    if (!split.ok()) {
      report.status = split;
      return report;
    }
  }
  if (targets.empty()) {
    report.nothing_to_do = true;
    return report;
  }
  for (StatusEntry* e : targets) {
    MigrationRun run;
    run.version = e->version;
    run.name = e->name;
    run.phase = e->phase;
    if (options.dry_run) {
      run.action = "would-revert";
      if (aborts(e)) {
        run.statements = AbortStatements(online[e->version]);
      } else {
        for (const auto& s : e->migration->down.statements) run.statements.push_back(s.sql);
      }
      report.runs.push_back(std::move(run));
      continue;
    }
    if (aborts(e)) {
      run.outcome = DownOnline(connection, *e->migration, online[e->version], options);
    } else {
      ApplyOptions apply;
      apply.schema = options.schema;
      apply.limits = WithMigrationLimits(*e->migration, options.limits);
      run.outcome = ApplyDown(connection, *e->migration, apply);
      // A completed online migration reverted by its down section: its online state goes, so
      // that `up` expands it anew.
      if (run.outcome.succeeded && e->migration->online && online.count(e->version)) {
        if (Status s = ForgetOnline(connection, options.schema, e->version); !s.ok()) {
          run.outcome.succeeded = false;
          run.outcome.error = s;
        }
      }
    }
    run.action = run.outcome.succeeded ? "reverted" : "failed";
    bool failed = !run.outcome.succeeded;
    if (failed) report.status = run.outcome.error;
    report.runs.push_back(std::move(run));
    if (failed) break;
  }
  return report;
}

}  // namespace tandem::migrate
