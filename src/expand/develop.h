// `tandem up` of an online migration (development): the same recorded expand steps as
// `tandem release` (executor.h), then the backfill job run here, in the foreground, to its end
// (as `tandem jobs finalize` runs one), so that a developer gets the expanded state without a
// worker. The contract stays a person's decision: `tandem complete VERSION --now`.
#pragma once

#include <functional>
#include <string>

#include "background/progress.h"
#include "background/runner.h"
#include "base/status.h"
#include "expand/executor.h"
#include "migrate/migration.h"
#include "pg/connection.h"

namespace tandem::expand {

struct DevelopmentOptions {
  ExecOptions exec;
  background::RunnerSettings backfill;
  // Sees the backfill's progress after each committed batch.
  std::function<void(const background::Progress&)> on_batch;
};

// Expand (a rerun goes on from the first step not recorded), then FinishBackfill.
Status ExpandAndBackfill(pg::Connection& connection, const migrate::Migration& migration,
                         const DevelopmentOptions& options);

// Runs the remaining batches of an expanded online migration's backfill job here: ok at once
// when it has none or it has succeeded. A job left running by a killed `tandem up` is taken
// over from its committed cursor; a paused, failed or cancelled one is queued again first.
// kFailed when a batch fails (the job is recorded failed: `tandem status` names it).
Status FinishBackfill(pg::Connection& connection, const std::string& version,
                      const DevelopmentOptions& options);

// Whether the online migration `version` is expanded with a backfill that has not succeeded
// (what FinishBackfill would run).
Result<bool> BackfillLeft(pg::Connection& connection, const std::string& schema,
                          const std::string& version);

}  // namespace tandem::expand
