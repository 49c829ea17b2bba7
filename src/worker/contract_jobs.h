// The worker's seam to online migrations' contract jobs (`tandem complete VERSION` without
// --now, src/expand/executor.h): runs a claimed contract job's steps on the worker's job
// connection, with the release settings (catalog-only steps under lock_timeout, retried with
// backoff within the retry budget). The caller holds the runner lock, as `complete --now` does,
// so that no release, abort or second contract runs meanwhile, and records the job's outcome.
#pragma once

#include "base/status.h"
#include "jobs/job.h"
#include "pg/connection.h"
#include "worker/log.h"
#include "worker/worker.h"

namespace tandem::worker {

struct ContractRun {
  Status status;                   // of the contract (Ok: the migration is completed now)
  bool aborted = false;            // aborted after the job was queued: nothing ran
  bool completed_already = false;  // completed before (by `complete --now`): nothing ran
  int steps_done = 0;              // contract steps recorded
  int steps_total = 0;
};

// Each step done is logged and recorded as the job's progress (statements_done).
ContractRun RunContractJob(pg::Connection& connection, const WorkerOptions& options,
                           const jobs::Job& job, Log& log);

}  // namespace tandem::worker
