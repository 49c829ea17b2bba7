// The job model: one unit of asynchronous work (a post-deploy migration; background data
// migrations come next) as a row of `tandem.jobs`, and the only code that changes job rows.
//
// Every change is a transition: one transaction that checks the job is in a state the
// transition allows, updates the row, appends a `job.<state>` event (who and why) and sends a
// NOTIFY on kNotifyChannel so that workers and dashboards wake at once. The CLI, the worker and
// the HTTP server call these functions; none of them writes job rows itself.
//
//   queued ──claim──> running ──> succeeded
//     ^  │              │  ├────> failed ──retry──> queued
//     │  │              │  ├────> retrying ──(run_after)──> running
//     │  └─pause─> paused <─pause (statement cancelled, resumes from the recorded statement)
//     └──resume────┘    └─cancel─> cancelled
//   awaiting-approval ──approve──> queued     (with [worker] require_approval = true)
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "migrate/migration.h"
#include "pg/connection.h"

namespace tandem::jobs {

// Workers LISTEN here; every transition NOTIFYs it with the job id as payload.
inline constexpr std::string_view kNotifyChannel = "tandem_jobs";

enum class JobStatus {
  kQueued,
  kAwaitingApproval,
  kRunning,
  kRetrying,
  kPaused,
  kSucceeded,
  kFailed,
  kCancelled,
};
std::string_view StatusName(JobStatus status);  // "queued", "awaiting-approval", ...
std::optional<JobStatus> ParseStatus(std::string_view name);
// Succeeded and cancelled jobs never block later ones and never run again on their own.
bool IsDone(JobStatus status);

// What a person has to run for a job in `status` to move on (`id` as text): retry or cancel a
// failed job, approve one awaiting approval, resume a paused one. Empty for the other states,
// which move on by themselves. The CLI and the notifications both say this.
std::vector<std::string> PersonNextCommands(JobStatus status, const std::string& id);

// An error worth another attempt (of a job or of a batch): the database was busy or briefly
// unavailable (lock timeout, deadlock, serialization failure, a lost or refused connection, a
// shutdown, too many connections), not wrong.
bool IsTransient(const Status& error);

struct JobError {
  std::string sqlstate;
  std::string message;
  std::string statement;
  std::string file;
  int line = 0;
  int column = 0;
  std::string detail;  // e.g. the sessions that blocked a lock-timed-out statement
};

struct Job {
  long long id = 0;
  std::string kind;  // "post-deploy", "background" or "contract" (an online migration's)
  std::string version;
  std::string name;
  JobStatus status = JobStatus::kQueued;
  bool approved = true;
  std::string requested;  // "pause" or "cancel" while a running job is being stopped
  std::string layout;     // the version order of the set it was queued from
  std::string path;       // the file it was queued from (for messages)
  std::string sql;        // the up section as released (empty unless read with the SQL)
  int sql_line = 1;       // the file line the SQL starts on
  std::string checksum;   // the migration checksum recorded when queued
  bool transactional = true;
  std::optional<long long> lock_timeout_ms;       // the migration's own directive
  std::optional<long long> statement_timeout_ms;  // the migration's own directive
  int attempts = 0;
  std::string run_after;  // retrying: when the next attempt may start (ISO 8601, UTC)
  std::string worker;     // who runs it (host pid) while running
  int statements_done = 0;
  int statements_total = 0;
  std::string queued_at, started_at, finished_at, updated_at;  // ISO 8601, UTC
  std::optional<long long> duration_ms;
  std::optional<JobError> error;
  // Background migrations: the batch directive as queued ({"table", "key", "size"}, size a
  // number or "auto"), and the job's progress and cursor as the batches commit it (JSON text;
  // "{}" before the first batch). Empty for post-deploy jobs.
  std::string batch;
  std::string progress;
};

// Who makes a change: the person's name (`--actor`, TANDEM_ACTOR) or "host pid N tandem V".
std::string ResolveActor(const std::string& flag);

// The migration a job runs, rebuilt from the row: the recorded SQL as the up section, the
// recorded directives, the recorded checksum. Sections are not split yet.
migrate::Migration MigrationOf(const Job& job);

// Reading. `with_sql` also fetches the SQL text (for the worker and `jobs show`).
Result<std::vector<Job>> ListJobs(pg::Connection& connection, const std::string& schema,
                                  bool with_sql = false);
Result<std::optional<Job>> FindJob(pg::Connection& connection, const std::string& schema,
                                   long long id, bool with_sql = true);
// The jobs not done yet (neither succeeded nor cancelled), without their SQL: all the worker's
// schedule looks at, read through the partial index on status, so that a step costs the same
// after 10,000 finished jobs as after none. One round trip: the table is read at once, and its
// absence (undefined table or schema) means no jobs, so call it outside a transaction.
Result<std::vector<Job>> ListOpenJobs(pg::Connection& connection, const std::string& schema);
// The select list the reads above use, and the jobs of a result that has it: for a statement
// that returns the rows it changed (a transition's UPDATE ... RETURNING), one round trip less.
std::string JobColumns(bool with_sql);
std::vector<Job> JobsFromResult(const pg::QueryResult& result);
// True when the state schema has the jobs table (read-only commands never create it).
Result<bool> JobsTableExists(pg::Connection& connection, const std::string& schema);

}  // namespace tandem::jobs
