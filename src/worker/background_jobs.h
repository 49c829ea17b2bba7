// The worker's seam to background migrations: runs one claimed background job on the worker's
// job connection (src/background/runner.h), with SIGTERM cancelling the batch in flight (it rolls
// back with its cursor; the job is given back).
#pragma once

#include "background/runner.h"
#include "jobs/job.h"
#include "pg/connection.h"
#include "worker/worker.h"

namespace tandem::worker {

// `stop` (may be null): checked at batch boundaries, true gives the job up unrecorded.
background::RunResult RunBackgroundJob(pg::Connection& connection, const WorkerOptions& options,
                                       const jobs::Job& job, std::function<bool()> stop = nullptr);

}  // namespace tandem::worker
