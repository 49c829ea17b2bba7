#include "jobs/transitions.h"

#include <nlohmann/json.hpp>

#include "pg/quote.h"

namespace tandem::jobs {
namespace {

// One transition as data: the states it may start from, the assignments it makes, and what its
// event says. Params $1..$4 are fixed (id, allowed states, actor, detail); `set` uses $5 on.
struct Update {
  std::vector<JobStatus> from;
  // SQL for the new status (a literal, or a CASE on the row); the event is "job.<new status>"
  // unless `event` is set (a request on a running job changes no status).
  std::string status_sql;
  std::string event;
  std::string set;  // further assignments, comma first, with parameters from $5
  std::vector<pg::Param> params;
  nlohmann::json detail = nlohmann::json::object();
  bool with_sql = false;  // the changed row comes back with its SQL
  std::string extra_cte;  // ", name AS (...)": more writes in the same statement, over u
};

Update Make(std::vector<JobStatus> from, std::string status_sql, std::string event = "",
            std::string set = "") {
  Update update;
  update.from = std::move(from);
  update.status_sql = std::move(status_sql);
  update.event = std::move(event);
  update.set = std::move(set);
  return update;
}

std::string Literal(JobStatus status) { return "'" + std::string(StatusName(status)) + "'"; }

std::string StatesArray(const std::vector<JobStatus>& states) {
  std::string out = "{";
  for (size_t i = 0; i < states.size(); ++i) {
    out += (i ? "," : "") + std::string(StatusName(states[i]));
  }
  return out + "}";
}

nlohmann::json ErrorJson(const JobError& e) {
  nlohmann::json out = {{"sqlstate", e.sqlstate},   {"message", e.message},
                        {"statement", e.statement}, {"file", e.file},
                        {"line", e.line},           {"column", e.column}};
  if (!e.detail.empty()) out["detail"] = e.detail;
  return out;
}

// Applies `update` in one statement (so in one transaction, one round trip): the row changes
// only if its status is allowed, the event is appended and the NOTIFY sent with it. nullopt
// when the job's status did not allow it.
Result<std::optional<Job>> Apply(pg::Connection& connection, const std::string& schema,
                                 long long id, const Update& update, const Change& change) {
  std::string s = pg::QuoteIdentifier(schema);
  nlohmann::json detail = update.detail;
  if (!change.reason.empty()) detail["reason"] = change.reason;
  std::vector<pg::Param> params = {std::to_string(id), StatesArray(update.from), change.actor,
                                   detail.dump()};
  params.insert(params.end(), update.params.begin(), update.params.end());
  std::string event_sql = "'job.' || u.status";
  if (!update.event.empty()) {
    params.push_back(update.event);
    event_sql = "$" + std::to_string(params.size()) + "::text";
  }
  std::string sql =
      "WITH cur AS (SELECT id, status FROM " + s +
      ".jobs WHERE id = $1 FOR UPDATE), "
      "u AS (UPDATE " +
      s + ".jobs j SET status = " + update.status_sql + update.set +
      ", updated_at = clock_timestamp() FROM cur WHERE j.id = cur.id AND cur.status = "
      "ANY($2::text[]) "
      "RETURNING j.*, cur.status AS from_status), "
      "e AS (INSERT INTO " +
      s + ".events (version, event, actor, detail) SELECT u.version, " + event_sql +
      ", $3, $4::jsonb || jsonb_strip_nulls(jsonb_build_object('job', u.id, 'kind', u.kind, "
      "'name', u.name, 'from', u.from_status, 'to', u.status, 'attempt', u.attempts, "
      "'next_attempt_at', to_char(u.run_after AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))) FROM u) " +
      update.extra_cte +
      // The changed row comes back with the NOTIFY: no second read of the job.
      "SELECT " + JobColumns(update.with_sql) + ", pg_catalog.pg_notify('" +
      std::string(kNotifyChannel) + "', u.id::text) FROM u";
  TANDEM_ASSIGN_OR_RETURN(auto result, connection.Query(sql, params));
  std::vector<Job> changed = JobsFromResult(result);
  if (changed.empty()) return std::optional<Job>{};
  return std::optional<Job>(std::move(changed.front()));
}

Status NoSuchJob(long long id) {
  return Status::InvalidInput("job " + std::to_string(id) + " does not exist")
      .WithHint("run \"tandem jobs list\" to see the jobs and their ids");
}

Status NotAllowed(const Job& job, std::string_view verb, std::string_view hint) {
  return Status::Failed("cannot " + std::string(verb) + " job " + std::to_string(job.id) + " (" +
                        job.version + " " + job.name + "): it is " +
                        std::string(StatusName(job.status)))
      .WithHint(std::string(hint));
}

// Reads the job, lets `decide` pick the update for its current state (or refuse), applies it.
// A concurrent change between the read and the update (a worker claiming it) is retried.
Result<Job> Transition(pg::Connection& connection, const std::string& schema, long long id,
                       const Change& change,
                       const std::function<Result<Update>(const Job&)>& decide) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    TANDEM_ASSIGN_OR_RETURN(auto current, FindJob(connection, schema, id, /*with_sql=*/false));
    if (!current) return NoSuchJob(id);
    TANDEM_ASSIGN_OR_RETURN(Update update, decide(*current));
    TANDEM_ASSIGN_OR_RETURN(auto changed, Apply(connection, schema, id, update, change));
    if (changed) return std::move(*changed);
  }
  return Status::Failed("job " + std::to_string(id) + " keeps changing state")
      .WithHint("try again");
}

using S = JobStatus;

// `-- tandem:batch table=... key=... size=...` of a background migration, as the worker reads
// it back (jobs.batch); NULL for other migrations.
pg::Param BatchJson(const migrate::Migration& m) {
  if (!m.batch) return std::nullopt;
  nlohmann::json batch = {{"table", m.batch->table}, {"key", m.batch->key}};
  batch["size"] = m.batch->size ? nlohmann::json(*m.batch->size) : nlohmann::json("auto");
  return batch.dump();
}

}  // namespace

Status QueueJobs(pg::Connection& connection, const std::string& schema,
                 const std::vector<const migrate::Migration*>& migrations, bool require_approval,
                 const Change& change, std::string_view layout) {
  return connection
      .ExecPipeline(QueueJobSteps(schema, migrations, require_approval, change, layout))
      .error;
}

std::vector<pg::PipelineStep> QueueJobSteps(
    const std::string& schema, const std::vector<const migrate::Migration*>& migrations,
    bool require_approval, const Change& change, std::string_view layout) {
  std::vector<pg::PipelineStep> steps;
  std::string s = pg::QuoteIdentifier(schema);
  JobStatus status = require_approval ? S::kAwaitingApproval : S::kQueued;
  for (const migrate::Migration* m : migrations) {
    nlohmann::json detail = {{"reason", change.reason.empty() ? "released" : change.reason}};
    auto optional_ms = [](const std::optional<Duration>& d) -> pg::Param {
      if (!d) return std::nullopt;
      return std::to_string(d->count());
    };
    int statements = m->up.split ? static_cast<int>(m->up.statements.size()) : 0;
    steps.push_back(pg::PipelineStep{
        "WITH u AS (INSERT INTO " + s +
            ".jobs (kind, version, name, status, approved, layout, path, sql, sql_line, checksum, "
            "transactional, lock_timeout_ms, statement_timeout_ms, statements_total, batch) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $17::jsonb) "
            "ON CONFLICT (kind, version) "
            "DO NOTHING RETURNING id, version, kind, name, status, attempts), "
            "e AS (INSERT INTO " +
            s +
            ".events (version, event, actor, detail) SELECT u.version, 'job.' || u.status, $15, "
            "$16::jsonb || jsonb_build_object('job', u.id, 'kind', u.kind, 'name', u.name, "
            "'to', u.status, 'attempt', u.attempts) FROM u) "
            "SELECT pg_catalog.pg_notify('" +
            std::string(kNotifyChannel) + "', u.id::text) FROM u",
        {std::string(migrate::PhaseName(m->phase)), m->version, m->name,
         std::string(StatusName(status)), require_approval ? "false" : "true", std::string(layout),
         m->up.path.empty() ? (m->paths.empty() ? "" : m->paths.front()) : m->up.path, m->up.text,
         std::to_string(m->up.text_line), m->checksum, m->transactional ? "true" : "false",
         optional_ms(m->lock_timeout), optional_ms(m->statement_timeout),
         std::to_string(statements), change.actor, detail.dump(), BatchJson(*m)}});
  }
  return steps;
}

Result<Queued> QueueContract(pg::Connection& connection, const std::string& schema,
                             const ContractJob& contract, const Change& change) {
  std::string s = pg::QuoteIdentifier(schema);
  nlohmann::json detail = {{"reason", change.reason.empty() ? "completed" : change.reason}};
  TANDEM_ASSIGN_OR_RETURN(
      auto result,
      connection.Query(
          "WITH u AS (INSERT INTO " + s +
              ".jobs (kind, version, name, status, approved, layout, path, sql, checksum, "
              "transactional, statements_total) VALUES ('contract', $1, $2, 'queued', true, $3, "
              "'', $4, $5, false, $6) ON CONFLICT (kind, version) DO NOTHING RETURNING *), "
              "e AS (INSERT INTO " +
              s +
              ".events (version, event, actor, detail) SELECT u.version, 'job.' || u.status, $7, "
              "$8::jsonb || jsonb_build_object('job', u.id, 'kind', u.kind, 'name', u.name, "
              "'to', u.status, 'attempt', u.attempts) FROM u) "
              "SELECT " +
              JobColumns(false) + ", pg_catalog.pg_notify('" + std::string(kNotifyChannel) +
              "', u.id::text) FROM u",
          {contract.version, contract.name, contract.layout, contract.sql, contract.checksum,
           std::to_string(contract.steps), change.actor, detail.dump()}));
  std::vector<Job> created = JobsFromResult(result);
  if (!created.empty()) return Queued{std::move(created.front()), true};
  TANDEM_ASSIGN_OR_RETURN(auto existing, FindContractJob(connection, schema, contract.version));
  if (!existing) {
    return Status::Failed("could not queue the contract of " + contract.version)
        .WithHint("try again");
  }
  return Queued{std::move(*existing), false};
}

Result<std::optional<Job>> FindContractJob(pg::Connection& connection, const std::string& schema,
                                           const std::string& version) {
  TANDEM_ASSIGN_OR_RETURN(bool exists, JobsTableExists(connection, schema));
  if (!exists) return std::optional<Job>{};
  TANDEM_ASSIGN_OR_RETURN(auto result, connection.Query("SELECT " + JobColumns(false) + " FROM " +
                                                            pg::QuoteIdentifier(schema) +
                                                            ".jobs WHERE kind = 'contract' AND "
                                                            "version = $1",
                                                        {version}));
  std::vector<Job> jobs = JobsFromResult(result);
  if (jobs.empty()) return std::optional<Job>{};
  return std::optional<Job>(std::move(jobs.front()));
}

Status RecordStepsDone(pg::Connection& connection, const std::string& schema, long long id,
                       int done) {
  return connection.Exec("UPDATE " + pg::QuoteIdentifier(schema) +
                             ".jobs SET statements_done = $2, updated_at = clock_timestamp() "
                             "WHERE id = $1 AND status = 'running'",
                         {std::to_string(id), std::to_string(done)});
}

Result<Job> Pause(pg::Connection& connection, const std::string& schema, long long id,
                  const Change& change) {
  return Transition(connection, schema, id, change, [](const Job& job) -> Result<Update> {
    if (job.status == S::kRunning) {
      if (job.requested == "cancel") {
        return NotAllowed(job, "pause", "it is being cancelled");
      }
      return Make({S::kRunning}, "j.status", "job.pause-requested", ", requested = 'pause'");
    }
    if (job.status == S::kQueued || job.status == S::kAwaitingApproval ||
        job.status == S::kRetrying) {
      return Make({job.status}, Literal(S::kPaused), "", ", run_after = NULL");
    }
    return NotAllowed(job, "pause",
                      "only queued, awaiting-approval, retrying and running jobs "
                      "can be paused");
  });
}

Result<Job> Resume(pg::Connection& connection, const std::string& schema, long long id,
                   const Change& change) {
  return Transition(connection, schema, id, change, [](const Job& job) -> Result<Update> {
    if (job.status == S::kRunning && job.requested == "pause") {
      return Make({S::kRunning}, "j.status", "job.resume-requested", ", requested = NULL");
    }
    if (job.status != S::kPaused) {
      return NotAllowed(job, "resume", "only paused jobs can be resumed");
    }
    return Make({S::kPaused}, "CASE WHEN j.approved THEN 'queued' ELSE 'awaiting-approval' END");
  });
}

Result<Job> Retry(pg::Connection& connection, const std::string& schema, long long id,
                  const Change& change) {
  return Transition(connection, schema, id, change, [&](const Job& job) -> Result<Update> {
    if (job.status != S::kFailed && job.status != S::kCancelled && job.status != S::kRetrying) {
      return NotAllowed(job, "retry", "only failed, cancelled and retrying jobs can be retried");
    }
    // A person's retry starts a fresh budget of attempts; the events keep the old ones.
    return Make({job.status}, "CASE WHEN j.approved THEN 'queued' ELSE 'awaiting-approval' END", "",
                ", run_after = NULL, attempts = 0, finished_at = NULL");
  });
}

Result<Job> Cancel(pg::Connection& connection, const std::string& schema, long long id,
                   const Change& change) {
  return Transition(connection, schema, id, change, [](const Job& job) -> Result<Update> {
    if (job.status == S::kRunning) {
      return Make({S::kRunning}, "j.status", "job.cancel-requested", ", requested = 'cancel'");
    }
    if (IsDone(job.status)) {
      return NotAllowed(job, "cancel", "succeeded and cancelled jobs cannot be cancelled");
    }
    return Make({job.status}, Literal(S::kCancelled), "",
                ", run_after = NULL, finished_at = now()");
  });
}

Result<Job> Approve(pg::Connection& connection, const std::string& schema, long long id,
                    const Change& change) {
  return Transition(connection, schema, id, change, [](const Job& job) -> Result<Update> {
    if (job.status == S::kAwaitingApproval) {
      return Make({S::kAwaitingApproval}, Literal(S::kQueued), "job.approved", ", approved = true");
    }
    if (!job.approved && job.status == S::kPaused) {
      return Make({S::kPaused}, "j.status", "job.approved", ", approved = true");
    }
    return NotAllowed(job, "approve", "only jobs awaiting approval can be approved");
  });
}

namespace {

Result<std::vector<Job>> ForAll(pg::Connection& connection, const std::string& schema,
                                const std::vector<JobStatus>& states,
                                const std::function<Result<Job>(long long)>& each) {
  TANDEM_ASSIGN_OR_RETURN(auto jobs, ListJobs(connection, schema));
  std::vector<Job> changed;
  for (const Job& job : jobs) {
    if (std::find(states.begin(), states.end(), job.status) == states.end()) continue;
    auto result = each(job.id);
    // A job that moved on since the list was read (finished, claimed) is simply not changed.
    if (result.ok())
      changed.push_back(std::move(*result));
    else if (result.status().code() != StatusCode::kFailed)
      return result.status();
  }
  return changed;
}

}  // namespace

Result<std::vector<Job>> PauseAll(pg::Connection& connection, const std::string& schema,
                                  const Change& change) {
  return ForAll(connection, schema, {S::kQueued, S::kAwaitingApproval, S::kRetrying, S::kRunning},
                [&](long long id) { return Pause(connection, schema, id, change); });
}

Result<std::vector<Job>> ResumeAll(pg::Connection& connection, const std::string& schema,
                                   const Change& change) {
  return ForAll(connection, schema, {S::kPaused, S::kRunning},
                [&](long long id) { return Resume(connection, schema, id, change); });
}

Result<std::vector<Job>> ApproveAll(pg::Connection& connection, const std::string& schema,
                                    const Change& change) {
  TANDEM_ASSIGN_OR_RETURN(auto all, ListJobs(connection, schema));
  std::vector<Job> changed;
  for (const Job& job : all) {
    if (job.approved || IsDone(job.status)) continue;
    auto result = Approve(connection, schema, job.id, change);
    if (result.ok())
      changed.push_back(std::move(*result));
    else if (result.status().code() != StatusCode::kFailed)
      return result.status();
  }
  return changed;
}

Result<Job> Claim(pg::Connection& connection, const std::string& schema, long long id,
                  const Change& change) {
  Update update =
      Make({S::kQueued, S::kRetrying, S::kRunning}, Literal(S::kRunning), "",
           ", attempts = j.attempts + CASE WHEN cur.status = 'running' THEN 0 ELSE 1 END, "
           "started_at = coalesce(j.started_at, now()), run_after = NULL, worker = $5, "
           "finished_at = NULL");
  update.params = {change.actor};
  update.with_sql = true;
  TANDEM_ASSIGN_OR_RETURN(auto claimed, Apply(connection, schema, id, update, change));
  if (claimed) return std::move(*claimed);
  TANDEM_ASSIGN_OR_RETURN(auto current, FindJob(connection, schema, id, false));
  if (!current) return NoSuchJob(id);
  return NotAllowed(*current, "claim", "another worker or a person changed it first");
}

Result<Job> Finish(pg::Connection& connection, const std::string& schema, long long id,
                   const Outcome& outcome, const Change& change) {
  Update update;
  update.from = {S::kRunning};
  update.status_sql = Literal(outcome.to);
  bool done =
      outcome.to == S::kSucceeded || outcome.to == S::kFailed || outcome.to == S::kCancelled;
  update.set =
      ", requested = NULL, worker = NULL, statements_done = $5, statements_total = $6, "
      "duration_ms = $7, finished_at = " +
      std::string(done ? "now()" : "NULL") +
      ", run_after = CASE WHEN $8::bigint IS NULL THEN NULL ELSE now() + $8::bigint * "
      "interval '1 millisecond' END, error_sqlstate = $9, error_message = $10, "
      "error_statement = $11, error_file = $12, error_line = $13, error_column = $14, "
      "error_detail = $15";
  // Given back at shutdown: the attempt did not happen as far as the budget is concerned.
  if (outcome.to == S::kQueued) {
    update.set +=
        ", attempts = greatest(j.attempts - 1, 0), started_at = CASE WHEN j.attempts <= 1 THEN "
        "NULL ELSE j.started_at END";
  }
  pg::Param retry_after = std::nullopt;
  if (outcome.to == S::kRetrying) retry_after = std::to_string(outcome.retry_after.count());
  const JobError* e = outcome.error ? &*outcome.error : nullptr;
  auto text = [&](const std::string& v) -> pg::Param {
    if (!e) return std::nullopt;
    return v;
  };
  update.params = {std::to_string(outcome.statements_done),
                   std::to_string(outcome.statements_total),
                   std::to_string(outcome.duration.count()),
                   retry_after,
                   text(e ? e->sqlstate : ""),
                   text(e ? e->message : ""),
                   text(e ? e->statement : ""),
                   text(e ? e->file : ""),
                   e && e->line ? pg::Param(std::to_string(e->line)) : std::nullopt,
                   e && e->column ? pg::Param(std::to_string(e->column)) : std::nullopt,
                   text(e ? e->detail : "")};
  update.detail = {{"duration_ms", outcome.duration.count()},
                   {"lock_timeouts", outcome.lock_timeouts},
                   {"statements_done", outcome.statements_done},
                   {"statements_total", outcome.statements_total}};
  if (e) update.detail["error"] = ErrorJson(*e);
  if (outcome.to == S::kRetrying) update.detail["retry_after_ms"] = outcome.retry_after.count();
  // A background migration is applied once its last batch is done: its history row is written
  // with its job's success, in the same statement, so `status`, `up` and the dashboard see it
  // applied (a post-deploy job's row is written by the runner's apply, statement by statement).
  if (outcome.to == S::kSucceeded) {
    std::string s = pg::QuoteIdentifier(schema);
    update.extra_cte =
        ", h AS (INSERT INTO " + s +
        ".migrations AS m (version, name, phase, checksum, status, transactional, attempts, "
        "statements_done, statements_total, started_at, finished_at, duration_ms, "
        "applied_by_host, tandem_version) SELECT u.version, u.name, 'background', u.checksum, "
        "'succeeded', u.transactional, u.attempts, u.statements_total, u.statements_total, "
        "u.started_at, now(), (extract(epoch FROM now() - u.started_at) * 1000)::bigint, "
        "$3, NULL FROM u WHERE u.kind = 'background' "
        "ON CONFLICT (version) DO UPDATE SET status = 'succeeded', phase = 'background', "
        "checksum = EXCLUDED.checksum, finished_at = EXCLUDED.finished_at, "
        "duration_ms = EXCLUDED.duration_ms, error_sqlstate = NULL, error_message = NULL, "
        "error_statement = NULL, error_file = NULL, error_line = NULL, error_column = NULL)";
  }
  TANDEM_ASSIGN_OR_RETURN(auto finished, Apply(connection, schema, id, update, change));
  if (finished) return std::move(*finished);
  TANDEM_ASSIGN_OR_RETURN(auto current, FindJob(connection, schema, id, false));
  if (!current) return NoSuchJob(id);
  return NotAllowed(*current, "finish", "it was not running");
}

Result<LockedProgress> LockProgress(pg::Connection& connection, const std::string& schema,
                                    long long id) {
  TANDEM_ASSIGN_OR_RETURN(
      auto result,
      connection.Query("SELECT status, coalesce(requested, ''), progress::text FROM " +
                           pg::QuoteIdentifier(schema) + ".jobs WHERE id = $1 FOR UPDATE",
                       {std::to_string(id)}));
  LockedProgress locked;
  if (result.rows() == 0) return locked;
  locked.running = result.Get(0, 0) == StatusName(S::kRunning);
  locked.requested = result.Get(0, 1);
  locked.progress = result.Get(0, 2);
  return locked;
}

Status RecordProgress(pg::Connection& connection, const std::string& schema, long long id,
                      const std::string& progress) {
  return connection.Exec("UPDATE " + pg::QuoteIdentifier(schema) +
                             ".jobs SET progress = $2::jsonb, updated_at = clock_timestamp() "
                             "WHERE id = $1 AND status = 'running'",
                         {std::to_string(id), progress});
}

}  // namespace tandem::jobs
