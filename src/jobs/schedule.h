// Which job runs next on a database, and why each other one waits. Pure logic over the job rows
// and the migration history, so the worker, `tandem jobs list` and the dashboard agree.
//
// Post-deploy jobs run one at a time, in version order (the order of the layout they were
// queued from). A job waits while an earlier post-deploy job is not done (succeeded or
// cancelled): a failed, paused or unapproved job blocks every later one until a person acts.
// It also waits until every pre-deploy migration older than it has succeeded: a release that
// failed half-way must not let the post-deploy work of an earlier release overtake it. A
// contract job (an online migration's contract, `tandem complete`) is ordered and blocked as a
// post-deploy job of its version, and always runs alone.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "jobs/job.h"
#include "migrate/history.h"

namespace tandem::jobs {

struct Waiting {
  long long job = 0;
  std::string reason;  // "blocked by 20240102 (failed)", "waiting for pre-deploy 20240103"
};

struct Schedule {
  std::optional<long long> next;  // the job to claim now, if any
  std::vector<Waiting> waiting;   // every other job that is not done, and why
  // When a retrying job becomes due (so the worker can sleep until then).
  std::optional<std::string> next_due_at;
  // Something waits for a person (failed, paused, awaiting approval): `worker --once` exits 1.
  bool needs_person = false;
  // `next` and the jobs right behind it that may run in the same go, each still in its own
  // transaction and in order (a run stops at its first failure): all queued, approved,
  // transactional, with no request pending and no older pre-deploy migration unapplied. At most
  // kMaxRun. Empty when `next` must run alone.
  std::vector<long long> run;
  // Background jobs that may run now, oldest version first, at most one per table (a later
  // job on the same table waits for the earlier one). They do not wait for post-deploy jobs
  // nor post-deploy jobs for them: the worker runs up to [background] max_parallel of them at
  // once, each on its own thread and connection, beside the post-deploy job in `next`.
  std::vector<long long> background;
};

// The table a background job batches ("" when its batch directive names none).
std::string BackgroundTable(const Job& job);

inline constexpr size_t kMaxRun = 1000;

// `now` is the database's clock (ISO 8601 UTC, as Job::run_after), compared as text: both are
// fixed-width UTC timestamps.
Schedule ComputeSchedule(const std::vector<Job>& jobs,
                         const std::vector<migrate::HistoryRow>& history, const std::string& now);

}  // namespace tandem::jobs
