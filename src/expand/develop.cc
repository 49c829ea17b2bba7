// The expand and the backfill in the foreground, for `tandem up` (develop.h).
#include "expand/develop.h"

#include <chrono>

#include "jobs/job.h"
#include "jobs/transitions.h"

namespace tandem::expand {

Status ExpandAndBackfill(pg::Connection& connection, const migrate::Migration& migration,
                         const DevelopmentOptions& options) {
  TANDEM_RETURN_IF_ERROR(Expand(connection, migration, options.exec));
  return FinishBackfill(connection, migration.version, options);
}

Result<bool> BackfillLeft(pg::Connection& connection, const std::string& schema,
                          const std::string& version) {
  TANDEM_ASSIGN_OR_RETURN(auto state, ReadOnlineState(connection, schema, version));
  if (!state || state->state != "expanded" || state->job_id == 0) return false;
  return state->job_status != "succeeded";
}

Status FinishBackfill(pg::Connection& connection, const std::string& version,
                      const DevelopmentOptions& options) {
  const std::string& schema = options.exec.schema;
  TANDEM_ASSIGN_OR_RETURN(auto state, ReadOnlineState(connection, schema, version));
  if (!state || state->state != "expanded" || state->job_id == 0) return Status::Ok();
  TANDEM_ASSIGN_OR_RETURN(auto found, jobs::FindJob(connection, schema, state->job_id));
  if (!found) return Status::Ok();
  jobs::Job job = *found;
  if (job.status == jobs::JobStatus::kSucceeded) return Status::Ok();
  jobs::Change change{options.exec.actor, "backfill of online migration " + version +
                                              " run in the foreground by tandem up"};
  // As `tandem jobs finalize`: a paused, failed or cancelled job is queued again first.
  if (job.status == jobs::JobStatus::kPaused) {
    TANDEM_RETURN_IF_ERROR(jobs::Resume(connection, schema, job.id, change).status());
  }
  if (job.status == jobs::JobStatus::kFailed || job.status == jobs::JobStatus::kCancelled) {
    TANDEM_RETURN_IF_ERROR(jobs::Retry(connection, schema, job.id, change).status());
  }
  // Queued, or running under a `tandem up` that was killed: claimed (taken over) here. The
  // batches are the worker's, with the compare-and-set cursor, so a worker running the same
  // job meanwhile never repeats a range.
  TANDEM_RETURN_IF_ERROR(jobs::Claim(connection, schema, job.id, change).status());
  TANDEM_ASSIGN_OR_RETURN(auto claimed, jobs::FindJob(connection, schema, job.id));
  if (!claimed) return Status::Failed("backfill job " + std::to_string(job.id) + " disappeared");
  auto started = std::chrono::steady_clock::now();
  background::RunResult result =
      background::RunJob(connection, schema, *claimed, options.backfill, nullptr, options.on_batch);
  if (result.lost) {
    return Status::Unavailable(
               "lost the connection while running the backfill of online "
               "migration " +
               version + " (job " + std::to_string(job.id) + "): " + result.reason)
        .WithHint("the committed batches stay; run \"tandem up\" again to go on");
  }
  jobs::Outcome outcome;
  outcome.to = result.to;
  outcome.error = result.error;
  outcome.duration =
      std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started);
  TANDEM_ASSIGN_OR_RETURN(jobs::Job finished, jobs::Finish(connection, schema, job.id, outcome,
                                                           {change.actor, result.reason}));
  if (finished.status == jobs::JobStatus::kSucceeded) return Status::Ok();
  Status failed = Status::Failed("the backfill of online migration " + version + " (job " +
                                 std::to_string(job.id) + ") is " +
                                 std::string(jobs::StatusName(finished.status)) +
                                 (result.reason.empty() ? "" : ": " + result.reason));
  if (result.error) {
    failed.WithDetail(result.error->message);
    if (!result.error->sqlstate.empty()) failed.WithSqlState(result.error->sqlstate);
  }
  return std::move(failed).WithHint("see \"tandem jobs show " + std::to_string(job.id) +
                                    "\"; fix the cause and run \"tandem up\" again, or undo the "
                                    "expand with \"tandem down\" (or \"tandem abort " +
                                    version + "\")");
}

}  // namespace tandem::expand
