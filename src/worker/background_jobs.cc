#include "worker/background_jobs.h"

#include "background/throttle.h"
#include "base/interrupt.h"

namespace tandem::worker {

background::RunResult RunBackgroundJob(pg::Connection& connection, const WorkerOptions& options,
                                       const jobs::Job& job, std::function<bool()> stop) {
  background::RunnerSettings settings =
      background::SettingsFrom(options.background, options.settings.max_attempts);
  settings.seed = options.seed;
  settings.stop = std::move(stop);
  // Without the watch (its connection refused) the other signals still throttle.
  std::unique_ptr<background::BlockWatch> watch;
  if (auto started = background::BlockWatch::Start(connection.url(), connection.backend_pid());
      started.ok()) {
    watch = std::move(*started);
  }
  background::ThrottleCheck throttle = [&]() {
    config::BackgroundSettings limits =
        options.reload_background ? options.reload_background() : options.background;
    return background::CheckThrottle(connection, limits, watch.get());
  };
  interrupt::CancelHook cancel_on_signal([&connection] { connection.RequestCancel(); });
  return background::RunJob(connection, options.schema, job, settings, throttle);
}

}  // namespace tandem::worker
