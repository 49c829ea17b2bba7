#include "worker/background_jobs.h"

#include "base/interrupt.h"

namespace tandem::worker {

background::RunResult RunBackgroundJob(pg::Connection& connection, const WorkerOptions& options,
                                       const jobs::Job& job) {
  background::RunnerSettings settings =
      background::SettingsFrom(options.background, options.settings.max_attempts);
  settings.seed = options.seed;
  interrupt::CancelHook cancel_on_signal([&connection] { connection.RequestCancel(); });
  return background::RunJob(connection, options.schema, job, settings);
}

}  // namespace tandem::worker
