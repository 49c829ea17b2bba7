// Throttling signals, checked by the runner between batches: while any is over its limit the job
// waits and shows `throttled` with the reason and the measured value.
//   - replication lag of any standby (pg_stat_replication: replay lag in time, and in bytes for
//     when the time is NULL on an idle standby);
//   - application queries blocked behind the batch, or the batch's own lock waits, watched from
//     a second connection while batches run (pg_blocking_pids);
//   - the user's probe, `throttle_query` in [background]: true means wait.
// The limits come from the caller every check, so a changed tandem.toml takes effect at once.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "background/runner.h"
#include "config/config.h"
#include "pg/connection.h"

namespace tandem::background {

// Watches the runner's session from its own connection (every 50 ms): how long the longest
// query blocked behind it has waited, and how long the runner itself has waited on a lock.
class BlockWatch {
 public:
  static Result<std::unique_ptr<BlockWatch>> Start(const pg::DatabaseUrl& url, int runner_pid);
  ~BlockWatch();
  // The longest wait seen since the last call (and resets it), in ms.
  long long TakeLongestBlockedMs() { return blocked_ms_.exchange(0); }
  long long TakeLongestOwnWaitMs() { return own_wait_ms_.exchange(0); }

 private:
  BlockWatch(std::unique_ptr<pg::Connection> connection, int runner_pid);
  void Loop();
  std::unique_ptr<pg::Connection> connection_;
  int runner_pid_;
  std::atomic<long long> blocked_ms_{0};
  std::atomic<long long> own_wait_ms_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// One check of every signal against `limits`, on the runner's connection (between batches, no
// transaction open). A throttle_query that fails throttles too: a broken probe must not let the
// job run unwatched. `watch` may be null.
std::optional<ThrottleReason> CheckThrottle(pg::Connection& connection,
                                            const config::BackgroundSettings& limits,
                                            BlockWatch* watch);

}  // namespace tandem::background
