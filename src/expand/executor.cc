// Running the stored plan step by step (executor.h).
#include "expand/executor.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/interrupt.h"
#include "jobs/job.h"
#include "jobs/transitions.h"
#include "migrate/state.h"
#include "pg/quote.h"
#include "release/backoff.h"

namespace tandem::expand {
namespace {

using Clock = std::chrono::steady_clock;

bool IsLockConflict(const Status& s) { return s.sqlstate() == "55P03" || s.sqlstate() == "40P01"; }

std::string Ms(Duration d) { return std::to_string(d.count()) + "ms"; }

class Executor {
 public:
  Executor(pg::Connection& connection, const ExecOptions& options)
      : c_(connection), o_(options), s_(pg::QuoteIdentifier(options.schema)) {}

  Result<bool> Recorded(const std::string& version, const std::string& stage, int step) {
    TANDEM_ASSIGN_OR_RETURN(auto r, c_.Query("SELECT 1 FROM " + s_ +
                                                 ".online_steps WHERE version = $1 AND stage = $2 "
                                                 "AND step = $3",
                                             {version, stage, std::to_string(step)}));
    return r.rows() > 0;
  }

  pg::PipelineStep RecordStep(const std::string& version, const std::string& stage, int step,
                              const std::string& name) {
    return {"INSERT INTO " + s_ +
                ".online_steps (version, stage, step, name) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT DO NOTHING",
            {version, stage, std::to_string(step), name}};
  }

  // Test hook for crash tests: TANDEM_TEST_KILL_AFTER=<stage>:<step> makes the process kill
  // itself with SIGKILL right after that step is recorded (a real kill -9 at a step boundary).
  void AfterStep(const std::string& stage, int step) {
    if (o_.after_step) o_.after_step(stage, step);
    if (const char* kill_after = std::getenv("TANDEM_TEST_KILL_AFTER")) {
      if (std::string(kill_after) == stage + ":" + std::to_string(step))
        ::kill(::getpid(), SIGKILL);
    }
  }

  // Runs `attempt` until it succeeds, fails with something other than a lock conflict, or the
  // retry budget is spent (backoff with jitter between attempts, as release does).
  Status WithRetries(const std::string& what, const std::function<Status()>& attempt) {
    auto sleep = o_.sleep ? o_.sleep : [](Duration d) { interrupt::SleepFor(d); };
    release::Backoff backoff({o_.settings.backoff_initial, o_.settings.backoff_max});
    auto started = Clock::now();
    int conflicts = 0;
    while (true) {
      Status status = attempt();
      if (status.ok() || !IsLockConflict(status)) return status;
      ++conflicts;
      Duration wait = backoff.Next();
      auto spent = std::chrono::duration_cast<Duration>(Clock::now() - started);
      if (spent + wait > o_.settings.retry_budget) {
        return Status::Failed("could not " + what + " within the retry budget of " +
                              FormatDuration(o_.settings.retry_budget) + ": " +
                              std::to_string(conflicts) + " attempts ran into lock_timeout " +
                              FormatDuration(o_.settings.lock_timeout))
            .WithDetail(status.message())
            .WithHint(
                "end or wait for the sessions holding locks on the table, then run the "
                "same command again: it goes on from this step")
            .WithSqlState(status.sqlstate());
      }
      sleep(wait);
      if (interrupt::Requested()) return status;
    }
  }

  Status Limits(bool local, bool scan) {
    std::string set = local ? "SET LOCAL " : "SET ";
    TANDEM_RETURN_IF_ERROR(c_.Exec(set + "lock_timeout = '" + Ms(o_.settings.lock_timeout) + "'"));
    return c_.Exec(set + "statement_timeout = '" +
                   (scan ? std::string("0") : Ms(o_.settings.statement_timeout)) + "'");
  }

  // One step (or one undo), recorded as (stage, index) once done.
  Status RunStep(const std::string& version, const std::string& stage, int index,
                 const std::string& name, const std::vector<std::string>& sql, bool transactional,
                 bool scan, const std::string& invalid_index) {
    TANDEM_ASSIGN_OR_RETURN(bool done, Recorded(version, stage, index));
    if (done) return Status::Ok();
    if (transactional) {
      TANDEM_RETURN_IF_ERROR(WithRetries(name, [&]() -> Status {
        std::vector<pg::PipelineStep> steps = {{"BEGIN", {}}};
        std::string set = "SET LOCAL ";
        steps.push_back({"SET LOCAL lock_timeout = '" + Ms(o_.settings.lock_timeout) + "'", {}});
        steps.push_back({"SET LOCAL statement_timeout = '" +
                             (scan ? std::string("0") : Ms(o_.settings.statement_timeout)) + "'",
                         {}});
        for (const std::string& s : sql) steps.push_back({s, {}});
        steps.push_back(RecordStep(version, stage, index, name));
        steps.push_back({"COMMIT", {}});
        Status status = c_.ExecPipeline(steps).error;
        if (!status.ok() && c_.in_transaction()) c_.Exec("ROLLBACK");
        return status;
      }));
    } else {
      TANDEM_RETURN_IF_ERROR(Limits(false, scan));
      for (const std::string& s : sql) {
        Status status = WithRetries(name, [&]() -> Status {
          if (!invalid_index.empty()) TANDEM_RETURN_IF_ERROR(DropInvalidIndex(invalid_index));
          return c_.Exec(s);
        });
        if (!status.ok()) {
          c_.ResetSession();
          return status;
        }
      }
      TANDEM_RETURN_IF_ERROR(c_.ResetSession());
      auto recorded = c_.ExecPipeline({RecordStep(version, stage, index, name)});
      TANDEM_RETURN_IF_ERROR(recorded.error);
    }
    AfterStep(stage, index);
    return Status::Ok();
  }

  // An index left INVALID by a killed or failed CREATE INDEX CONCURRENTLY: IF NOT EXISTS
  // would keep it, so it is dropped (concurrently) before the build is tried again.
  Status DropInvalidIndex(const std::string& index) {
    TANDEM_ASSIGN_OR_RETURN(
        auto r, c_.Query("SELECT NOT i.indisvalid FROM pg_catalog.pg_index i WHERE i.indexrelid "
                         "= pg_catalog.to_regclass($1)",
                         {index}));
    if (r.rows() == 0 || !r.GetBool(0, 0)) return Status::Ok();
    return c_.Exec("DROP INDEX CONCURRENTLY IF EXISTS " + index);
  }

  Status RecordFailure(const std::string& version, const std::string& stage, int step,
                       const Status& error) {
    return c_.Exec("UPDATE " + s_ +
                       ".online_migrations SET failed_stage = $2, failed_step = $3, error = $4, "
                       "updated_at = clock_timestamp() WHERE version = $1",
                   {version, stage, std::to_string(step), error.message()});
  }

  Status ClearFailure(const std::string& version) {
    return c_.Exec("UPDATE " + s_ +
                       ".online_migrations SET failed_stage = NULL, failed_step = NULL, error = "
                       "NULL WHERE version = $1",
                   {version});
  }

  Status SetState(const std::string& version, const std::string& state) {
    return c_.Exec("UPDATE " + s_ +
                       ".online_migrations SET state = $2, updated_at = clock_timestamp() WHERE "
                       "version = $1",
                   {version, state});
  }

  // Runs `steps` of `stage` from the first one not recorded; a failure is recorded and
  // returned as kFailed naming the step.
  Status RunStage(const std::string& version, const std::string& stage,
                  const std::vector<Step>& steps) {
    for (size_t i = 0; i < steps.size(); ++i) {
      const Step& step = steps[i];
      Status status = RunStep(version, stage, static_cast<int>(i) + 1, step.name, step.sql,
                              step.transactional, step.scan, step.index);
      if (!status.ok()) {
        RecordFailure(version, stage, static_cast<int>(i) + 1, status);
        Status failed =
            Status::Failed("online migration " + version + " failed at " + stage + " step " +
                           std::to_string(i + 1) + " of " + std::to_string(steps.size()) + " (" +
                           step.name + "): " + status.message());
        failed.WithSqlState(status.sqlstate());
        std::string detail = status.detail();
        if (!detail.empty()) failed.WithDetail(detail);
        // Once a contract step is recorded, abort refuses: the only way is forward.
        bool undoable = stage != "contract" || i == 0;
        return std::move(failed).WithHint(
            undoable ? "fix the cause and run the same command again (it goes on from this step), "
                       "or undo everything with \"tandem abort " +
                           version + "\""
                     : "fix the cause and run \"tandem complete " + version +
                           "\" again: it goes on from this step");
      }
    }
    return Status::Ok();
  }

  Result<std::optional<OnlineState>> Read(const std::string& version) {
    return ReadOnlineState(c_, o_.schema, version);
  }

  pg::Connection& c_;
  const ExecOptions& o_;
  std::string s_;
};

bool OpenJob(const std::string& status) {
  auto parsed = jobs::ParseStatus(status);
  return parsed && !jobs::IsDone(*parsed) && *parsed != jobs::JobStatus::kFailed;
}

std::string Describe(const OnlineState& st) {
  bool live = st.state != "completed" && st.state != "aborted" && st.state != "aborting";
  if (live && st.contract_job_id != 0 && OpenJob(st.contract_job_status)) {
    return "contracting (job " + std::to_string(st.contract_job_id) + ", " +
           st.contract_job_status + ")";
  }
  if (!st.failed_stage.empty() && st.state != "completed" && st.state != "aborted") {
    return "failed at " + st.failed_stage + " step " + std::to_string(st.failed_step) + ": " +
           st.error;
  }
  if (st.state == "expanding") return "expanding";
  if (st.state == "expanded") {
    if (st.job_id == 0 || st.job_status == "succeeded") return "ready to complete";
    if (st.job_status == "failed") {
      return "backfill failed (job " + std::to_string(st.job_id) + ")";
    }
    return "backfilling (job " + std::to_string(st.job_id) + ", " + st.job_status + ")";
  }
  if (live && st.contract_job_status == "failed") {
    return "contract failed (job " + std::to_string(st.contract_job_id) + ")";
  }
  if (st.state == "contracting") return "contracting";
  if (st.state == "aborting") return "aborting";
  return st.state;  // completed, aborted
}

}  // namespace

Result<std::vector<OnlineState>> ReadOnlineStates(pg::Connection& connection,
                                                  const std::string& schema) {
  std::vector<OnlineState> out;
  TANDEM_ASSIGN_OR_RETURN(
      auto exists, connection.Query("SELECT pg_catalog.to_regclass(pg_catalog.quote_ident($1) || "
                                    "'.online_migrations') IS NOT NULL",
                                    {schema}));
  if (!exists.GetBool(0, 0)) return out;
  std::string s = pg::QuoteIdentifier(schema);
  TANDEM_ASSIGN_OR_RETURN(
      auto r,
      connection.Query("SELECT o.version, o.name, o.state, coalesce(o.failed_stage, ''), "
                       "coalesce(o.failed_step, 0), coalesce(o.error, ''), o.plan::text, "
                       "coalesce(j.id, 0), coalesce(j.status, ''), (SELECT count(*) FROM " +
                       s +
                       ".online_steps st WHERE st.version = o.version), coalesce(c.id, 0), "
                       "coalesce(c.status, ''), (SELECT count(*) FROM " +
                       s +
                       ".online_steps st WHERE st.version = o.version AND st.stage = "
                       "'contract') FROM " +
                       s + ".online_migrations o LEFT JOIN " + s +
                       ".jobs j ON j.kind = 'background' AND j.version = o.version LEFT JOIN " + s +
                       ".jobs c ON c.kind = 'contract' AND c.version = o.version ORDER BY "
                       "o.started_at, o.version"));
  for (size_t i = 0; i < r.rows(); ++i) {
    OnlineState st;
    st.version = r.Get(i, 0);
    st.name = r.Get(i, 1);
    st.state = r.Get(i, 2);
    st.failed_stage = r.Get(i, 3);
    st.failed_step = static_cast<int>(r.GetInt(i, 4));
    st.error = r.Get(i, 5);
    TANDEM_ASSIGN_OR_RETURN(st.plan, PlanFromJson(r.Get(i, 6)));
    st.job_id = r.GetInt(i, 7);
    st.job_status = r.Get(i, 8);
    st.steps_done = static_cast<int>(r.GetInt(i, 9));
    st.contract_job_id = r.GetInt(i, 10);
    st.contract_job_status = r.Get(i, 11);
    st.contract_steps_done = static_cast<int>(r.GetInt(i, 12));
    st.description = Describe(st);
    out.push_back(std::move(st));
  }
  return out;
}

Result<std::optional<OnlineState>> ReadOnlineState(pg::Connection& connection,
                                                   const std::string& schema,
                                                   const std::string& version) {
  TANDEM_ASSIGN_OR_RETURN(auto all, ReadOnlineStates(connection, schema));
  for (OnlineState& st : all)
    if (st.version == version) return std::optional<OnlineState>(std::move(st));
  return std::optional<OnlineState>();
}

Status Expand(pg::Connection& connection, const migrate::Migration& migration,
              const ExecOptions& options) {
  Executor x(connection, options);
  const std::string& v = migration.version;
  TANDEM_ASSIGN_OR_RETURN(auto existing, x.Read(v));
  Plan plan;
  if (existing && (existing->state == "expanding" || existing->state == "expanded")) {
    plan = existing->plan;  // a rerun: the plan of the first run, whatever the catalog says now
    TANDEM_RETURN_IF_ERROR(x.ClearFailure(v));
  } else if (existing && existing->state != "aborted") {
    return Status::Failed("online migration " + v + " is " + existing->description)
        .WithHint(existing->state == "completed" ? "nothing to do"
                                                 : "finish it with \"tandem complete " + v +
                                                       "\" or \"tandem abort " + v + "\"");
  } else {
    if (existing) {
      // Aborted before: its backfill job (cancelled, with the cursor it had) cannot be reused.
      TANDEM_ASSIGN_OR_RETURN(auto job, connection.Query("SELECT id FROM " + x.s_ +
                                                             ".jobs WHERE kind = 'background' AND "
                                                             "version = $1",
                                                         {v}));
      if (job.rows() > 0) {
        return Status::Failed("online migration " + v + " was aborted after its backfill job " +
                              job.Get(0, 0) + " was queued; releasing it again is not supported")
            .WithHint("give the migration a new version");
      }
    }
    TANDEM_ASSIGN_OR_RETURN(plan, PlanMigration(connection, migration));
    std::vector<pg::PipelineStep> steps = {
        {"BEGIN", {}},
        {"DELETE FROM " + x.s_ + ".online_steps WHERE version = $1", {v}},
        {"DELETE FROM " + x.s_ + ".online_migrations WHERE version = $1", {v}},
        {"INSERT INTO " + x.s_ +
             ".online_migrations (version, name, plan, state) VALUES ($1, $2, $3::jsonb, "
             "'expanding')",
         {v, migration.name, PlanToJson(plan)}},
        {"COMMIT", {}}};
    Status status = connection.ExecPipeline(steps).error;
    if (!status.ok()) {
      if (connection.in_transaction()) connection.Exec("ROLLBACK");
      return status;
    }
    TANDEM_RETURN_IF_ERROR(migrate::RecordEvent(connection, options.schema, v, "online.planned"));
  }
  if (!existing || existing->state != "expanded") {
    TANDEM_RETURN_IF_ERROR(x.RunStage(v, "expand", plan.expand));
  }

  // The backfill job, the migration recorded as applied and the state expanded: together.
  migrate::Migration backfill;
  std::vector<const migrate::Migration*> queue;
  if (plan.backfill) {
    backfill.version = v;
    backfill.name = migration.name + " (backfill)";
    backfill.phase = migrate::Phase::kBackground;
    backfill.paths = migration.paths;
    backfill.up.path = migration.up.path;
    backfill.up.text = plan.backfill->sql;
    backfill.up.text_line = migration.up.text_line;
    backfill.checksum = migration.checksum;
    backfill.batch = migrate::BatchSpec{plan.backfill->table, "ctid", std::nullopt, {}};
    queue.push_back(&backfill);
  }
  std::string s = x.s_;
  std::vector<pg::PipelineStep> steps = {{"BEGIN", {}}};
  for (auto& step :
       jobs::QueueJobSteps(options.schema, queue, false,
                           {options.actor, "online migration " + v + " expanded"}, "tandem")) {
    steps.push_back(std::move(step));
  }
  steps.push_back(
      {"INSERT INTO " + s +
           ".migrations (version, name, phase, checksum, status, transactional, statements_done, "
           "statements_total, started_at, finished_at, applied_by_host, applied_by_pid, "
           "tandem_version) VALUES ($1, $2, 'pre-deploy', $3, 'succeeded', true, $4, $4, now(), "
           "clock_timestamp(), $5, pg_backend_pid(), $6) ON CONFLICT (version) DO UPDATE SET "
           "status = 'succeeded', checksum = EXCLUDED.checksum, statements_done = "
           "EXCLUDED.statements_done, finished_at = EXCLUDED.finished_at, error_message = NULL, "
           "error_sqlstate = NULL",
       {v, migration.name, migration.checksum, std::to_string(migration.up.statements.size()),
        migrate::HostName(), TANDEM_VERSION}});
  steps.push_back({"UPDATE " + s +
                       ".online_migrations SET state = 'expanded', updated_at = clock_timestamp() "
                       "WHERE version = $1",
                   {v}});
  steps.push_back({"INSERT INTO " + s +
                       ".events (version, event, actor, detail) VALUES ($1, 'online.expanded', $2, "
                       "'{}')",
                   {v, migrate::Actor()}});
  steps.push_back({"COMMIT", {}});
  Status status = connection.ExecPipeline(steps).error;
  if (!status.ok()) {
    if (connection.in_transaction()) connection.Exec("ROLLBACK");
    return std::move(status).Prefix("could not record online migration " + v + " as expanded");
  }
  return Status::Ok();
}

namespace {

// Why `st` cannot be contracted now (Ok when it can, or when it is completed already).
Status CheckCompletable(const std::optional<OnlineState>& st, const std::string& version) {
  if (!st) {
    return Status::InvalidInput("no online migration " + version + " has been released")
        .WithHint("see \"tandem status\"");
  }
  if (st->state == "completed") return Status::Ok();
  if (st->state != "expanded" && st->state != "contracting") {
    return Status::Failed("online migration " + version + " cannot be completed: it is " +
                          st->description)
        .WithHint(st->state == "expanding" ? "run \"tandem release\" again to finish the expand"
                                           : "release it again");
  }
  if (st->state == "expanded" && st->job_id != 0 && st->job_status != "succeeded") {
    return Status::Failed("online migration " + version +
                          " is not ready to complete: its "
                          "backfill (job " +
                          std::to_string(st->job_id) + ") is " + st->job_status)
        .WithDetail("the contract drops the old columns, so every row must be filled first")
        .WithHint("let the worker finish it, or run it now with \"tandem jobs finalize " +
                  std::to_string(st->job_id) + "\"");
  }
  return Status::Ok();
}

// The contract steps' SQL, as `tandem jobs show` prints a contract job.
std::string ContractSql(const Plan& plan) {
  std::string out;
  for (size_t i = 0; i < plan.contract.size(); ++i) {
    out += "-- contract step " + std::to_string(i + 1) + " of " +
           std::to_string(plan.contract.size()) + ": " + plan.contract[i].name + "\n";
    for (const std::string& sql : plan.contract[i].sql) out += sql + ";\n";
  }
  return out;
}

}  // namespace

Status Complete(pg::Connection& connection, const std::string& version,
                const ExecOptions& options) {
  Executor x(connection, options);
  TANDEM_ASSIGN_OR_RETURN(auto st, x.Read(version));
  TANDEM_RETURN_IF_ERROR(CheckCompletable(st, version));
  if (st->state == "completed") return Status::Ok();
  TANDEM_RETURN_IF_ERROR(x.ClearFailure(version));
  if (st->state == "expanded") {
    TANDEM_RETURN_IF_ERROR(x.SetState(version, "contracting"));
  }
  TANDEM_RETURN_IF_ERROR(x.RunStage(version, "contract", st->plan.contract));
  TANDEM_RETURN_IF_ERROR(x.SetState(version, "completed"));
  return migrate::RecordEvent(connection, options.schema, version, "online.completed");
}

Status CompleteNow(pg::Connection& connection, const std::string& version,
                   const ExecOptions& options) {
  TANDEM_ASSIGN_OR_RETURN(auto job, jobs::FindContractJob(connection, options.schema, version));
  if (!job || jobs::IsDone(job->status)) return Complete(connection, version, options);
  {
    // A contract that cannot run leaves its job as it is.
    TANDEM_ASSIGN_OR_RETURN(auto st, ReadOnlineState(connection, options.schema, version));
    TANDEM_RETURN_IF_ERROR(CheckCompletable(st, version));
  }
  // The job is this process's now: made runnable (as a person would), then claimed. Under the
  // runner lock no worker runs it (a worker takes that lock before it claims a contract job),
  // so a running one was left by a worker or a `complete --now` that died: taken over.
  jobs::Change change{options.actor, "run by tandem complete --now"};
  using S = jobs::JobStatus;
  Result<jobs::Job> ready = *job;
  if (job->status == S::kPaused) ready = jobs::Resume(connection, options.schema, job->id, change);
  if (job->status == S::kFailed) ready = jobs::Retry(connection, options.schema, job->id, change);
  if (ready.ok() && ready->status == S::kAwaitingApproval) {
    ready = jobs::Approve(connection, options.schema, job->id, change);
  }
  if (!ready.ok()) return ready.status();
  TANDEM_ASSIGN_OR_RETURN(auto claimed, jobs::Claim(connection, options.schema, job->id, change));
  ExecOptions with_progress = options;
  with_progress.after_step = [&](const std::string& stage, int step) {
    if (stage == "contract") jobs::RecordStepsDone(connection, options.schema, claimed.id, step);
    if (options.after_step) options.after_step(stage, step);
  };
  auto started = std::chrono::steady_clock::now();
  Status status = Complete(connection, version, with_progress);
  if (!connection.alive()) return status;  // the job is taken over by whoever runs it next
  jobs::Outcome outcome;
  outcome.to = status.ok() ? S::kSucceeded : S::kFailed;
  if (!status.ok() && interrupt::Requested()) outcome.to = S::kQueued;  // given back
  outcome.duration =
      std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started);
  outcome.statements_total = claimed.statements_total;
  if (auto st = ReadOnlineState(connection, options.schema, version); st.ok() && *st) {
    outcome.statements_done = (*st)->contract_steps_done;
  }
  if (!status.ok()) {
    jobs::JobError error;
    error.sqlstate = status.sqlstate();
    error.message = status.message();
    error.detail = status.detail();
    outcome.error = error;
  }
  auto finished = jobs::Finish(connection, options.schema, claimed.id, outcome, change);
  if (!status.ok()) return status;
  if (!finished.ok()) return finished.status();
  return Status::Ok();
}

Result<QueuedContract> QueueComplete(pg::Connection& connection, const std::string& version,
                                     const ExecOptions& options) {
  Executor x(connection, options);
  TANDEM_ASSIGN_OR_RETURN(auto st, x.Read(version));
  QueuedContract out;
  if (st && st->state == "completed") {
    out.completed = true;
    out.job_id = st->contract_job_id;
    out.job_status = st->contract_job_status;
    return out;
  }
  TANDEM_RETURN_IF_ERROR(CheckCompletable(st, version));
  jobs::Change change{options.actor, "tandem complete " + version};
  if (st->contract_job_id != 0) {
    out.job_id = st->contract_job_id;
    out.job_status = st->contract_job_status;
    if (out.job_status == "failed" || out.job_status == "cancelled") {
      // Rerunning complete is how a contract that failed half-way is finished.
      TANDEM_ASSIGN_OR_RETURN(auto retried,
                              jobs::Retry(connection, options.schema, out.job_id, change));
      out.requeued = true;
      out.job_status = std::string(jobs::StatusName(retried.status));
      return out;
    }
    if (out.job_status == "succeeded") {
      return Status::Failed("the contract job " + std::to_string(out.job_id) + " of " + version +
                            " succeeded, but the migration is " + st->description)
          .WithHint("run \"tandem complete " + version + " --now\"");
    }
    return out;  // queued, running, retrying, paused or awaiting approval: one job is enough
  }
  TANDEM_ASSIGN_OR_RETURN(auto checksum,
                          connection.Query("SELECT coalesce((SELECT checksum FROM " + x.s_ +
                                               ".migrations WHERE version = $1), '')",
                                           {version}));
  jobs::ContractJob contract;
  contract.version = version;
  contract.name = st->name + " (contract)";
  contract.layout = options.layout;
  contract.sql = ContractSql(st->plan);
  contract.checksum = checksum.Get(0, 0);
  contract.steps = static_cast<int>(st->plan.contract.size());
  TANDEM_ASSIGN_OR_RETURN(auto queued,
                          jobs::QueueContract(connection, options.schema, contract, change));
  out.created = queued.created;
  out.job_id = queued.job.id;
  out.job_status = std::string(jobs::StatusName(queued.job.status));
  return out;
}

Status Abort(pg::Connection& connection, const std::string& version, const ExecOptions& options) {
  Executor x(connection, options);
  TANDEM_ASSIGN_OR_RETURN(auto st, x.Read(version));
  if (!st) {
    return Status::InvalidInput("no online migration " + version + " has been released")
        .WithHint("see \"tandem status\"");
  }
  if (st->state == "aborted") return Status::Ok();
  if (st->state == "completed") {
    return Status::Failed("online migration " + version +
                          " is completed: its old columns and tables are gone")
        .WithHint("write a new migration to change the schema back");
  }
  // A contract step done may have dropped the old columns, tables or triggers: refused before
  // anything changes (the database, the jobs and the events stay as they are).
  if (st->contract_steps_done > 0) {
    return Status::Failed("contract of " + version + " has started (step " +
                          std::to_string(st->contract_steps_done) + " of " +
                          std::to_string(st->plan.contract.size()) +
                          " done); it cannot be undone without losing the old columns")
        .WithDetail("online migration " + version + " is " + st->description)
        .WithHint("run \"tandem complete " + version + "\" to finish it");
  }
  TANDEM_RETURN_IF_ERROR(x.ClearFailure(version));
  TANDEM_RETURN_IF_ERROR(x.SetState(version, "aborting"));
  if (st->contract_job_id != 0) {
    auto parsed = jobs::ParseStatus(st->contract_job_status);
    jobs::Change change{options.actor, "online migration " + version + " aborted"};
    if (parsed == jobs::JobStatus::kRunning) {
      // Under the runner lock, which the worker holds while it runs a contract job, a running
      // one is left by a process that died: it ran no step (none is recorded).
      jobs::Outcome outcome;
      outcome.to = jobs::JobStatus::kCancelled;
      outcome.statements_total = static_cast<int>(st->plan.contract.size());
      auto finished =
          jobs::Finish(connection, options.schema, st->contract_job_id, outcome, change);
      if (!finished.ok()) return finished.status();
    } else if (parsed && !jobs::IsDone(*parsed)) {
      auto cancelled = jobs::Cancel(connection, options.schema, st->contract_job_id, change);
      if (!cancelled.ok()) return cancelled.status();
    }
  }
  if (st->job_id != 0 && st->job_status != "succeeded" && st->job_status != "cancelled") {
    auto cancelled = jobs::Cancel(connection, options.schema, st->job_id,
                                  {options.actor, "online migration " + version + " aborted"});
    if (!cancelled.ok()) return cancelled.status();
  }
  // Newest first: each undo recorded as ("abort", the expand step's number).
  const std::vector<Step>& steps = st->plan.expand;
  for (int i = static_cast<int>(steps.size()); i >= 1; --i) {
    TANDEM_ASSIGN_OR_RETURN(bool done, x.Recorded(version, "expand", i));
    if (!done) {
      // A step not recorded did not commit (transactional) or may have half run (an index
      // built concurrently): its undo is idempotent, so it runs anyway.
      if (steps[i - 1].transactional) continue;
    }
    const Step& step = steps[i - 1];
    if (step.undo.empty()) continue;
    Status status = x.RunStep(version, "abort", i, "undo: " + step.name, step.undo,
                              step.undo_transactional, false, "");
    if (!status.ok()) {
      x.RecordFailure(version, "abort", i, status);
      return Status::Failed("could not abort online migration " + version +
                            " at the undo of "
                            "expand step " +
                            std::to_string(i) + " (" + step.name + "): " + status.message())
          .WithHint("fix the cause and run \"tandem abort " + version + "\" again");
    }
  }
  std::vector<pg::PipelineStep> finish = {
      {"BEGIN", {}},
      {"DELETE FROM " + x.s_ + ".migrations WHERE version = $1", {version}},
      {"UPDATE " + x.s_ +
           ".online_migrations SET state = 'aborted', updated_at = clock_timestamp() WHERE "
           "version = $1",
       {version}},
      {"INSERT INTO " + x.s_ +
           ".events (version, event, actor, detail) VALUES ($1, 'online.aborted', $2, '{}')",
       {version, migrate::Actor()}},
      {"COMMIT", {}}};
  Status status = connection.ExecPipeline(finish).error;
  if (!status.ok() && connection.in_transaction()) connection.Exec("ROLLBACK");
  return status;
}

}  // namespace tandem::expand
