// The migration runner: `tandem up` and `tandem down` (and the engine `tandem release` builds
// on). Takes the runner lock, reads the history, refuses what must be refused before changing
// anything (drift, out-of-order under --strict-order, SQL that does not parse, unknown
// versions, missing down sections), then applies or reverts migrations one by one.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "expand/develop.h"
#include "migrate/apply.h"
#include "migrate/history.h"
#include "migrate/migration.h"
#include "pg/connection.h"

namespace tandem::migrate {

struct MigrationRun {
  std::string version;
  std::string name;
  Phase phase = Phase::kPreDeploy;
  // applied, failed, would-apply (dry run), reverted, would-revert
  std::string action;
  bool out_of_order = false;
  ApplyOutcome outcome;
  std::vector<std::string> statements;  // dry run: what would run
};

struct RunReport {
  std::vector<MigrationRun> runs;
  std::vector<std::string> warnings;  // drift allowed, out of order, missing files
  Status status;                      // the first failure, or ok
  bool nothing_to_do = false;
};

struct UpOptions {
  std::string schema = "tandem";
  Duration lock_wait{60'000};
  bool allow_drift = false;
  bool strict_order = false;
  bool dry_run = false;
  std::optional<std::string> to_version;  // apply up to and including this version
  SessionLimits limits;
  // Which migrations to apply; default: every phase.
  std::function<bool(const Migration&)> include = nullptr;
  // Online migrations (-- tandem:online): how their expand and foreground backfill run
  // (online.schema is set from `schema`).
  expand::DevelopmentOptions online;
};

// Applies pending (and failed) migrations in version order; stops at the first failure. An
// online migration is not applied as written: its expand runs (the steps `tandem release`
// runs, recorded the same way) and then its backfill, here in the foreground, so that both
// the old and the new names work; an applied one whose backfill was cut short (a killed
// `tandem up`) gets it finished. The contract is left to `tandem complete VERSION --now`.
RunReport Up(pg::Connection& connection, MigrationSet& files, const UpOptions& options);

struct DownOptions {
  std::string schema = "tandem";
  Duration lock_wait{60'000};
  bool dry_run = false;
  std::optional<std::string> to_version;  // revert everything newer than this version
  int steps = 1;                          // used when to_version is not set
  SessionLimits limits;
  expand::ExecOptions online;  // online.schema is set from `schema`
};

// Reverts applied migrations, newest first. An online migration not completed is aborted
// (`tandem abort`: schema and rows as before it); a completed one needs its down section.
// Either way its online state and backfill job are forgotten, so that `up` expands it anew.
RunReport Down(pg::Connection& connection, MigrationSet& files, const DownOptions& options);

}  // namespace tandem::migrate
