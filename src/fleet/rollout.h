// The rollout: one per-database operation run over many databases, in the order that keeps a
// bad change from reaching the whole fleet.
//
//   1. The canary group first, all of it (at most `concurrency` at once). Any failure there
//      and no other database is started.
//   2. Then the rest, in the configured order, with at most `concurrency` running at once: a
//      new database starts as soon as one finishes (a sliding window, not lock-step waves,
//      so one slow shard does not hold seven idle slots).
//   3. Once `max_failures` databases have failed (an unreachable one counts), no new one is
//      started; those already running finish. So is a SIGINT/SIGTERM.
//
// The operation owns everything per database (its connection, its locks, its retries): the
// rollout only decides who starts when, and collects one result per target. A failure on one
// database never touches another. Connections: the operation opens at most one at a time, so
// at most `concurrency` are open at once whatever the fleet size.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "fleet/targets.h"

namespace tandem::fleet {

enum class Outcome { kNotStarted, kRunning, kOk, kFailed, kUnreachable };
std::string_view OutcomeName(Outcome outcome);  // "not-started", "running", "ok", ...

struct TargetResult {
  std::string name;
  bool canary = false;
  Outcome outcome = Outcome::kNotStarted;
  Status error;  // for kFailed and kUnreachable
  Duration duration{0};
};

// Counts at one moment, for a progress line.
struct Progress {
  int done = 0;  // ok
  int running = 0;
  int failed = 0;  // failed or unreachable
  int queued = 0;  // not started yet
  Duration elapsed{0};
};

struct RolloutOptions {
  int concurrency = 8;
  int max_failures = 1;      // <= 0: never stop starting new ones (a read-only fan-out)
  std::string canary_group;  // empty: no canary stage
  // Called (serialized, on any thread) whenever a database starts or finishes.
  std::function<void(const Progress&)> on_progress;
};

struct RolloutReport {
  std::vector<TargetResult> results;  // in the targets' order
  bool canary_failed = false;         // the canary stage failed: nobody else was started
  bool stopped = false;               // max_failures reached or interrupted before the end
  int peak_running = 0;
  Duration duration{0};

  int Count(Outcome outcome) const;
  bool AllOk() const { return Count(Outcome::kOk) == static_cast<int>(results.size()); }
};

// The operation for one database. An error with SQLSTATE 08001 (kUnreachableSqlState, as
// ConnectTarget returns) counts as unreachable, any other error as failed.
using Operation = std::function<Status(const Target&)>;

RolloutReport Rollout(const std::vector<Target>& targets, const Operation& operation,
                      const RolloutOptions& options);

}  // namespace tandem::fleet
