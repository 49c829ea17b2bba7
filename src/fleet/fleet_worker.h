// `tandem worker --target ...`: one process serving the post-deploy work of many databases.
//
// Ownership of a database is its worker lock (src/worker/worker.h): the session advisory lock
// the single-database worker takes on the connection that runs the jobs. PostgreSQL is the only
// coordinator: replicas never talk to each other, and a database is served by whoever holds its
// lock, so by one replica at a time.
//
// A replica keeps `concurrency` slots. A free slot takes the next database that is due (round
// robin from a random start, so that replicas started together do not reach for the same
// databases first), probes it on a short-lived connection (is its worker lock free, does it
// have open jobs, did anything change since the last time it found nothing to run), and only
// then runs the single-database worker on it in --once mode: take the lock, run everything
// runnable, give the lock back. So a replica holds a database only while that database has
// work, idle databases hold no connection, and the other replicas find the rest free:
// replicas split the work rather than one grabbing every database.
//
// A replica that dies (kill -9, a lost node) loses its sessions: PostgreSQL ends them (at once
// for a closed socket, within client_connection_check_interval = 1 s while a statement runs),
// the locks vanish, and the next probe of another replica (every `probe_interval`) takes the
// database over, resuming a job at its recorded statement.
//
// Connections: at most `concurrency` + 4 sessions per replica, whatever the fleet size and
// whatever runs (release::WatchSlots count them):
// - `concurrency` + 2 work sessions. A slot holds one while it probes or serves a database: its
//   probe session, then the worker's job session, then, with [[notify]], the notifier that
//   sends what the run changed (after the job session has closed). A background job holds two
//   (its session and its block watch's) and starts only when it gets them; the two beyond
//   `concurrency` make sure one always can.
// - 1 for the blocker watch: a database's worker opens no control session
//   (WorkerOptions::extra_sessions) and its blocker watch is lazy (release/blockers.h).
// - 1 for short reads: a person's pause or cancel of a running job, read every second on a
//   session opened for that read, and the /metrics sweep.
// docs/fleet.md states the bound.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/duration.h"
#include "config/config.h"
#include "fleet/rollout.h"
#include "fleet/targets.h"
#include "jobs/metrics.h"
#include "worker/worker.h"

namespace tandem::fleet {

struct FleetWorkerOptions {
  int concurrency = 8;  // databases served at once
  // What every database's worker gets: schema, settings, actor, files, on_transition. `log` is
  // the parent log (each database logs through a child naming its target); `once` is ignored
  // (RunFleetWorker serves until interrupted, RunFleetWorkerOnce once).
  worker::WorkerOptions worker;
  // How often a database not being served is probed again; a dead replica's databases are
  // taken over within this (plus the second PostgreSQL takes to end its sessions).
  Duration probe_interval{2000};
  // How long an unreachable database is left alone before the next try.
  Duration unreachable_retry{10000};
  int connect_timeout_seconds = 5;
  uint64_t seed = 0;  // the first round's starting point; 0 = random
  // [[notify]]: while this replica serves a database, a notifier of its own sends that
  // database's events (and is flushed, at most `notify_flush`, before the slot moves on).
  std::vector<config::NotifyChannel> notify;
  Duration notify_flush{10'000};
  // > 0: one session reads the job metrics (jobs/metrics.h) of each reachable database in turn,
  // a sweep every `metrics_interval`, for /metrics (FleetWorkerState). 0: none are read.
  Duration metrics_interval{0};
};

// Per target, what this replica has done with it (for /healthz and the --once report).
struct FleetTargetState {
  std::string name;
  bool serving = false;     // this replica holds its worker lock now
  std::string unreachable;  // the last connection error while unreachable, else empty
  int runs = 0;             // times this replica served it
  int succeeded = 0;
  int failed = 0;
  long long running_job = 0;  // the job its worker runs now (Snapshot reads it live), else 0
  // Its job metrics at the last sweep (FleetWorkerOptions::metrics_interval); unset before the
  // first one, while it is unreachable, or when the last read failed.
  std::optional<jobs::JobMetrics> metrics;
};

// Read from any thread (the HTTP server's) while the fleet worker runs.
class FleetWorkerState {
 public:
  std::vector<FleetTargetState> Snapshot() const;
  // Used by the fleet worker.
  void Set(const std::vector<std::string>& names);
  // What the worker serving target `index` reports as it runs (running_job).
  worker::WorkerState* Live(size_t index);
  template <typename F>
  void Update(size_t index, F&& change) {
    std::lock_guard<std::mutex> lock(mutex_);
    change(targets_[index]);
  }

 private:
  mutable std::mutex mutex_;
  std::vector<FleetTargetState> targets_;
  std::vector<std::unique_ptr<worker::WorkerState>> live_;
};

// /metrics of a fleet worker (Prometheus text): this replica's view of the fleet
// (tandem_fleet_*: targets, owned, unreachable, jobs running, per target owned/reachable/running
// job/runs) and then each database's job metrics as the single-database worker exports them
// (jobs::RenderMetricsText, label `target`). Only names go in labels, escaped; never a URL.
std::string RenderFleetMetrics(const std::vector<FleetTargetState>& targets);

// Serves `targets` until SIGTERM/SIGINT (interrupt::Requested()); every database's worker then
// gives its running job back, as a single-database worker does. Returns once all have.
void RunFleetWorker(const std::vector<Target>& targets, const FleetWorkerOptions& options,
                    FleetWorkerState* state = nullptr);

// --once: every target once (at most `concurrency` at once), each running what is runnable now.
// A target whose worker could not connect is kUnreachable; one whose jobs failed or wait for a
// person is kFailed (its summary says which); one where another worker is active is ok.
struct FleetOnceReport {
  RolloutReport rollout;
  std::vector<worker::WorkerSummary> summaries;  // by target index
};
FleetOnceReport RunFleetWorkerOnce(const std::vector<Target>& targets,
                                   const FleetWorkerOptions& options);

}  // namespace tandem::fleet
