// `tandem release`: the release-phase step. Start here for the release folder.
//
// Takes the runner lock, refuses drift, applies every pending pre-deploy migration with
// bounded locks, and records post-deploy and background migrations as pending for the worker
// without running them (only once every pre-deploy migration succeeded: a failed release is
// not deployed, so its post-deploy work must not be queued).
//
// Bounded locks: every statement runs with lock_timeout, statement_timeout and
// idle_in_transaction_session_timeout set locally. A lock timeout (SQLSTATE 55P03) or a
// deadlock (40P01) rolls the migration back (a transaction-off migration: that statement),
// names the blockers, waits with backoff and jitter and retries, until the retry budget is
// spent. There is no fallback to waiting without a lock timeout: a lock_timeout of zero is
// refused as bad input. Backoff, blocker watch and rendering live in the files next to this.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "config/config.h"
#include "migrate/apply.h"
#include "migrate/migration.h"
#include "pg/connection.h"
#include "release/blockers.h"

namespace tandem::release {

// The lint gate (issue 4, item 7): given the pending pre-deploy migrations (sections split),
// returns kFailed to stop the release before anything changes.
using LintGate = std::function<Status(const std::vector<const migrate::Migration*>&)>;

struct ReleaseOptions {
  std::string schema = "tandem";
  Duration lock_wait{60'000};  // for the runner lock (polled, never a blocking wait)
  config::ReleaseSettings settings;
  bool plan = false;   // report what would run; change nothing, not even the state schema
  LintGate lint_gate;  // unset until the linter provides one
  // Injected for tests; default std::this_thread::sleep_for.
  std::function<void(Duration)> sleep;
  uint64_t seed = 0;  // backoff jitter; 0 = random
  // [worker] require_approval: queued jobs wait for `tandem jobs approve`.
  bool require_approval = false;
  // Over a fleet: the blocker watch connects only while a migration waits, holding one of
  // these slots (blockers.h), so that a rollout's connections stay bounded. Null: one watch
  // connection for the whole release, as on one database.
  WatchSlots* watch_slots = nullptr;
};

// One try of a migration (transactional) or of one statement (transaction off).
struct Attempt {
  int number = 1;            // 1-based within the migration
  int statement_index = -1;  // transaction off: the statement tried (0-based); -1: all of it
  int line = 0;              // the failing statement's line, when it failed
  Duration started{0};       // since the migration's first attempt
  Duration duration{0};
  std::string result;  // "applied", "lock-timeout", "deadlock", "failed"
  Status error;
  std::optional<LockWait> waited_for;
  std::vector<Blocker> blockers;  // every session seen blocking this attempt
  Duration backoff{0};            // the wait after it, before the next attempt
};

struct ReleaseItem {
  std::string version;
  std::string name;
  migrate::Phase phase = migrate::Phase::kPreDeploy;
  std::string file;
  bool transactional = true;
  bool out_of_order = false;
  // applied, failed, would-apply (plan), queued, would-queue (plan), already-queued
  std::string action;
  migrate::SessionLimits limits;
  Duration retry_budget{0};
  int statements_total = 0;
  int statements_done = 0;
  bool resumed = false;
  int resumed_at = 0;
  Duration duration{0};  // from the first attempt to the end, backoff included
  std::vector<Attempt> attempts;
  int lock_timeouts = 0;       // attempts that ended in a lock timeout or deadlock
  Duration lock_wait_lost{0};  // time those attempts spent before timing out
  bool budget_spent = false;
  std::vector<std::string> cleanup_commands;
  Status error;
};

struct ReleaseReport {
  std::string database;  // redacted URL
  bool plan = false;
  std::vector<ReleaseItem> migrations;  // pre-deploy, in version order
  std::vector<ReleaseItem> queued;      // post-deploy and background, for the worker
  std::vector<std::string> warnings;
  Status status;  // the first failure, or ok
  bool nothing_to_do = false;
  bool approval_required = false;  // the queued jobs wait for `tandem jobs approve`
  Duration duration{0};
};

// The limits one migration runs with: its directives win over `settings` (which already merge
// tandem.toml, environment and flags). kInvalidInput for a lock_timeout of zero.
Result<migrate::SessionLimits> LimitsFor(const migrate::Migration& migration,
                                         const config::ReleaseSettings& settings);

// Runs the release (or, with options.plan, reports it). Never throws; failures are in
// report.status (kUnavailable for the runner lock, kFailed for drift and failed migrations,
// kInvalidInput for bad files or settings).
ReleaseReport Release(pg::Connection& connection, migrate::MigrationSet& files,
                      const ReleaseOptions& options);

}  // namespace tandem::release
