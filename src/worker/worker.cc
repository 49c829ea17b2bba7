#include "worker/worker.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include "worker/background_jobs.h"

#include "base/interrupt.h"
#include "jobs/schedule.h"
#include "jobs/transitions.h"
#include "migrate/apply.h"
#include "migrate/history.h"
#include "migrate/layouts.h"
#include "migrate/runner_lock.h"
#include "migrate/state.h"
#include "pg/connection.h"
#include "pg/quote.h"
#include "release/backoff.h"
#include "release/blockers.h"
#include "release/release.h"
#include "release/retry.h"

namespace tandem::worker {
namespace {

using Clock = std::chrono::steady_clock;
using jobs::JobStatus;

// Errors worth another attempt: the database was briefly unavailable or busy, not wrong.
bool IsTransient(const Status& error) {
  const std::string& code = error.sqlstate();
  if (error.code() == StatusCode::kUnavailable) return true;
  return code == "55P03" || code == "40P01" || code == "40001" || code.rfind("08", 0) == 0 ||
         code == "57P01" || code == "57P02" || code == "57P03" || code == "53300";
}

// The statement an error points into: the last one starting at or before the error's line.
std::string StatementAt(const migrate::Migration& migration, int line) {
  const migrate::Statement* found = nullptr;
  for (const migrate::Statement& s : migration.up.statements) {
    if (s.location.line <= line) found = &s;
  }
  return found ? found->sql : "";
}

jobs::JobError ErrorOf(const Status& status, const migrate::Migration& migration) {
  jobs::JobError e;
  e.sqlstate = status.sqlstate();
  e.message = status.message();
  e.file = status.location().file;
  e.line = status.location().line;
  e.column = status.location().column;
  if (e.line > 0) e.statement = StatementAt(migration, e.line);
  return e;
}

// Watches the running job for a person's pause or cancel (a NOTIFY wakes it; it also polls)
// and cancels the statement running for it, as SIGTERM would.
class RequestWatch {
 public:
  RequestWatch(pg::Connection& control, pg::Connection& job_connection, std::string schema,
               long long job)
      : control_(control),
        job_connection_(job_connection),
        schema_(std::move(schema)),
        job_(job),
        thread_([this] { Loop(); }) {}
  ~RequestWatch() { Stop(); }

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::string requested() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requested_;
  }

 private:
  void Loop() {
    Clock::time_point last_cancel{};
    while (!stop_) {
      auto woke = control_.WaitForNotifications(Duration(250));
      if (!woke.ok() || stop_) return;
      auto job = jobs::FindJob(control_, schema_, job_, /*with_sql=*/false);
      if (!job.ok() || !*job) continue;
      std::string requested = (*job)->requested;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        requested_ = requested;
      }
      // Sent again each second while the request stands: between two statements of a
      // transaction-off migration there is nothing to cancel, so the next one is.
      if (!requested.empty() && Clock::now() - last_cancel > std::chrono::seconds(1)) {
        job_connection_.RequestCancel();
        last_cancel = Clock::now();
      }
    }
  }

  pg::Connection& control_;
  pg::Connection& job_connection_;
  std::string schema_;
  long long job_;
  mutable std::mutex mutex_;
  std::string requested_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class Worker {
 public:
  Worker(const pg::DatabaseUrl& url, const WorkerOptions& options, WorkerState* state)
      : url_(url),
        options_(options),
        state_(state ? state : &own_state_),
        change_{options.actor, ""},
        backoff_({options.release.backoff_initial, options.release.backoff_max}, options.seed) {}

  WorkerSummary Run();

 private:
  Status Connect();
  void Disconnect();
  Result<bool> TryActivate();
  // Waits for a NOTIFY, a signal or `timeout`, whichever comes first.
  void Wait(Duration timeout);
  // One pass: claims and runs the next runnable job. False when there was none.
  Result<bool> Step();
  void RunJob(jobs::Job job);
  void Finished(const Result<jobs::Job>& result, const jobs::Job& job);
  void ReportDrift(const jobs::Job& job);

  const pg::DatabaseUrl& url_;
  const WorkerOptions& options_;
  WorkerState own_state_;
  WorkerState* state_;
  jobs::Change change_;
  release::Backoff backoff_;
  std::unique_ptr<pg::Connection> control_;  // LISTEN, and reads while a job runs
  std::unique_ptr<pg::Connection> job_;      // holds the worker lock and runs the jobs
  WorkerSummary summary_;
  std::optional<std::string> next_due_at_;
  std::set<long long> drift_reported_;
};

Log& Logger(const WorkerOptions& options) {
  static Log discard(*new std::ostringstream, false);
  return options.log ? *options.log : discard;
}

Status Worker::Connect() {
  state_->connected = false;
  TANDEM_ASSIGN_OR_RETURN(control_, pg::Connection::Open(url_));
  TANDEM_ASSIGN_OR_RETURN(job_, pg::Connection::Open(url_));
  TANDEM_RETURN_IF_ERROR(
      control_->Exec("LISTEN " + pg::QuoteIdentifier(std::string(jobs::kNotifyChannel))));
  state_->connected = true;
  return Status::Ok();
}

void Worker::Disconnect() {
  // Closing the job connection ends its session, and with it the worker lock.
  job_.reset();
  control_.reset();
  state_->active = false;
  state_->connected = false;
}

Result<bool> Worker::TryActivate() {
  WorkerLockKey key = LockKeyFor(options_.schema);
  TANDEM_ASSIGN_OR_RETURN(
      auto result, job_->Query("SELECT pg_catalog.pg_try_advisory_lock($1::int, $2::int)",
                               {std::to_string(key.class_id), std::to_string(key.object_id)}));
  bool active = result.GetBool(0, 0);
  if (active && !state_->active) {
    Logger(options_).Info("active: this worker runs the jobs of this database",
                          {{"database", url_.Redacted()}, {"pid", job_->backend_pid()}});
  }
  state_->active = active;
  return active;
}

void Worker::Wait(Duration timeout) {
  auto until = Clock::now() + timeout;
  while (!interrupt::Requested()) {
    auto left = std::chrono::duration_cast<Duration>(until - Clock::now());
    if (left <= Duration(0)) return;
    // Short slices: a signal is noticed within 100 ms even when no NOTIFY comes.
    auto woke = control_->WaitForNotifications(std::min(left, Duration(100)));
    if (!woke.ok() || !woke->empty()) return;
  }
}

Result<bool> Worker::Step() {
  TANDEM_ASSIGN_OR_RETURN(bool exists, jobs::JobsTableExists(*job_, options_.schema));
  if (!exists) return false;
  TANDEM_ASSIGN_OR_RETURN(auto all, jobs::ListJobs(*job_, options_.schema));
  TANDEM_ASSIGN_OR_RETURN(auto history, migrate::ReadHistory(*job_, options_.schema));
  TANDEM_ASSIGN_OR_RETURN(auto now, job_->Query("SELECT to_char(now() AT TIME ZONE 'UTC', "
                                                "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"));
  jobs::Schedule schedule = jobs::ComputeSchedule(all, history, now.Get(0, 0));
  summary_.needs_person = schedule.needs_person;
  summary_.retry_pending = schedule.next_due_at.has_value();
  next_due_at_ = schedule.next_due_at;
  if (!schedule.next) return false;
  TANDEM_ASSIGN_OR_RETURN(auto job, jobs::FindJob(*job_, options_.schema, *schedule.next));
  if (!job) return true;  // gone meanwhile: look again
  RunJob(std::move(*job));
  return true;
}

void Worker::Finished(const Result<jobs::Job>& result, const jobs::Job& job) {
  if (!result.ok()) {
    Logger(options_).Error("could not record the outcome of job " + std::to_string(job.id),
                           {{"error", result.status().message()}});
    return;
  }
  const jobs::Job& j = *result;
  nlohmann::json fields = {{"job", j.id},
                           {"version", j.version},
                           {"name", j.name},
                           {"state", std::string(jobs::StatusName(j.status))},
                           {"attempt", j.attempts}};
  if (j.duration_ms) fields["duration_ms"] = *j.duration_ms;
  if (j.error) {
    fields["sqlstate"] = j.error->sqlstate;
    fields["error"] = j.error->message;
    if (j.error->line) fields["line"] = j.error->line;
  }
  std::string level = j.status == JobStatus::kFailed ? "error" : "info";
  Logger(options_).Write(
      level, "job " + std::to_string(j.id) + " " + std::string(jobs::StatusName(j.status)), fields);
  if (options_.on_transition) options_.on_transition();
}

void Worker::ReportDrift(const jobs::Job& job) {
  if (!options_.files || drift_reported_.count(job.id)) return;
  const migrate::Migration* file = options_.files->Find(job.version);
  if (!file || file->checksum.empty() || file->checksum == job.checksum) return;
  drift_reported_.insert(job.id);
  nlohmann::json detail = {{"job", job.id},
                           {"file", file->paths.empty() ? "" : file->paths.front()},
                           {"queued_checksum", job.checksum},
                           {"file_checksum", file->checksum}};
  migrate::RecordEvent(*job_, options_.schema, job.version, "drift", detail.dump());
  Logger(options_).Warning(
      "the file of job " + std::to_string(job.id) + " (" + job.version +
          ") was edited since it was queued; the worker runs the SQL as released",
      detail);
}

void Worker::RunJob(jobs::Job job) {
  Log& log = Logger(options_);
  // A person asked to pause or cancel it while the worker running it was lost.
  if (job.status == JobStatus::kRunning && !job.requested.empty()) {
    jobs::Outcome outcome;
    outcome.to = job.requested == "cancel" ? JobStatus::kCancelled : JobStatus::kPaused;
    outcome.statements_done = job.statements_done;
    outcome.statements_total = job.statements_total;
    Finished(jobs::Finish(*job_, options_.schema, job.id, outcome,
                          {change_.actor, "requested while the worker running it was lost"}),
             job);
    return;
  }
  std::string reason = job.status == JobStatus::kRunning
                           ? "taken over from " + job.worker + ", which stopped running it"
                           : "";
  auto claimed = jobs::Claim(*job_, options_.schema, job.id, {change_.actor, reason});
  if (!claimed.ok()) {
    log.Warning("could not claim job " + std::to_string(job.id),
                {{"error", claimed.status().message()}});
    return;
  }
  int attempt = claimed->attempts;
  state_->running_job = job.id;
  log.Info("job " + std::to_string(job.id) + " running",
           {{"job", job.id}, {"version", job.version}, {"name", job.name}, {"attempt", attempt}});
  if (options_.on_transition) options_.on_transition();
  ReportDrift(job);

  auto started = Clock::now();
  jobs::Outcome outcome;
  auto finish = [&](JobStatus to, std::string why) {
    outcome.to = to;
    outcome.duration = std::chrono::duration_cast<Duration>(Clock::now() - started);
    state_->running_job = 0;
    if (to == JobStatus::kSucceeded) ++summary_.succeeded;
    Finished(jobs::Finish(*job_, options_.schema, job.id, outcome, {change_.actor, why}), job);
  };

  if (job.kind == "background") {
    // Batch by batch, each with its cursor (src/background/runner.h).
    background::RunResult result = RunBackgroundJob(*job_, options_, job);
    if (result.lost) {
      state_->running_job = 0;
      log.Error("stopped running job " + std::to_string(job.id),
                {{"job", job.id}, {"reason", result.reason}});
      return;
    }
    outcome.error = result.error;
    if (result.to == JobStatus::kFailed) ++summary_.failed;
    return finish(result.to, result.reason);
  }

  migrate::Migration migration = jobs::MigrationOf(job);
  if (Status split = migrate::SplitSections(migration); !split.ok()) {
    outcome.error = ErrorOf(split, migration);
    return finish(JobStatus::kFailed, "its SQL does not parse");
  }
  outcome.statements_total = static_cast<int>(migration.up.statements.size());
  auto history = migrate::ReadHistory(*job_, options_.schema);
  if (!history.ok()) {
    outcome.error = ErrorOf(history.status(), migration);
    return finish(
        attempt < options_.settings.max_attempts ? JobStatus::kRetrying : JobStatus::kFailed,
        "could not read the history");
  }
  const migrate::HistoryRow* row = nullptr;
  for (const auto& r : *history)
    if (r.version == job.version) row = &r;
  if (row && row->status == "succeeded") {
    outcome.statements_done = outcome.statements_total;
    return finish(JobStatus::kSucceeded, "already applied (by tandem up or an earlier worker)");
  }
  if (Status resume = migrate::CheckResume(migration, row); !resume.ok()) {
    outcome.error = ErrorOf(resume, migration);
    return finish(JobStatus::kFailed, "cannot resume where the last attempt stopped");
  }

  config::ReleaseSettings settings = options_.release;
  settings.statement_timeout = options_.settings.statement_timeout;
  release::ReleaseOptions release_options;
  release_options.schema = options_.schema;
  release_options.settings = settings;
  release_options.seed = options_.seed;
  release::ReleaseItem item;
  item.version = job.version;
  item.name = job.name;
  item.phase = migration.phase;
  item.file = job.path;
  item.transactional = job.transactional;
  item.retry_budget = settings.retry_budget;
  item.statements_total = outcome.statements_total;
  auto limits = release::LimitsFor(migration, settings);
  if (!limits.ok()) {
    outcome.error = ErrorOf(limits.status(), migration);
    return finish(JobStatus::kFailed, "invalid limits");
  }
  item.limits = *limits;

  std::unique_ptr<release::BlockerWatch> watch;
  Duration interval = std::clamp(settings.lock_timeout / 4, Duration(10), Duration(50));
  if (auto started_watch = release::BlockerWatch::Start(url_, job_->backend_pid(), interval);
      started_watch.ok()) {
    watch = std::move(*started_watch);
  }
  std::string requested;
  {
    // SIGTERM/SIGINT cancel the running statement, by the runner's rules; the job is then given
    // back for the next worker (below).
    pg::Connection* connection = job_.get();
    interrupt::CancelHook cancel_on_signal([connection] { connection->RequestCancel(); });
    RequestWatch requests(*control_, *job_, options_.schema, job.id);
    release::ApplyWithRetries(*job_, migration, row, release_options, watch.get(), item);
    requests.Stop();
    requested = requests.requested();
  }
  watch.reset();
  outcome.lock_timeouts = item.lock_timeouts;
  outcome.statements_done = item.statements_done;
  if (item.action == "applied") {
    outcome.statements_done = outcome.statements_total;
    return finish(JobStatus::kSucceeded, "");
  }
  outcome.error = ErrorOf(item.error, migration);
  if (!job_->alive()) {
    // The lock went with the session: whoever holds it next (this worker, once reconnected,
    // or another replica) takes the job over from the recorded statement.
    state_->running_job = 0;
    log.Error("lost the connection running job " + std::to_string(job.id),
              {{"job", job.id}, {"error", item.error.message()}});
    return;
  }
  if (interrupt::Requested()) {
    return finish(JobStatus::kQueued, "the worker was stopped by " +
                                          std::string(interrupt::SignalName(interrupt::Signal())) +
                                          "; the next worker resumes it");
  }
  if (requested == "cancel") return finish(JobStatus::kCancelled, "cancelled by a person");
  if (requested == "pause") return finish(JobStatus::kPaused, "paused by a person");
  if (IsTransient(item.error) && attempt < options_.settings.max_attempts) {
    outcome.retry_after = backoff_.Next();
    ++summary_.retrying;
    return finish(JobStatus::kRetrying, "transient error, attempt " + std::to_string(attempt) +
                                            " of " +
                                            std::to_string(options_.settings.max_attempts));
  }
  ++summary_.failed;
  finish(JobStatus::kFailed, IsTransient(item.error) ? "transient error, no attempts left" : "");
}

WorkerSummary Worker::Run() {
  Log& log = Logger(options_);
  while (!interrupt::Requested()) {
    if (!job_ || !job_->alive() || !control_ || !control_->alive()) {
      Disconnect();
      if (Status s = Connect(); !s.ok()) {
        if (options_.once) {
          summary_.status = s;
          return summary_;
        }
        log.Error("could not connect; retrying", {{"error", s.message()}});
        interrupt::SleepFor(options_.settings.poll_interval);
        continue;
      }
    }
    if (!state_->active) {
      auto active = TryActivate();
      if (!active.ok()) continue;  // reconnects
      if (!*active) {
        if (options_.once) {
          log.Info("another worker is active on this database; it runs the jobs");
          summary_.standby = true;
          return summary_;
        }
        Wait(options_.settings.poll_interval);
        continue;
      }
    }
    auto ran = Step();
    if (!ran.ok()) {
      log.Error("could not read the jobs", {{"error", ran.status().message()}});
      if (options_.once) {
        summary_.status = ran.status();
        return summary_;
      }
      Wait(options_.settings.poll_interval);
      continue;
    }
    if (*ran) continue;
    if (options_.once) break;
    Wait(options_.settings.poll_interval);
  }
  Disconnect();
  return summary_;
}

}  // namespace

WorkerLockKey LockKeyFor(const std::string& schema) {
  migrate::LockKey runner = migrate::RunnerLockKey(schema);
  return {runner.class_id + 1, runner.object_id};
}

WorkerSummary RunWorker(const pg::DatabaseUrl& url, const WorkerOptions& options,
                        WorkerState* state) {
  Worker worker(url, options, state);
  return worker.Run();
}

}  // namespace tandem::worker
