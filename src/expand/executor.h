// Running an online migration's plan (plan.h) against the database, step by step, with each
// step recorded in tandem.online_steps:
//
//   Expand    (tandem release)   the expand steps, then the backfill queued as a background job
//   Complete  (tandem complete)  the contract steps, once the backfill has succeeded: queued as
//                                a job of kind "contract" for the worker, or run at once (--now)
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
  std::string layout = "tandem";        // the version order a queued contract job sorts by
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
  // "ready to complete", "contracting (job 5, queued)", "completed", "aborted",
  // "failed at expand step 2: <message>".
  std::string description;
  long long job_id = 0;
  std::string job_status;
  std::string failed_stage;
  int failed_step = 0;
  std::string error;
  int steps_done = 0;
  long long contract_job_id = 0;  // the job `tandem complete` queued, if any
  std::string contract_job_status;
  int contract_steps_done = 0;  // once above 0 the contract cannot be aborted
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

// The contract: refuses unless the expand is done and the backfill (if any) has succeeded
// (kInvalidInput when no such online migration was released, kFailed otherwise). Runs the
// contract steps not yet recorded; then the state is completed. Completed already: Ok. The
// caller holds the runner lock (the worker running a contract job holds it too), so that no
// abort, release or second contract runs meanwhile.
Status Complete(pg::Connection& connection, const std::string& version, const ExecOptions& options);

// `tandem complete VERSION --now`: Complete, and when a contract job was queued for the version
// and is not done, it is claimed and its outcome recorded (this process runs it instead of the
// worker; a job whose worker died is taken over). Under the runner lock, as Complete.
Status CompleteNow(pg::Connection& connection, const std::string& version,
                   const ExecOptions& options);

// `tandem complete VERSION`: the same checks as Complete, then the contract queued as a job for
// the worker (jobs::QueueContract). Idempotent: a job queued or running already is returned as
// it is; a failed or cancelled one is queued again (the contract goes on from the first step not
// recorded). Needs no runner lock: the worker checks the state again under it before it runs.
struct QueuedContract {
  bool completed = false;  // nothing to do: the migration is completed
  bool created = false;    // queued by this call
  bool requeued = false;   // a failed or cancelled job queued again by this call
  long long job_id = 0;
  std::string job_status;
};
Result<QueuedContract> QueueComplete(pg::Connection& connection, const std::string& version,
                                     const ExecOptions& options);

// Undoes the expand from any state before the first contract step has run: cancels the backfill
// job and a contract job that has not started, runs the undo of each recorded expand step
// newest first (each undo recorded, so a rerun skips it), forgets the migration's row in
// tandem.migrations (so that a later release could run it again), and records the state
// aborted. Once a contract step is recorded it refuses (kFailed) and changes nothing: the
// contract drops the old columns, tables or triggers, and only `tandem complete` can go on.
// The caller holds the runner lock.
Status Abort(pg::Connection& connection, const std::string& version, const ExecOptions& options);

}  // namespace tandem::expand
