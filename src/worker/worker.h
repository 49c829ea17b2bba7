// `tandem worker`: the daemon that runs the post-deploy work `tandem release` queued. Start here
// for the worker folder.
//
// One worker at a time is active per database and state schema: the one holding the worker
// lock, a session advisory lock taken (by polling, never blocking) on the very connection
// that runs the jobs. The lock therefore vanishes only once that session has ended, with
// whatever statement it was running: a standby that takes it over can never run a statement
// the dead worker's session is still finishing. Standbys poll for the lock; the active worker
// wakes on NOTIFY (kNotifyChannel) and polls as a fallback for poolers that drop NOTIFY.
//
// Each job runs through the release machinery (bounded locks, lock-timeout retries with backoff
// and jitter, blockers named) and the runner's apply (a transaction-off statement commits with
// its progress row, so a takeover resumes at the recorded statement and never runs one twice).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "config/config.h"
#include "jobs/job.h"
#include "migrate/migration.h"
#include "pg/url.h"
#include "worker/log.h"

namespace tandem::release {
class WatchSlots;
}

namespace tandem::worker {

struct WorkerOptions {
  std::string schema = "tandem";
  config::WorkerSettings settings;
  config::ReleaseSettings release;        // lock_timeout, retry budget and backoff per attempt
  config::BackgroundSettings background;  // batches of background migrations
  // Reads [background] again (the throttling limits are re-read between batches); null: keep
  // `background`.
  std::function<config::BackgroundSettings()> reload_background;
  bool once = false;  // run what is runnable now, then return
  std::string actor;  // who the worker is in events ("host pid N tandem V")
  // The migration files this worker was deployed with, to report drift (a file edited since
  // its job was queued). May be null: the worker runs the recorded SQL either way.
  const migrate::MigrationSet* files = nullptr;
  Log* log = nullptr;
  // Called after every transition the worker makes (the notifier wakes on it).
  std::function<void()> on_transition;
  uint64_t seed = 0;  // backoff jitter; 0 = random
  // A fleet replica (src/fleet/fleet_worker.h) bounds its sessions whatever the fleet size.
  // With `extra_sessions` set, this worker opens no control session: waits are plain sleeps,
  // a person's pause or cancel is read on a short-lived session holding one of `read_sessions`,
  // and the blocker watch is lazy on `extra_sessions`. With `work_sessions` set, a background
  // job starts only when it gets two of them (its session and its block watch's). Null: one
  // database's worker, with its control session and an eager blocker watch.
  release::WatchSlots* extra_sessions = nullptr;
  release::WatchSlots* read_sessions = nullptr;
  release::WatchSlots* work_sessions = nullptr;
};

// What the worker knows of itself, for /healthz (updated as it runs; read from any thread).
struct WorkerState {
  std::atomic<bool> active{false};        // holds the worker lock
  std::atomic<bool> connected{false};     // its connections are up
  std::atomic<long long> running_job{0};  // a post-deploy job, else a background one, else 0
};

struct WorkerSummary {
  int succeeded = 0;
  int failed = 0;              // failed for good
  int retrying = 0;            // attempts that will be retried
  bool needs_person = false;   // a job failed, is paused or awaits approval
  bool retry_pending = false;  // a job waits for its next attempt
  bool standby = false;        // --once found another worker active
  bool deferred = false;       // a background job waits for `work_sessions`
  Status status;               // why the worker stopped, when not by request
};

// Runs until interrupted (SIGTERM/SIGINT) or, with options.once, until nothing is runnable.
WorkerSummary RunWorker(const pg::DatabaseUrl& url, const WorkerOptions& options,
                        WorkerState* state = nullptr);

// The worker lock's keys (the runner lock's class id + 1, the same schema hash).
struct WorkerLockKey {
  int class_id;
  int object_id;
};
WorkerLockKey LockKeyFor(const std::string& schema);

}  // namespace tandem::worker
