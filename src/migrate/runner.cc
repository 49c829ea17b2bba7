#include "migrate/runner.h"

#include <algorithm>

#include "migrate/layouts.h"
#include "migrate/runner_lock.h"
#include "migrate/state.h"

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
  if (todo.empty()) {
    report.nothing_to_do = true;
    return report;
  }
  if (options.dry_run) {
    for (StatusEntry* e : todo) {
      MigrationRun run;
      run.version = e->version;
      run.name = e->name;
      run.phase = e->phase;
      run.action = "would-apply";
      run.out_of_order = e->out_of_order;
      for (const auto& s : e->migration->up.statements) run.statements.push_back(s.sql);
      report.runs.push_back(std::move(run));
    }
    return report;
  }
  if (Status s = EnsureStateSchema(connection, options.schema); !s.ok()) {
    report.status = s;
    return report;
  }
  std::vector<UpItem> items;
  for (StatusEntry* e : todo) {
    ApplyOptions apply;
    apply.schema = options.schema;
    apply.limits = WithMigrationLimits(*e->migration, options.limits);
    apply.out_of_order = e->out_of_order;
    items.push_back({e->migration, e->row, std::move(apply)});
  }
  std::vector<ApplyOutcome> outcomes = ApplyUpAll(connection, items);
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
  // Validate every target before reverting any.
  for (StatusEntry* e : targets) {
    if (!e->migration) {
      report.status = Status::InvalidInput("cannot revert " + e->version + " (" + e->name +
                                           "): its file is missing from " + files.directory)
                          .WithHint("restore the file, or revert by hand");
      return report;
    }
    Migration& m = *const_cast<Migration*>(e->migration);
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
      for (const auto& s : e->migration->down.statements) run.statements.push_back(s.sql);
      report.runs.push_back(std::move(run));
      continue;
    }
    ApplyOptions apply;
    apply.schema = options.schema;
    apply.limits = WithMigrationLimits(*e->migration, options.limits);
    run.outcome = ApplyDown(connection, *e->migration, apply);
    run.action = run.outcome.succeeded ? "reverted" : "failed";
    bool failed = !run.outcome.succeeded;
    if (failed) report.status = run.outcome.error;
    report.runs.push_back(std::move(run));
    if (failed) break;
  }
  return report;
}

}  // namespace tandem::migrate
