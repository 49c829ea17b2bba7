// Running an online migration's plan (plan.h) against the database, step by step, with each
// step recorded in tandem.online_steps:
//
//   Expand    (tandem release)   the expand steps, then the backfill queued as a background job
//   Complete  (tandem complete)  the contract steps, once the backfill has succeeded
//   Abort     (tandem abort)     the undo of every expand step done, newest first; the
//                                backfill job cancelled
//
// A transactional step commits together with its row in online_steps, so it is done exactly
// once whatever happens to the process; a step that cannot run in a transaction (CREATE INDEX
// CONCURRENTLY) is written to be idempotent (IF NOT EXISTS, an invalid leftover dropped
// first) and recorded after it. `kill -9` at any point, then the same command again, goes on
// from the first step not recorded. Catalog-only steps run under lock_timeout and are retried
// with backoff on a lock timeout or deadlock within the retry budget (release.h), naming the
// blockers; no step holds a lock that blocks the app while it scans.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "config/config.h"
#include "expand/plan.h"
#include "migrate/migration.h"
#include "pg/connection.h"

namespace tandem::expand {

struct ExecOptions {
  std::string schema = "tandem";
  config::ReleaseSettings settings;     // lock_timeout, statement_timeout, retry budget, backoff
  std::string actor;                    // who (jobs::ResolveActor)
  std::function<void(Duration)> sleep;  // injected for tests; default interrupt::SleepFor
  // Called after each step is recorded (tests use it to die at a step boundary).
  std::function<void(const std::string& stage, int step)> after_step;
};

// The state of one online migration, as `tandem status` and `tandem plan` name it.
struct OnlineState {
  std::string version;
  std::string name;
  // expanding, expanded, contracting, completed, aborting, aborted (the stored state)
  std::string state;
  // What a person reads: "expanding (step 2 of 3)", "backfilling (job 4, running)",
  // "ready to complete", "completed", "aborted", "failed at expand step 2: <message>".
  std::string description;
  long long job_id = 0;
  std::string job_status;
  std::string failed_stage;
  int failed_step = 0;
  std::string error;
  int steps_done = 0;
  Plan plan;
};

// Every online migration recorded in `schema` (empty when the tables do not exist yet).
Result<std::vector<OnlineState>> ReadOnlineStates(pg::Connection& connection,
                                                  const std::string& schema);
Result<std::optional<OnlineState>> ReadOnlineState(pg::Connection& connection,
                                                   const std::string& schema,
                                                   const std::string& version);

// The expand of `migration` (online, sections split): plans it on the first run (or reads the
// stored plan on a rerun), runs the expand steps not yet recorded, queues the backfill job,
// and records the migration as applied in tandem.migrations. The caller holds the runner lock
// and has ensured the state schema. kFailed naming the step when a step fails (recorded:
// `tandem status` names it; rerun or `tandem abort`).
Status Expand(pg::Connection& connection, const migrate::Migration& migration,
              const ExecOptions& options);

// The contract: refuses unless the expand is done and the backfill (if any) has succeeded,
// unless `force`. Runs the contract steps not yet recorded; then the state is completed.
Status Complete(pg::Connection& connection, const std::string& version, const ExecOptions& options);

// Undoes the expand from any state before completed: cancels the backfill job, runs the undo
// of each recorded expand step newest first (each undo recorded, so a rerun skips it), forgets
// the migration's row in tandem.migrations (so that a later release could run it again), and
// records the state aborted.
Status Abort(pg::Connection& connection, const std::string& version, const ExecOptions& options);

}  // namespace tandem::expand
