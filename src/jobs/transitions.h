// The transitions of job.h's state machine. Each runs in one transaction: it locks the row
// (FOR UPDATE), checks the job is in a state the transition allows, updates it, appends a
// `job.<new state>` event to tandem.events and NOTIFYs kNotifyChannel. A transition from a state
// it does not allow is kFailed (exit 1) naming the state and what can be done instead; an
// unknown id is kInvalidInput (exit 2).
//
// Event detail (a JSON object, the contract the notifier, metrics and dashboard read):
//   {"job": 7, "kind": "post-deploy", "name": "...", "from": "running", "to": "failed",
//    "reason": "...", "attempt": 2, "duration_ms": 1234, "lock_timeouts": 3,
//    "statements_done": 2, "statements_total": 5, "next_attempt_at": "...",   (retrying)
//    "error": {"sqlstate": "...", "message": "...", "statement": "...", "file": "...",
//              "line": 3, "column": 1}}                                         (failed, retrying)
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "jobs/job.h"
#include "migrate/migration.h"
#include "pg/connection.h"

namespace tandem::jobs {

struct Change {
  std::string actor;   // ResolveActor
  std::string reason;  // why, in words (optional for people)
};

// `tandem release`: a job per post-deploy or background migration, `queued` (or
// `awaiting-approval` when approval is required), with its SQL. Sections must be split for
// post-deploy migrations. Runs inside the caller's transaction (release queues together with
// the migrations rows); a job that already exists for the version is left as it is.
Status QueueJobs(pg::Connection& connection, const std::string& schema,
                 const std::vector<const migrate::Migration*>& migrations, bool require_approval,
                 const Change& change, std::string_view layout);
// The same as pipeline steps, for a caller that sends them with work of its own (release sends
// a whole release's queue in one round trip).
std::vector<pg::PipelineStep> QueueJobSteps(
    const std::string& schema, const std::vector<const migrate::Migration*>& migrations,
    bool require_approval, const Change& change, std::string_view layout);

// `tandem complete VERSION` (without --now): a job of kind "contract" that runs an online
// migration's contract steps (src/expand/executor.h). The worker runs the plan stored with the
// online migration; `sql` is the steps' SQL, for people (`jobs show`). Queued and approved (the
// person completing it is the approval), after every post-deploy job of an older version. A
// job that exists for the version already is returned as it is, with `created` false.
struct ContractJob {
  std::string version;
  std::string name;
  std::string layout;    // the version order of the set (as QueueJobs' layout)
  std::string sql;       // the contract steps, for people
  std::string checksum;  // the migration's, as released (drift is reported against it)
  int steps = 0;         // statements_total
};
struct Queued {
  Job job;
  bool created = false;
};
Result<Queued> QueueContract(pg::Connection& connection, const std::string& schema,
                             const ContractJob& contract, const Change& change);
// The contract job of `version`, if any (without its SQL).
Result<std::optional<Job>> FindContractJob(pg::Connection& connection, const std::string& schema,
                                           const std::string& version);
// A running job's progress in steps (a contract job after each step): no event, no NOTIFY.
Status RecordStepsDone(pg::Connection& connection, const std::string& schema, long long id,
                       int done);

// People (`tandem jobs ...`, the dashboard).
Result<Job> Pause(pg::Connection& connection, const std::string& schema, long long id,
                  const Change& change);  // queued, awaiting-approval, retrying -> paused;
                                          // running: requested = 'pause' (the worker stops it)
Result<Job> Resume(pg::Connection& connection, const std::string& schema, long long id,
                   const Change& change);  // paused -> queued (awaiting-approval if unapproved)
Result<Job> Retry(pg::Connection& connection, const std::string& schema, long long id,
                  const Change& change);  // failed, cancelled, retrying -> queued, now
Result<Job> Cancel(pg::Connection& connection, const std::string& schema, long long id,
                   const Change& change);  // any but succeeded; running: requested = 'cancel'
Result<Job> Approve(pg::Connection& connection, const std::string& schema, long long id,
                    const Change& change);  // awaiting-approval -> queued (paused: approved)
// `--all`: every job the transition applies to; returns those changed.
Result<std::vector<Job>> PauseAll(pg::Connection& connection, const std::string& schema,
                                  const Change& change);
Result<std::vector<Job>> ResumeAll(pg::Connection& connection, const std::string& schema,
                                   const Change& change);
Result<std::vector<Job>> ApproveAll(pg::Connection& connection, const std::string& schema,
                                    const Change& change);

// The worker (which holds the worker lock, so no other worker runs jobs on this database).
// queued, retrying (when due) or running (taken over from a worker that died) -> running.
// The job comes back with its SQL, ready to run.
Result<Job> Claim(pg::Connection& connection, const std::string& schema, long long id,
                  const Change& change);

struct Outcome {
  JobStatus to = JobStatus::kSucceeded;  // succeeded, failed, retrying, paused, cancelled, queued
  Duration duration{0};                  // of this attempt
  int lock_timeouts = 0;
  int statements_done = 0;
  int statements_total = 0;
  Duration retry_after{0};  // retrying: the backoff before the next attempt
  std::optional<JobError> error;
};
// running -> outcome.to (queued: given back on shutdown, the attempt not counted).
Result<Job> Finish(pg::Connection& connection, const std::string& schema, long long id,
                   const Outcome& outcome, const Change& change);

// Runs of jobs (the worker applies consecutive small jobs together, as `tandem up` applies
// consecutive migrations): the same transitions for several jobs in one statement each.
// ClaimRun claims those of `ids` that are still queued with no request pending, and returns them
// with their SQL, in the order of `ids`.
Result<std::vector<Job>> ClaimRun(pg::Connection& connection, const std::string& schema,
                                  const std::vector<long long>& ids, const Change& change);
struct RunOutcome {
  long long id = 0;
  JobStatus to = JobStatus::kSucceeded;  // succeeded, or queued / paused / cancelled (not run)
  Duration duration{0};
  int statements = 0;  // statements applied (succeeded) or recorded so far
  std::string reason;
};
// running -> each outcome's state, with one event each, in one statement. "queued" gives the
// job back without counting the attempt.
Status FinishRun(pg::Connection& connection, const std::string& schema,
                 const std::vector<RunOutcome>& outcomes, const std::string& actor);
// Background migrations: the progress of a job is recorded inside each batch's own transaction,
// with the batch, so that a batch and its cursor commit together or not at all. Neither is a
// state change: no event, no NOTIFY (a batch every 200 ms would flood both).
struct LockedProgress {
  bool running = false;   // false: the job is no longer running (a person or a worker moved it)
  std::string requested;  // "pause" or "cancel" when a person asked to stop it
  std::string progress;   // the progress document (JSON text)
};
// Locks the job's row (FOR UPDATE) until the caller's transaction ends: a second runner of the
// same job waits here until the first one's batch has committed or rolled back.
Result<LockedProgress> LockProgress(pg::Connection& connection, const std::string& schema,
                                    long long id);
// After LockProgress, in the same transaction: the new progress document.
Status RecordProgress(pg::Connection& connection, const std::string& schema, long long id,
                      const std::string& progress);

}  // namespace tandem::jobs
