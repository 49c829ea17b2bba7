// Runs one background job, batch by batch, until it is done, stopped by a person or a signal,
// or failed. Start here for the background folder.
//
// Each batch is ONE transaction on the runner's connection:
//   SET LOCAL lock_timeout, statement_timeout
//   lock the job row, compare its cursor with the one this runner expects (compare-and-set)
//   the migration's statement with :batch_start / :batch_end bound as $1 / $2
//   the new progress (cursor, rows done, ...) written to the job row
//   COMMIT
// so a batch and its cursor commit together or not at all, whatever happens to the worker. A
// second runner (a takeover) waits on the row lock for the first one's batch, then sees the
// cursor it committed. Between batches: a person's pause or cancel, a signal, throttling.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "background/progress.h"
#include "background/sizer.h"
#include "config/config.h"
#include "jobs/job.h"
#include "pg/connection.h"

namespace tandem::background {

struct RunnerSettings {
  SizerSettings sizer;
  Duration lock_timeout{2000};
  Duration statement_timeout{30'000};
  int max_attempts = 5;  // tries of one batch that fails with a transient error
  Duration backoff_initial{100};
  Duration backoff_max{5000};
  uint64_t seed = 0;
  // Checked at batch boundaries: true gives the job up without recording anything (the worker
  // lost its lock, so the next holder takes the job over from its committed cursor).
  std::function<bool()> stop;
};
RunnerSettings SettingsFrom(const config::BackgroundSettings& background, int max_attempts);

// Between batches: nullopt to go on, or why to wait ("replication lag", "5.2s").
struct ThrottleReason {
  std::string reason;
  std::string value;
};
using ThrottleCheck = std::function<std::optional<ThrottleReason>()>;

struct RunResult {
  jobs::JobStatus to = jobs::JobStatus::kSucceeded;  // succeeded, failed, paused, cancelled,
                                                     // queued (given back on a signal)
  std::string reason;
  std::optional<jobs::JobError> error;
  // The connection was lost (or the job is no longer this runner's): record nothing, the next
  // holder of the worker lock takes the job over from its committed cursor.
  bool lost = false;
  Progress progress;
};

// `job` must be running (claimed) and carry its SQL and batch directive.
// `on_batch` sees the progress after each committed batch (`tandem jobs finalize` prints it).
RunResult RunJob(pg::Connection& connection, const std::string& schema, const jobs::Job& job,
                 const RunnerSettings& settings, const ThrottleCheck& throttle = nullptr,
                 const std::function<void(const Progress&)>& on_batch = nullptr);

}  // namespace tandem::background
