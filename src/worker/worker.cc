#include "worker/worker.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "worker/background_jobs.h"
#include "worker/contract_jobs.h"

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
  e.detail = status.detail();  // the blockers of a lock timeout, the runner's explanation
  if (e.line > 0) e.statement = StatementAt(migration, e.line);
  return e;
}

// Watches the running job for a person's pause or cancel (a NOTIFY wakes it; it also polls)
// and cancels the statement running for it, as SIGTERM would. It stays quiet for the job's first
// kQuietStart: most jobs are done by then, and a watch that queried at once (woken by the job's
// own claim NOTIFY) and then slept in a long poll made every job wait for it at Stop(). A request
// made meanwhile is seen at the first check, as the 250 ms poll would have seen it.
//
// Without a control session (a fleet replica's worker, WorkerOptions::extra_sessions) it reads
// the request every kLeanPoll on a session opened for that read alone, while it holds one of the
// shared slots (waiting for one at most kLeanPoll; else that read is skipped).
class RequestWatch {
 public:
  // Watches `jobs` (one job, or a run of jobs applied together): a request on any of them
  // cancels the statement running on `job_connection`.
  RequestWatch(pg::Connection* control, pg::Connection& job_connection, const pg::DatabaseUrl& url,
               release::WatchSlots* slots, std::string schema, std::vector<long long> jobs)
      : control_(control),
        job_connection_(job_connection),
        url_(url),
        slots_(slots),
        schema_(std::move(schema)),
        jobs_(std::move(jobs)),
        thread_([this] { Loop(); }) {}
  ~RequestWatch() { Stop(); }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  std::string requested() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requested_;
  }

 private:
  static constexpr Duration kQuietStart{100};
  static constexpr Duration kPoll{250};
  static constexpr Duration kLeanPoll{1000};
  // How long Stop() may wait for the thread once the quiet start is over.
  static constexpr Duration kSlice{25};

  // Sleeps `d` unless stopped first; false when stopped.
  bool Sleep(Duration d) {
    std::unique_lock<std::mutex> lock(mutex_);
    return !wake_.wait_for(lock, d, [this] { return stop_.load(); });
  }

  // The request standing on the watched jobs ("" for none); nullopt when it could not be read.
  std::optional<std::string> Read(pg::Connection& connection) {
    std::string ids = "{";
    for (size_t i = 0; i < jobs_.size(); ++i) ids += (i ? "," : "") + std::to_string(jobs_[i]);
    auto found =
        connection.Query("SELECT coalesce(min(requested), '') FROM " +
                             pg::QuoteIdentifier(schema_) + ".jobs WHERE id = ANY($1::bigint[])",
                         {ids + "}"});
    if (!found.ok()) return std::nullopt;
    return found->Get(0, 0);
  }

  // Records what was read; sent again each second while the request stands: between two
  // statements of a transaction-off migration there is nothing to cancel, so the next one is.
  void Seen(const std::string& requested, Clock::time_point& last_cancel) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requested_ = requested;
    }
    if (!requested.empty() && Clock::now() - last_cancel > std::chrono::seconds(1)) {
      job_connection_.RequestCancel();
      last_cancel = Clock::now();
    }
  }

  void LeanLoop() {
    Clock::time_point last_cancel{};
    while (Sleep(kLeanPoll)) {
      if (!slots_) continue;
      bool slot = false;
      for (auto until = Clock::now() + kLeanPoll; !(slot = slots_->TryAcquire());) {
        if (Clock::now() > until || !Sleep(Duration(10))) break;
      }
      if (!slot) continue;
      std::optional<std::string> requested;
      {
        pg::ConnectOptions options;
        options.application_name = "tandem worker (requests)";
        options.connect_timeout_seconds = 5;
        if (auto c = pg::Connection::Open(url_, options); c.ok()) requested = Read(**c);
      }
      slots_->Release();
      if (requested) Seen(*requested, last_cancel);
    }
  }

  void Loop() {
    if (!control_) return LeanLoop();
    if (!Sleep(kQuietStart)) return;
    Clock::time_point last_cancel{};
    Clock::time_point last_check{};  // the first pass checks at once
    while (!stop_) {
      if (Clock::now() - last_check < kPoll) {
        auto woke = control_->WaitForNotifications(kSlice);
        if (!woke.ok() || stop_) return;
        if (woke->empty()) continue;
      }
      last_check = Clock::now();
      auto requested = Read(*control_);
      if (!requested) continue;
      Seen(*requested, last_cancel);
    }
  }

  pg::Connection* control_;
  pg::Connection& job_connection_;
  const pg::DatabaseUrl& url_;
  release::WatchSlots* slots_;
  std::string schema_;
  std::vector<long long> jobs_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
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
        change_{options.actor, ""} {}

  ~Worker() { ReapBackground(/*all=*/true); }
  WorkerSummary Run();

 private:
  Status Connect();
  void Disconnect();
  Result<bool> TryActivate();
  // Waits for a NOTIFY, a signal or `timeout`, whichever comes first.
  void Wait(Duration timeout, bool wake_on_notify = true);
  // The blocker watch for the job connection, opened at the first job of a burst and kept until
  // the worker is idle again: opening a connection per job cost more than most jobs.
  release::BlockerWatch* BlockerWatchFor(Duration interval);
  // A fleet replica's worker: no control session (WorkerOptions::extra_sessions).
  bool lean() const { return options_.extra_sessions != nullptr; }
  // One pass: claims and runs the next runnable job. False when there was none.
  Result<bool> Step();
  void RunJob(jobs::Job job);
  // A contract job (an online migration's, `tandem complete`): under the runner lock, taken
  // before the claim. False when another runner holds the lock (the job waits for it).
  bool RunContract(jobs::Job job);
  // Runs a claimed job (its SQL read with the claim) and records its outcome.
  void Execute(jobs::Job job);
  // Several consecutive small jobs at once (jobs::Schedule::run), each in its own transaction.
  void RunRun(const std::vector<long long>& ids);
  void Finished(const Result<jobs::Job>& result, const jobs::Job& job);
  // A job left running by a lost worker with a pause or cancel asked meanwhile: finished as
  // asked (true), instead of being run again.
  bool FinishRequestedWhileLost(const jobs::Job& job);
  // Claims `job` for this worker (taking it over when it was left running); logs a failure.
  Result<jobs::Job> ClaimToRun(const jobs::Job& job);
  void ReportDrift(pg::Connection& connection, const jobs::Job& job);

  // Background jobs run on threads of their own, each with its own connection, so that a
  // backfill of hours never holds up the post-deploy jobs (which keep their one-at-a-time
  // order on `job_`). At most [background] max_parallel at once, never two on one table.
  struct BackgroundRun {
    jobs::Job job;  // as listed
    std::string table;
    std::thread thread;
    std::atomic<bool> done{false};
    int succeeded = 0;  // added to the summary once joined
    int failed = 0;
  };
  void StartBackground(const jobs::Schedule& schedule, std::vector<jobs::Job>& open);
  void RunBackground(BackgroundRun& run);
  // Joins the finished threads (all of them with `all`, after asking them to stop).
  void ReapBackground(bool all);
  // What /healthz reports as running: the job on the job connection, else the oldest
  // background job running (their threads come and go independently).
  void SetForeground(long long id);
  void SetBackground(long long id, bool running);
  void PublishRunning();

  const pg::DatabaseUrl& url_;
  const WorkerOptions& options_;
  WorkerState own_state_;
  WorkerState* state_;
  jobs::Change change_;
  std::unique_ptr<pg::Connection> control_;  // LISTEN, and reads while a job runs
  std::unique_ptr<pg::Connection> job_;      // holds the worker lock and runs the jobs
  std::unique_ptr<release::BlockerWatch> watch_;
  int watch_pid_ = 0;
  WorkerSummary summary_;
  std::optional<std::string> next_due_at_;
  std::mutex drift_mutex_;  // the background threads report drift too
  std::set<long long> drift_reported_;
  std::map<long long, std::unique_ptr<BackgroundRun>> background_;
  std::atomic<bool> stop_background_{false};
  std::mutex running_mutex_;
  long long foreground_job_ = 0;
  std::set<long long> background_running_;
  std::set<long long> contract_waits_;  // contract jobs whose wait for the lock was logged
};

void Worker::SetForeground(long long id) {
  std::lock_guard<std::mutex> lock(running_mutex_);
  foreground_job_ = id;
  PublishRunning();
}

void Worker::SetBackground(long long id, bool running) {
  std::lock_guard<std::mutex> lock(running_mutex_);
  if (running) {
    background_running_.insert(id);
  } else {
    background_running_.erase(id);
  }
  PublishRunning();
}

void Worker::PublishRunning() {
  long long id = foreground_job_;
  if (id == 0 && !background_running_.empty()) id = *background_running_.begin();
  state_->running_job = id;
}

Log& Logger(const WorkerOptions& options) {
  static Log discard(*new std::ostringstream, false);
  return options.log ? *options.log : discard;
}

Status Worker::Connect() {
  state_->connected = false;
  TANDEM_ASSIGN_OR_RETURN(job_, pg::Connection::Open(url_));
  if (!lean()) {
    TANDEM_ASSIGN_OR_RETURN(control_, pg::Connection::Open(url_));
    TANDEM_RETURN_IF_ERROR(
        control_->Exec("LISTEN " + pg::QuoteIdentifier(std::string(jobs::kNotifyChannel))));
  }
  state_->connected = true;
  return Status::Ok();
}

void Worker::Disconnect() {
  // Without the lock the jobs are the next holder's: the threads give theirs up at their next
  // batch boundary (their committed cursors are where the next holder starts).
  ReapBackground(/*all=*/true);
  watch_.reset();
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

release::BlockerWatch* Worker::BlockerWatchFor(Duration interval) {
  if (watch_ && watch_pid_ == job_->backend_pid()) return watch_.get();
  watch_.reset();
  // Lean: it connects only once an attempt has run for half its lock_timeout, on a shared slot.
  auto started =
      release::BlockerWatch::Start(url_, job_->backend_pid(), interval, options_.extra_sessions,
                                   options_.release.lock_timeout / 2);
  if (!started.ok()) return nullptr;  // the job runs unwatched: blockers go unnamed
  watch_ = std::move(*started);
  watch_pid_ = job_->backend_pid();
  return watch_.get();
}

void Worker::Wait(Duration timeout, bool wake_on_notify) {
  auto until = Clock::now() + timeout;
  while (!interrupt::Requested()) {
    auto left = std::chrono::duration_cast<Duration>(until - Clock::now());
    if (left <= Duration(0)) return;
    if (!control_) {
      // No LISTEN: what a NOTIFY would say here is that a background job ended.
      interrupt::SleepFor(std::min(left, Duration(100)));
      if (wake_on_notify && std::any_of(background_.begin(), background_.end(),
                                        [](const auto& r) { return r.second->done.load(); })) {
        return;
      }
      continue;
    }
    // Short slices: a signal is noticed within 100 ms even when no NOTIFY comes.
    auto woke = control_->WaitForNotifications(std::min(left, Duration(100)));
    if (!woke.ok() || (wake_on_notify && !woke->empty())) return;
  }
}

Result<bool> Worker::Step() {
  ReapBackground(/*all=*/false);
  // Only the jobs not done: what the schedule looks at (no table yet: none).
  TANDEM_ASSIGN_OR_RETURN(auto open, jobs::ListOpenJobs(*job_, options_.schema));
  if (open.empty()) {
    summary_.needs_person = false;
    next_due_at_.reset();
    return false;
  }
  // Of the history, the schedule only looks at pre-deploy migrations not applied yet.
  TANDEM_ASSIGN_OR_RETURN(auto history,
                          migrate::ReadHistoryWhere(
                              *job_, options_.schema,
                              "phase = 'pre-deploy' AND status IS DISTINCT FROM 'succeeded'", {}));
  // The server's clock matters only to a job waiting for its next attempt.
  std::string now;
  if (std::any_of(open.begin(), open.end(), [](const jobs::Job& j) {
        return j.status == JobStatus::kRetrying && !j.run_after.empty();
      })) {
    TANDEM_ASSIGN_OR_RETURN(auto result, job_->Query("SELECT to_char(now() AT TIME ZONE 'UTC', "
                                                     "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"));
    now = result.Get(0, 0);
  }
  jobs::Schedule schedule = jobs::ComputeSchedule(open, history, now);
  summary_.needs_person = schedule.needs_person;
  summary_.retry_pending = schedule.next_due_at.has_value();
  next_due_at_ = schedule.next_due_at;
  StartBackground(schedule, open);
  if (!schedule.next) return false;
  if (!schedule.run.empty()) {
    RunRun(schedule.run);
    return true;
  }
  // The job as listed (without its SQL): the claim returns it with its SQL, and fails if a
  // person changed it meanwhile.
  for (jobs::Job& job : open) {
    if (job.id != *schedule.next) continue;
    if (job.kind == "contract") return RunContract(std::move(job));
    RunJob(std::move(job));
  }
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

void Worker::ReportDrift(pg::Connection& connection, const jobs::Job& job) {
  if (!options_.files) return;
  const migrate::Migration* file = options_.files->Find(job.version);
  if (!file || file->checksum.empty() || file->checksum == job.checksum) return;
  {
    std::lock_guard<std::mutex> lock(drift_mutex_);
    if (!drift_reported_.insert(job.id).second) return;
  }
  nlohmann::json detail = {{"job", job.id},
                           {"file", file->paths.empty() ? "" : file->paths.front()},
                           {"queued_checksum", job.checksum},
                           {"file_checksum", file->checksum}};
  migrate::RecordEvent(connection, options_.schema, job.version, "drift", detail.dump());
  Logger(options_).Warning(
      "the file of job " + std::to_string(job.id) + " (" + job.version +
          ") was edited since it was queued; the worker runs the SQL as released",
      detail);
}

bool Worker::FinishRequestedWhileLost(const jobs::Job& job) {
  // A person asked to pause or cancel it while the worker running it was lost.
  if (job.status != JobStatus::kRunning || job.requested.empty()) return false;
  jobs::Outcome outcome;
  outcome.to = job.requested == "cancel" ? JobStatus::kCancelled : JobStatus::kPaused;
  outcome.statements_done = job.statements_done;
  outcome.statements_total = job.statements_total;
  Finished(jobs::Finish(*job_, options_.schema, job.id, outcome,
                        {change_.actor, "requested while the worker running it was lost"}),
           job);
  return true;
}

Result<jobs::Job> Worker::ClaimToRun(const jobs::Job& job) {
  std::string reason = job.status == JobStatus::kRunning
                           ? "taken over from " + job.worker + ", which stopped running it"
                           : "";
  auto claimed = jobs::Claim(*job_, options_.schema, job.id, {change_.actor, reason});
  if (!claimed.ok()) {
    Logger(options_).Warning("could not claim job " + std::to_string(job.id),
                             {{"job", job.id}, {"error", claimed.status().message()}});
  }
  return claimed;
}

void Worker::RunJob(jobs::Job job) {
  if (FinishRequestedWhileLost(job)) return;
  auto claimed = ClaimToRun(job);
  if (!claimed.ok()) return;
  Execute(std::move(*claimed));
}

void Worker::Execute(jobs::Job job) {
  Log& log = Logger(options_);
  int attempt = job.attempts;
  SetForeground(job.id);
  log.Info("job " + std::to_string(job.id) + " running",
           {{"job", job.id}, {"version", job.version}, {"name", job.name}, {"attempt", attempt}});
  if (options_.on_transition) options_.on_transition();
  ReportDrift(*job_, job);

  auto started = Clock::now();
  jobs::Outcome outcome;
  auto finish = [&](JobStatus to, std::string why) {
    outcome.to = to;
    outcome.duration = std::chrono::duration_cast<Duration>(Clock::now() - started);
    SetForeground(0);
    if (to == JobStatus::kSucceeded) ++summary_.succeeded;
    Finished(jobs::Finish(*job_, options_.schema, job.id, outcome, {change_.actor, why}), job);
  };

  migrate::Migration migration = jobs::MigrationOf(job);
  if (Status split = migrate::SplitSections(migration); !split.ok()) {
    outcome.error = ErrorOf(split, migration);
    return finish(JobStatus::kFailed, "its SQL does not parse");
  }
  outcome.statements_total = static_cast<int>(migration.up.statements.size());
  auto history = migrate::ReadHistoryWhere(*job_, options_.schema, "version = $1", {job.version});
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

  Duration interval = std::clamp(settings.lock_timeout / 4, Duration(10), Duration(50));
  release::BlockerWatch* watch = BlockerWatchFor(interval);
  std::string requested;
  {
    // SIGTERM/SIGINT cancel the running statement, by the runner's rules; the job is then given
    // back for the next worker (below).
    pg::Connection* connection = job_.get();
    interrupt::CancelHook cancel_on_signal([connection] { connection->RequestCancel(); });
    RequestWatch requests(control_.get(), *job_, url_, options_.read_sessions, options_.schema,
                          {job.id});
    release::ApplyWithRetries(*job_, migration, row, release_options, watch, item);
    requests.Stop();
    requested = requests.requested();
  }
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
    SetForeground(0);
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
  if (jobs::IsTransient(item.error) && attempt < options_.settings.max_attempts) {
    // The wait grows with this job's attempts (not with the worker's history).
    release::Backoff backoff({options_.release.backoff_initial, options_.release.backoff_max},
                             options_.seed);
    for (int i = 0; i < attempt; ++i) outcome.retry_after = backoff.Next();
    ++summary_.retrying;
    return finish(JobStatus::kRetrying, "transient error, attempt " + std::to_string(attempt) +
                                            " of " +
                                            std::to_string(options_.settings.max_attempts));
  }
  ++summary_.failed;
  finish(JobStatus::kFailed,
         jobs::IsTransient(item.error) ? "transient error, no attempts left" : "");
}

bool Worker::RunContract(jobs::Job job) {
  Log& log = Logger(options_);
  // The runner lock before the claim: while `tandem release`, `complete --now` or `abort` runs,
  // the job is left as it is, not claimed and given back. Polled briefly; the worker tries again
  // at its next pass.
  auto lock = migrate::RunnerLock::Acquire(*job_, options_.schema, Duration(100));
  if (!lock.ok()) {
    if (!job_->alive()) return true;  // reconnects
    if (contract_waits_.insert(job.id).second) {
      log.Info("job " + std::to_string(job.id) + " waits for the runner lock",
               {{"job", job.id}, {"version", job.version}, {"holder", lock.status().detail()}});
    }
    return false;
  }
  contract_waits_.erase(job.id);
  if (FinishRequestedWhileLost(job)) return true;
  auto claimed = ClaimToRun(job);
  if (!claimed.ok()) return true;
  int attempt = claimed->attempts;
  SetForeground(job.id);
  log.Info("job " + std::to_string(job.id) + " running", {{"job", job.id},
                                                          {"version", job.version},
                                                          {"name", job.name},
                                                          {"attempt", attempt},
                                                          {"kind", job.kind}});
  if (options_.on_transition) options_.on_transition();
  ReportDrift(*job_, *claimed);
  auto started = Clock::now();
  ContractRun run;
  std::string requested;
  {
    pg::Connection* connection = job_.get();
    interrupt::CancelHook cancel_on_signal([connection] { connection->RequestCancel(); });
    RequestWatch requests(control_.get(), *job_, url_, options_.read_sessions, options_.schema,
                          {job.id});
    run = RunContractJob(*job_, options_, *claimed, log);
    requests.Stop();
    requested = requests.requested();
  }
  SetForeground(0);
  if (!job_->alive()) {
    // The runner lock and the worker lock went with the session: the next holder takes the job
    // over from the first step not recorded.
    log.Error("lost the connection running job " + std::to_string(job.id),
              {{"job", job.id}, {"error", run.status.message()}});
    return true;
  }
  jobs::Outcome outcome;
  outcome.duration = std::chrono::duration_cast<Duration>(Clock::now() - started);
  outcome.statements_done = run.steps_done;
  outcome.statements_total = run.steps_total;
  if (!run.status.ok()) {
    jobs::JobError error;
    error.sqlstate = run.status.sqlstate();
    error.message = run.status.message();
    error.detail = run.status.detail();
    outcome.error = error;
  }
  std::string why;
  if (run.aborted) {
    outcome.to = JobStatus::kCancelled;
    why = "online migration " + job.version + " was aborted";
  } else if (run.status.ok()) {
    outcome.to = JobStatus::kSucceeded;
    if (run.completed_already) why = "completed already (by tandem complete --now)";
    ++summary_.succeeded;
  } else if (interrupt::Requested()) {
    outcome.to = JobStatus::kQueued;
    why = "the worker was stopped by " + std::string(interrupt::SignalName(interrupt::Signal())) +
          "; the next worker resumes it";
  } else if (requested == "cancel") {
    outcome.to = JobStatus::kCancelled;
    why = "cancelled by a person";
  } else if (requested == "pause") {
    outcome.to = JobStatus::kPaused;
    why = "paused by a person";
  } else if (jobs::IsTransient(run.status) && attempt < options_.settings.max_attempts) {
    release::Backoff backoff({options_.release.backoff_initial, options_.release.backoff_max},
                             options_.seed);
    for (int i = 0; i < attempt; ++i) outcome.retry_after = backoff.Next();
    outcome.to = JobStatus::kRetrying;
    why = "transient error, attempt " + std::to_string(attempt) + " of " +
          std::to_string(options_.settings.max_attempts);
    ++summary_.retrying;
  } else {
    outcome.to = JobStatus::kFailed;
    ++summary_.failed;
  }
  // Recorded while the runner lock is held: an abort waiting for it sees the job's outcome.
  Finished(jobs::Finish(*job_, options_.schema, job.id, outcome, {change_.actor, why}), job);
  return true;
}

void Worker::RunRun(const std::vector<long long>& ids) {
  Log& log = Logger(options_);
  auto claimed = jobs::ClaimRun(*job_, options_.schema, ids, {change_.actor, ""});
  if (!claimed.ok()) {
    log.Warning("could not claim a run of jobs", {{"error", claimed.status().message()}});
    return;
  }
  // A job a person changed between the schedule and the claim ends the run before it.
  std::vector<jobs::Job> run;
  std::vector<jobs::RunOutcome> outcomes;
  for (size_t i = 0; i < claimed->size(); ++i) {
    jobs::Job& job = (*claimed)[i];
    if (run.size() == i && i < ids.size() && job.id == ids[i]) {
      run.push_back(std::move(job));
    } else {
      outcomes.push_back({job.id, JobStatus::kQueued, Duration(0), 0, "given back: not in order"});
    }
  }
  if (options_.on_transition) options_.on_transition();
  // Each job's migration, ready to apply; one that is not (it does not split, it was applied
  // already, its limits are invalid) ends the run: it runs alone next, where each case is
  // handled and recorded.
  std::vector<migrate::Migration> migrations;
  migrations.reserve(run.size());
  std::string versions = "{";
  for (size_t i = 0; i < run.size(); ++i) versions += (i ? "," : "") + run[i].version;
  auto rows = migrate::ReadHistoryWhere(*job_, options_.schema, "version = ANY($1::text[])",
                                        {versions + "}"});
  config::ReleaseSettings settings = options_.release;
  settings.statement_timeout = options_.settings.statement_timeout;
  std::vector<migrate::UpItem> items;
  size_t ready = 0;
  for (; rows.ok() && ready < run.size(); ++ready) {
    migrations.push_back(jobs::MigrationOf(run[ready]));
    migrate::Migration& m = migrations.back();
    const migrate::HistoryRow* previous = nullptr;
    for (const auto& r : *rows)
      if (r.version == m.version) previous = &r;
    if (previous && previous->status == "succeeded") break;
    if (!migrate::SplitSections(m).ok()) break;
    auto limits = release::LimitsFor(m, settings);
    if (!limits.ok()) break;
    migrate::ApplyOptions apply;
    apply.schema = options_.schema;
    apply.limits = *limits;
    items.push_back({&m, previous, apply});
    ReportDrift(*job_, run[ready]);
  }
  std::vector<migrate::ApplyOutcome> applied;
  // The job that must run alone, already claimed: the first one when none could join the run,
  // or the one that failed inside it (lock-timeout retries, attempts and its error are then
  // handled as for any job).
  std::optional<size_t> alone;
  if (items.empty()) alone = 0;
  if (!items.empty()) {
    std::vector<long long> watched;
    for (size_t i = 0; i < items.size(); ++i) watched.push_back(run[i].id);
    pg::Connection* connection = job_.get();
    interrupt::CancelHook cancel_on_signal([connection] { connection->RequestCancel(); });
    RequestWatch requests(control_.get(), *job_, url_, options_.read_sessions, options_.schema,
                          watched);
    SetForeground(run.front().id);
    applied = migrate::ApplyUpAll(*job_, items);
    requests.Stop();
    SetForeground(0);
  }
  if (!job_->alive()) {
    log.Error("lost the connection running a run of jobs; the next worker resumes them");
    return;
  }
  // Requests that arrived meanwhile are honoured for the jobs that did not finish.
  std::map<long long, std::string> requested;
  if (auto open = jobs::ListOpenJobs(*job_, options_.schema); open.ok()) {
    for (const auto& j : *open) requested[j.id] = j.requested;
  }
  if (!applied.empty() && !applied.back().succeeded && !interrupt::Requested() &&
      requested[run[applied.size() - 1].id].empty()) {
    alone = applied.size() - 1;
  }
  std::vector<size_t> recorded;  // indexes into run, in outcome order
  for (size_t i = 0; i < run.size(); ++i) {
    if (alone && *alone == i) continue;
    recorded.push_back(i);
    const jobs::Job& job = run[i];
    jobs::RunOutcome o{job.id, JobStatus::kQueued, Duration(0), 0, ""};
    if (i < applied.size() && applied[i].succeeded) {
      o.to = JobStatus::kSucceeded;
      o.duration = applied[i].duration;
      o.statements = applied[i].statements_total;
      ++summary_.succeeded;
    } else if (requested[job.id] == "cancel") {
      o.to = JobStatus::kCancelled;
      o.reason = "cancelled by a person";
    } else if (requested[job.id] == "pause") {
      o.to = JobStatus::kPaused;
      o.reason = "paused by a person";
    } else if (interrupt::Requested()) {
      o.reason = "the worker was stopped; the next worker runs it";
    } else {
      o.reason = "given back: a job before it did not succeed";
    }
    outcomes.push_back(std::move(o));
  }
  if (Status s = jobs::FinishRun(*job_, options_.schema, outcomes, change_.actor); !s.ok()) {
    log.Error("could not record the outcome of a run of jobs", {{"error", s.message()}});
    return;
  }
  for (size_t k = 0; k < recorded.size(); ++k) {
    size_t i = recorded[k];
    const jobs::RunOutcome& o = outcomes[outcomes.size() - recorded.size() + k];
    nlohmann::json fields = {{"job", run[i].id},
                             {"version", run[i].version},
                             {"name", run[i].name},
                             {"state", std::string(jobs::StatusName(o.to))}};
    if (o.to == JobStatus::kSucceeded) fields["duration_ms"] = o.duration.count();
    if (!o.reason.empty()) fields["reason"] = o.reason;
    log.Info("job " + std::to_string(run[i].id) + " " + std::string(jobs::StatusName(o.to)),
             fields);
  }
  if (options_.on_transition) options_.on_transition();
  if (alone) Execute(std::move(run[*alone]));
}

void Worker::StartBackground(const jobs::Schedule& schedule, std::vector<jobs::Job>& open) {
  ReapBackground(/*all=*/false);
  summary_.deferred = false;
  for (long long id : schedule.background) {
    if (static_cast<int>(background_.size()) >= options_.background.max_parallel) return;
    if (background_.count(id)) continue;  // running here already (its status says running)
    auto job =
        std::find_if(open.begin(), open.end(), [id](const jobs::Job& j) { return j.id == id; });
    if (job == open.end()) continue;
    std::string table = jobs::BackgroundTable(*job);
    bool busy = std::any_of(background_.begin(), background_.end(),
                            [&](const auto& r) { return r.second->table == table; });
    if (busy) continue;  // an older job on it, resumed meanwhile, waits for this one
    // A fleet replica's sessions are bounded: the job waits for the next pass with two free
    // (its own and its block watch's, background/throttle.h).
    if (options_.work_sessions) {
      if (!options_.work_sessions->TryAcquire()) {
        summary_.deferred = true;
        return;
      }
      if (!options_.work_sessions->TryAcquire()) {
        options_.work_sessions->Release();
        summary_.deferred = true;
        return;
      }
    }
    auto run = std::make_unique<BackgroundRun>();
    run->job = *job;
    run->table = table;
    BackgroundRun* raw = run.get();
    background_[id] = std::move(run);
    raw->thread = std::thread([this, raw] {
      RunBackground(*raw);  // its session is closed when it returns
      if (options_.work_sessions) {
        options_.work_sessions->Release();
        options_.work_sessions->Release();
      }
      raw->done = true;
    });
  }
}

void Worker::RunBackground(BackgroundRun& run) {
  Log& log = Logger(options_);
  jobs::Job& job = run.job;
  auto opened = pg::Connection::Open(url_);
  if (!opened.ok()) {
    log.Error("could not connect to run job " + std::to_string(job.id),
              {{"job", job.id}, {"error", opened.status().message()}});
    return;
  }
  pg::Connection& connection = **opened;
  // A person asked to pause or cancel it while the worker running it was lost.
  if (job.status == JobStatus::kRunning && !job.requested.empty()) {
    jobs::Outcome outcome;
    outcome.to = job.requested == "cancel" ? JobStatus::kCancelled : JobStatus::kPaused;
    Finished(jobs::Finish(connection, options_.schema, job.id, outcome,
                          {change_.actor, "requested while the worker running it was lost"}),
             job);
    return;
  }
  std::string reason = job.status == JobStatus::kRunning
                           ? "taken over from " + job.worker + ", which stopped running it"
                           : "";
  auto claimed = jobs::Claim(connection, options_.schema, job.id, {change_.actor, reason});
  if (!claimed.ok()) {
    log.Warning("could not claim job " + std::to_string(job.id),
                {{"error", claimed.status().message()}});
    return;
  }
  SetBackground(job.id, true);
  struct Unmark {
    Worker* worker;
    long long id;
    ~Unmark() { worker->SetBackground(id, false); }
  } unmark{this, job.id};
  log.Info("job " + std::to_string(job.id) + " running", {{"job", job.id},
                                                          {"version", job.version},
                                                          {"name", job.name},
                                                          {"attempt", claimed->attempts},
                                                          {"table", run.table}});
  if (options_.on_transition) options_.on_transition();
  ReportDrift(connection, *claimed);
  auto started = Clock::now();
  // Batch by batch, each with its cursor (src/background/runner.h).
  background::RunResult result =
      RunBackgroundJob(connection, options_, *claimed, [this] { return stop_background_.load(); });
  if (result.lost) {
    log.Error("stopped running job " + std::to_string(job.id),
              {{"job", job.id}, {"reason", result.reason}});
    return;
  }
  jobs::Outcome outcome;
  outcome.to = result.to;
  outcome.error = result.error;
  outcome.duration = std::chrono::duration_cast<Duration>(Clock::now() - started);
  if (result.to == JobStatus::kFailed) ++run.failed;
  if (result.to == JobStatus::kSucceeded) ++run.succeeded;
  Finished(
      jobs::Finish(connection, options_.schema, job.id, outcome, {change_.actor, result.reason}),
      job);
}

void Worker::ReapBackground(bool all) {
  if (all) stop_background_ = true;
  for (auto it = background_.begin(); it != background_.end();) {
    BackgroundRun& run = *it->second;
    if (!all && !run.done) {
      ++it;
      continue;
    }
    if (run.thread.joinable()) run.thread.join();
    summary_.succeeded += run.succeeded;
    summary_.failed += run.failed;
    it = background_.erase(it);
  }
  stop_background_ = false;
}

WorkerSummary Worker::Run() {
  Log& log = Logger(options_);
  while (!interrupt::Requested()) {
    if (!job_ || !job_->alive() || (!lean() && (!control_ || !control_->alive()))) {
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
        // A NOTIFY says nothing about the lock: a standby only tries again at each poll, so that
        // it does not take a round trip per transition of the active worker's jobs.
        Wait(options_.settings.poll_interval, /*wake_on_notify=*/false);
        continue;
      }
    }
    auto ran = Step();
    if (!ran.ok()) {
      log.Error("could not read the jobs", {{"error", ran.status().message()}});
      if (options_.once) {
        summary_.status = ran.status();
        Disconnect();
        return summary_;
      }
      Wait(options_.settings.poll_interval);
      continue;
    }
    if (*ran) continue;
    watch_.reset();  // idle: no blocker watch polling the server until the next job
    // A background job that ends NOTIFYs (its transition), which wakes the wait at once.
    if (options_.once && background_.empty()) break;
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
