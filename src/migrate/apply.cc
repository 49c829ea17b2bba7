#include "migrate/apply.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <span>

#include "base/interrupt.h"
#include "base/sha256.h"
#include "migrate/bare_statement.h"
#include "migrate/execute_statement.h"
#include "migrate/runner_lock.h"
#include "migrate/state.h"
#include "pg/quote.h"
#include "sql/parser.h"

namespace tandem::migrate {
namespace {

using Clock = std::chrono::steady_clock;

std::string Table(const ApplyOptions& options) {
  return pg::QuoteIdentifier(options.schema) + ".migrations";
}

// set_config steps for the limits that are set; `local` limits end with the transaction.
std::vector<pg::PipelineStep> LimitSteps(const SessionLimits& limits, bool local) {
  std::vector<pg::PipelineStep> steps;
  std::string sql =
      std::string("SELECT pg_catalog.set_config($1, $2, ") + (local ? "true" : "false") + ")";
  auto add = [&](const char* name, const std::optional<Duration>& value) {
    if (value) steps.push_back({sql, {name, ToPostgresInterval(*value)}, /*reuse_plan=*/true});
  };
  add("lock_timeout", limits.lock_timeout);
  add("statement_timeout", limits.statement_timeout);
  add("idle_in_transaction_session_timeout", limits.idle_in_transaction_timeout);
  return steps;
}

Status SetLimits(pg::Connection& connection, const SessionLimits& limits, bool local) {
  return connection.ExecPipeline(LimitSteps(limits, local)).error;
}

// The history row and the "applied" event of a transactional migration, in one statement. The
// times come from the server: started_at is the transaction's start (its BEGIN), so the
// duration covers the limits and every statement of the migration. Returns the duration (ms).
std::string RecordAppliedSql(const ApplyOptions& options) {
  return "WITH m AS (INSERT INTO " + Table(options) +
         " AS m (version, name, phase, checksum, status, transactional, attempts, "
         "statements_done, statements_total, statement_checksums, out_of_order, started_at, "
         "finished_at, duration_ms, applied_by_host, applied_by_pid, tandem_version) "
         "VALUES ($1, $2, $3, $4, 'succeeded', true, 1, $5, $5, $6::text[], $7, now(), "
         "clock_timestamp(), (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint, "
         "$8, pg_backend_pid(), $9) "
         "ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, phase = EXCLUDED.phase, "
         "checksum = EXCLUDED.checksum, status = 'succeeded', transactional = true, "
         "attempts = m.attempts + 1, statements_done = EXCLUDED.statements_done, "
         "statements_total = EXCLUDED.statements_total, "
         "statement_checksums = EXCLUDED.statement_checksums, "
         "out_of_order = EXCLUDED.out_of_order, started_at = EXCLUDED.started_at, "
         "finished_at = EXCLUDED.finished_at, duration_ms = EXCLUDED.duration_ms, "
         "error_sqlstate = NULL, error_message = NULL, error_statement = NULL, "
         "error_file = NULL, error_line = NULL, error_column = NULL, "
         "applied_by_host = EXCLUDED.applied_by_host, applied_by_pid = "
         "EXCLUDED.applied_by_pid, tandem_version = EXCLUDED.tandem_version "
         "RETURNING m.version, m.duration_ms) "
         "INSERT INTO " +
         pg::QuoteIdentifier(options.schema) +
         ".events (version, event, actor, detail) "
         "SELECT version, 'applied', $10, pg_catalog.jsonb_build_object('duration_ms', "
         "duration_ms, 'statements', $5::integer, 'out_of_order', $7::boolean) FROM m "
         "RETURNING detail ->> 'duration_ms'";
}

Status ResetLimits(pg::Connection& connection, const SessionLimits& limits) {
  if (limits.lock_timeout) TANDEM_RETURN_IF_ERROR(connection.Exec("RESET lock_timeout"));
  if (limits.statement_timeout) TANDEM_RETURN_IF_ERROR(connection.Exec("RESET statement_timeout"));
  if (limits.idle_in_transaction_timeout)
    TANDEM_RETURN_IF_ERROR(connection.Exec("RESET idle_in_transaction_session_timeout"));
  return Status::Ok();
}

Result<std::set<std::string>> InvalidIndexes(pg::Connection& connection) {
  TANDEM_ASSIGN_OR_RETURN(
      auto result,
      connection.Query("SELECT pg_catalog.quote_ident(n.nspname) || '.' || "
                       "pg_catalog.quote_ident(c.relname), c.relname "
                       "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = "
                       "i.indexrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE NOT i.indisvalid"));
  std::set<std::string> out;
  for (size_t r = 0; r < result.rows(); ++r) out.insert(result.Get(r, 0) + "\t" + result.Get(r, 1));
  return out;
}

std::string DropCommand(const std::string& entry) {
  return "DROP INDEX CONCURRENTLY IF EXISTS " + entry.substr(0, entry.find('\t')) + ";";
}

// One more statement of a transaction-off migration done, with its checksum.
std::string ProgressSql(const ApplyOptions& options) {
  return "UPDATE " + Table(options) +
         " SET statements_done = $2::integer, statement_checksums = "
         "array_append(statement_checksums, $3::text) WHERE version = $1";
}

Status InterruptedError(int statement_index, bool cancelled) {
  int signal = interrupt::Signal();
  std::string what = cancelled ? "statement " + std::to_string(statement_index + 1) +
                                     " was cancelled on the server"
                               : "stopped before statement " + std::to_string(statement_index + 1);
  return Status::Interrupted(
             std::string("interrupted by ") + interrupt::SignalName(signal) + ": " + what, signal)
      .WithSqlState("57014")
      .WithHint("run again to resume: nothing that committed is run twice");
}

Status InterruptedBefore(int statement_index) {
  return InterruptedError(statement_index, /*cancelled=*/false);
}

// A statement that failed because tandem itself cancelled it on a signal.
Status AsInterruption(Status error, int statement_index) {
  if (error.code() == StatusCode::kInterrupted) return error;
  if (!interrupt::Requested() || error.sqlstate() != "57014") return error;
  return InterruptedError(statement_index, /*cancelled=*/true);
}

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string ErrorJson(const ApplyOutcome& outcome) {
  nlohmann::json detail = {{"message", outcome.error.message()},
                           {"sqlstate", outcome.error.sqlstate()},
                           {"file", outcome.error.location().file.str()},
                           {"line", outcome.error.location().line},
                           {"statements_done", outcome.statements_done},
                           {"statements_total", outcome.statements_total}};
  if (outcome.error.code() == StatusCode::kInterrupted)
    detail["signal"] = interrupt::SignalName(outcome.error.signal());
  return detail.dump();
}

void CollectNotices(pg::Connection& connection, ApplyOutcome& outcome) {
  for (auto& n : connection.TakeNotices()) outcome.notices.push_back(n.severity + ": " + n.message);
}

ApplyOutcome Fail(ApplyOutcome outcome, const Statement* statement, Status error) {
  if (statement) {
    error.WithLocation(LocateError(*statement, error));
    outcome.failed_statement = statement->sql;
  }
  outcome.error = std::move(error);
  outcome.succeeded = false;
  return outcome;
}

// Puts tandem's own limits back, inside the transaction, before its bookkeeping statements.
pg::PipelineStep BookkeepingLimitsStep(const SessionLimits& limits) {
  auto value = [](const std::optional<Duration>& d) {
    return d ? ToPostgresInterval(*d) : std::string("0");
  };
  return {
      "SELECT pg_catalog.set_config('statement_timeout', $1, true), "
      "pg_catalog.set_config('lock_timeout', $2, true)",
      {value(limits.statement_timeout), value(limits.lock_timeout)},
      /*reuse_plan=*/true};
}

// Whether a migration may have changed session state (settings, role) that must not leak into
// the next one. Resetting costs four statements, which for a thousand small migrations is a
// fifth of the run, so only migrations that can change it pay: SET, RESET, set_config(), and
// code that may call either (DO blocks, procedures).
bool MayChangeSession(const Migration& migration) {
  auto starts_with_word = [](std::string_view sql, std::string_view word) {
    size_t i = 0;
    while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
    if (sql.size() - i < word.size()) return false;
    for (size_t k = 0; k < word.size(); ++k) {
      if (std::toupper(static_cast<unsigned char>(sql[i + k])) != word[k]) return false;
    }
    size_t after = i + word.size();
    return after == sql.size() ||
           !(std::isalnum(static_cast<unsigned char>(sql[after])) || sql[after] == '_');
  };
  for (const Statement& statement : migration.up.statements) {
    for (std::string_view word : {"SET", "RESET", "DO", "CALL"}) {
      if (starts_with_word(statement.sql, word)) return true;
    }
    if (ContainsIgnoreCase(statement.sql, "set_config")) return true;
  }
  return false;
}

// Each migration's BEGIN, limits, statements, history row and COMMIT, for all the migrations
// in `items` (transactional ones), go to the server in one pipeline: a small migration costs
// a fraction of a round trip instead of one per statement. The server skips everything after
// a failure up to the next sync, and the pipeline sends nothing after a failed chunk, so the
// migrations before the failing one stay committed, the failing one is rolled back whole and
// the ones after it never run.
//
// The steps are made a window at a time as they are sent, never all at once: a seed file of
// half a million statements would otherwise hold half a million steps (and as many results)
// beside its statements. A migration's transaction simply spans windows.
std::vector<ApplyOutcome> ApplyTransactionalRun(pg::Connection& connection,
                                                std::span<const UpItem> items) {
  // The steps of one migration, in order: `before` (BEGIN, limits), one per statement, then
  // `after` (bookkeeping limits, history row, COMMIT, session reset). Step indices count over
  // the whole run.
  struct Plan {
    std::vector<pg::PipelineStep> before;
    const std::vector<Statement>* statements;
    std::vector<pg::PipelineStep> after;
    size_t first_step;       // of `before`
    size_t first_statement;  // step index of the migration's first statement
    size_t end;              // one past its COMMIT
    size_t last;             // one past its last step (after the session reset)
  };
  std::vector<Plan> plans;
  size_t step_count = 0;
  for (const UpItem& item : items) {
    const Migration& migration = *item.migration;
    const ApplyOptions& options = item.options;
    const auto& statements = migration.up.statements;
    bool may_change_session = MayChangeSession(migration);
    Plan plan;
    plan.statements = &statements;
    plan.first_step = step_count;
    plan.before.push_back({"BEGIN", {}});
    for (auto& step : LimitSteps(options.limits, /*local=*/true))
      plan.before.push_back(std::move(step));
    // The history row runs under tandem's limits, not a timeout the migration SET for itself.
    if (may_change_session) plan.after.push_back(BookkeepingLimitsStep(options.limits));
    plan.after.push_back(
        {RecordAppliedSql(options),
         {migration.version, migration.name, std::string(PhaseName(migration.phase)),
          // Per-statement checksums serve the resume of transaction-off migrations; a
          // transactional one never resumes part-way, so none are kept.
          migration.checksum, std::to_string(statements.size()), "{}",
          options.out_of_order ? "true" : "false", HostName(), TANDEM_VERSION, Actor()},
         /*reuse_plan=*/true});
    plan.after.push_back({"COMMIT", {}});
    plan.first_statement = step_count + plan.before.size();
    plan.end = plan.first_statement + statements.size() + plan.after.size();
    if (may_change_session) {
      for (auto& step : connection.ResetSessionSteps()) plan.after.push_back(std::move(step));
    }
    plan.last = plan.first_statement + statements.size() + plan.after.size();
    step_count = plan.last;
    plans.push_back(std::move(plan));
  }
  // Step `index` (which belongs to plans[p]) as sent: statements borrowed, not copied.
  auto step_at = [&](size_t p, size_t index) -> pg::PipelineStep {
    const Plan& plan = plans[p];
    if (index < plan.first_statement) return plan.before[index - plan.first_step];
    size_t statement = index - plan.first_statement;
    if (statement < plan.statements->size()) return StatementStep((*plan.statements)[statement]);
    return plan.after[statement - plan.statements->size()];
  };

  // What the run keeps of each migration's results: the history row's value (its duration)
  // and how many notices the connection held after its COMMIT.
  std::vector<std::optional<std::string>> recorded(plans.size());
  std::vector<std::optional<size_t>> notices_after(plans.size());
  // A multiple of the pipeline's sync interval, so that windows sync exactly as one call would.
  constexpr size_t kWindowSteps = 4096;
  auto started = Clock::now();
  size_t succeeded = 0;  // steps that completed, in order, before the first failure
  Status failure;
  std::vector<pg::PipelineStep> window;
  window.reserve(kWindowSteps);
  size_t p = 0;  // the plan of the window's first step
  for (size_t begin = 0; begin < step_count && failure.ok(); begin += window.size()) {
    window.clear();
    size_t q = p;
    for (size_t index = begin; index < step_count && window.size() < kWindowSteps; ++index) {
      while (index >= plans[q].last) ++q;
      window.push_back(step_at(q, index));
    }
    pg::PipelineOutcome run = connection.ExecPipeline(window);
    succeeded += run.succeeded;
    failure = run.error;
    for (; p < plans.size() && plans[p].first_step < begin + window.size(); ++p) {
      size_t record_step = plans[p].end - 2, commit_step = plans[p].end - 1;
      if (record_step >= begin && record_step - begin < run.first_values.size())
        recorded[p] = run.first_values[record_step - begin];
      if (commit_step >= begin && commit_step - begin < run.notices_after_step.size())
        notices_after[p] = run.notices_after_step[commit_step - begin];
      if (plans[p].last > begin + window.size()) break;  // continues in the next window
    }
  }
  std::vector<pg::Notice> notices = connection.TakeNotices();

  std::vector<ApplyOutcome> outcomes;
  Duration server_time{0};  // of the migrations that committed
  size_t notices_from = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const Migration& migration = *items[i].migration;
    const auto& statements = migration.up.statements;
    bool committed = failure.ok() || succeeded >= plans[i].end;
    ApplyOutcome outcome;
    outcome.statements_total = static_cast<int>(statements.size());
    // A committed migration's time is the server's, from its BEGIN to its history row (the
    // results of a pipeline chunk arrive together); the failing one gets what is left of the
    // whole run's.
    if (committed && recorded[i]) {
      outcome.duration = Duration(std::atoll(recorded[i]->c_str()));
      server_time += outcome.duration;
    } else if (!committed) {
      auto elapsed = std::chrono::duration_cast<Duration>(Clock::now() - started);
      outcome.duration = std::max(Duration(0), elapsed - server_time);
    }
    size_t notices_to = committed && notices_after[i] ? *notices_after[i] : notices.size();
    for (size_t n = notices_from; n < std::min(notices_to, notices.size()); ++n) {
      outcome.notices.push_back(notices[n].severity + ": " + notices[n].message);
    }
    notices_from = notices_to;
    if (committed) {
      outcome.statements_done = outcome.statements_total;
      outcome.succeeded = true;
      outcomes.push_back(std::move(outcome));
      continue;
    }
    if (connection.in_transaction()) connection.Exec("ROLLBACK");
    const Statement* failed = nullptr;
    size_t first = plans[i].first_statement;
    if (succeeded >= first && succeeded < first + statements.size())
      failed = &statements[succeeded - first];
    // Rolled back: nothing of it stayed.
    Status error = failure;
    if (failed) error = AsInterruption(std::move(error), static_cast<int>(failed - &statements[0]));
    ApplyOutcome failed_outcome = Fail(outcome, failed, std::move(error));
    if (items[i].options.record_failure) {
      RecordFailureSafely(connection, migration, items[i].previous, items[i].options,
                          failed_outcome);
    }
    outcomes.push_back(std::move(failed_outcome));
    break;
  }
  return outcomes;
}

// The statement, its limits and its progress row in one transaction, sent together: a crash
// or a kill at any moment leaves both or neither, so a resumed run never repeats it.
Status RunWithProgress(pg::Connection& connection, const Migration& migration,
                       const Statement& statement, int done_after, const ApplyOptions& options) {
  std::vector<pg::PipelineStep> steps;
  steps.push_back({"BEGIN", {}});
  for (auto& step : LimitSteps(options.limits, /*local=*/true)) steps.push_back(std::move(step));
  steps.push_back(StatementStep(statement));
  steps.push_back(BookkeepingLimitsStep(options.limits));
  steps.push_back({ProgressSql(options),
                   {migration.version, std::to_string(done_after), StatementChecksum(statement)},
                   /*reuse_plan=*/true});
  steps.push_back({"COMMIT", {}});
  pg::PipelineOutcome run = connection.ExecPipeline(steps);
  if (!run.error.ok() && connection.in_transaction()) connection.Exec("ROLLBACK");
  return run.error;
}

// A statement PostgreSQL refuses inside a transaction block, with the limits set for the
// session around it; its progress row follows in a transaction of its own.
Status RunBare(pg::Connection& connection, const std::string& sql, const ApplyOptions& options) {
  TANDEM_RETURN_IF_ERROR(SetLimits(connection, options.limits, /*local=*/false));
  Status status = connection.Exec(sql);
  Status reset = connection.alive() ? ResetLimits(connection, options.limits) : Status::Ok();
  return status.ok() ? reset : status;
}

Status RecordProgress(pg::Connection& connection, const Migration& migration,
                      const Statement& statement, int done_after, const ApplyOptions& options) {
  return connection.Exec(ProgressSql(options), {migration.version, std::to_string(done_after),
                                                StatementChecksum(statement)});
}

// Whether a previous run may have died inside its last statement without hearing how it ended:
// the runner vanished ("running"), or it lost the connection or was cancelled.
bool EndUnknown(const HistoryRow& row) {
  if (row.status == "running") return true;
  const std::string& s = row.error_sqlstate;
  return s.empty() || s.rfind("08", 0) == 0 || s.rfind("57P", 0) == 0;
}

ApplyOutcome ApplyStatementByStatement(pg::Connection& connection, const Migration& migration,
                                       const HistoryRow* previous, const ApplyOptions& options) {
  ApplyOutcome outcome;
  const auto& statements = migration.up.statements;
  outcome.statements_total = static_cast<int>(statements.size());
  auto started = Clock::now();

  // Resume where a failed or interrupted attempt stopped, if what it applied is unchanged.
  // Callers check this before changing anything (CheckResume); this is the last guard, and it
  // writes nothing.
  if (Status resumable = CheckResume(migration, previous); !resumable.ok()) {
    return Fail(outcome, nullptr, resumable);
  }
  int start = ResumePoint(previous);
  outcome.resumed = start > 0;
  outcome.resumed_at = start;
  outcome.statements_done = start;

  std::vector<std::string> checksums;
  for (int i = 0; i < start; ++i) checksums.push_back(StatementChecksum(statements[i]));
  Status status = connection.Exec(
      "INSERT INTO " + Table(options) +
          " AS m (version, name, phase, checksum, status, transactional, attempts, "
          "statements_done, statements_total, statement_checksums, out_of_order, started_at, "
          "applied_by_host, applied_by_pid, tandem_version) VALUES ($1, $2, $3, $4, 'running', "
          "false, 1, $5, $6, $7::text[], $8, now(), $9, pg_backend_pid(), $10) "
          "ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, phase = EXCLUDED.phase, "
          "checksum = EXCLUDED.checksum, status = 'running', transactional = false, "
          "attempts = m.attempts + 1, statements_done = EXCLUDED.statements_done, "
          "statements_total = EXCLUDED.statements_total, "
          "statement_checksums = EXCLUDED.statement_checksums, out_of_order = "
          "EXCLUDED.out_of_order, started_at = now(), finished_at = NULL, duration_ms = NULL, "
          "applied_by_host = EXCLUDED.applied_by_host, applied_by_pid = "
          "EXCLUDED.applied_by_pid, tandem_version = EXCLUDED.tandem_version",
      {migration.version, migration.name, std::string(PhaseName(migration.phase)),
       migration.checksum, std::to_string(start), std::to_string(statements.size()),
       ToTextArray(checksums), options.out_of_order ? "true" : "false", HostName(),
       TANDEM_VERSION});
  if (status.ok()) {
    nlohmann::json detail = {{"resume_at", start}, {"statements", statements.size()}};
    status = RecordEvent(connection, options.schema, migration.version, "started", detail.dump());
  }
  if (!status.ok()) return Fail(outcome, nullptr, status);

  // Ends the migration as failed at `statement` (recording it unless the caller records).
  auto fail = [&](const Statement* statement, Status error) {
    outcome.duration = std::chrono::duration_cast<Duration>(Clock::now() - started);
    ApplyOutcome failed = Fail(outcome, statement, std::move(error));
    if (options.record_failure)
      RecordFailureSafely(connection, migration, previous, options, failed);
    return failed;
  };

  for (int i = start; i < static_cast<int>(statements.size()); ++i) {
    const Statement& statement = statements[i];
    if (interrupt::Requested()) return fail(&statement, InterruptedBefore(i));
    BareStatement bare = ClassifyBare(statement);

    // Where an earlier run stopped at a statement that runs outside a transaction, the
    // catalog says whether it completed and what it left behind.
    std::string sql = statement.sql;
    std::vector<std::string> to_drop;
    auto add_drop = [&to_drop](const std::string& command) {
      if (std::find(to_drop.begin(), to_drop.end(), command) == to_drop.end())
        to_drop.push_back(command);
    };
    if (i == start && previous && bare.kind != BareKind::kNone &&
        (bare.kind != BareKind::kUnknown || EndUnknown(*previous))) {
      auto plan = PlanBareResume(connection, bare, statement);
      if (!plan.ok()) return fail(&statement, plan.status());
      nlohmann::json detail = {{"statement", i + 1}, {"decision", plan->explanation}};
      RecordEvent(connection, options.schema, migration.version, "resumed", detail.dump());
      outcome.notices.push_back("statement " + std::to_string(i + 1) + ": " + plan->explanation);
      if (plan->done) {
        status = RecordProgress(connection, migration, statement, i + 1, options);
        if (!status.ok()) return fail(nullptr, status);
        ++outcome.statements_done;
        continue;
      }
      for (const auto& command : plan->cleanup) add_drop(command);
      if (!plan->replacement.empty()) sql = plan->replacement;
    }

    while (true) {
      std::set<std::string> invalid_before;
      bool concurrent = bare.kind == BareKind::kCreateIndexConcurrently;
      if (concurrent) {
        auto invalid = InvalidIndexes(connection);
        if (invalid.ok()) invalid_before = *invalid;
      }
      status = Status::Ok();
      while (!to_drop.empty() && status.ok()) {
        status = RunBare(connection, to_drop.front(), options);
        if (status.ok()) to_drop.erase(to_drop.begin());
      }
      bool wrapped = bare.kind == BareKind::kNone;
      if (status.ok() && wrapped) {
        status = RunWithProgress(connection, migration, statement, i + 1, options);
        // Refused inside a transaction block by a rule the model does not know: it runs bare.
        if (status.sqlstate() == "25001") {
          bare.kind = BareKind::kUnknown;
          wrapped = false;
        }
      }
      if (status.ok() && !wrapped) status = RunBare(connection, sql, options);
      if (status.ok() && !wrapped) {
        // The window between a bare statement and its progress row is what the catalog
        // check above closes on the next run.
        status = RecordProgress(connection, migration, statement, i + 1, options);
        if (!status.ok()) {
          CollectNotices(connection, outcome);
          ++outcome.statements_done;
          return fail(nullptr, status);
        }
      }
      CollectNotices(connection, outcome);
      if (status.ok()) break;
      if (concurrent && connection.alive()) {
        auto invalid = InvalidIndexes(connection);
        if (invalid.ok()) {
          for (const auto& entry : *invalid) {
            if (!invalid_before.count(entry)) add_drop(DropCommand(entry));
          }
        }
      }
      if (status.code() != StatusCode::kInterrupted && !interrupt::Requested() &&
          connection.alive() && options.retry_statement && options.retry_statement(status, i)) {
        continue;
      }
      outcome.cleanup_commands = to_drop;
      if (!outcome.cleanup_commands.empty()) {
        status.WithHint(
            "the failed statement left an INVALID index, which the next run drops; "
            "to drop it now: " +
            outcome.cleanup_commands.front());
      }
      return fail(&statement, AsInterruption(std::move(status), i));
    }
    ++outcome.statements_done;
  }
  if (MayChangeSession(migration)) {
    if (Status reset = connection.ResetSession(); !reset.ok()) return fail(nullptr, reset);
  }
  outcome.duration = std::chrono::duration_cast<Duration>(Clock::now() - started);
  status = connection.Exec("BEGIN");
  if (status.ok()) {
    status = connection.Exec("UPDATE " + Table(options) +
                                 " SET status = 'succeeded', finished_at = now(), duration_ms = "
                                 "$2, error_sqlstate = NULL, error_message = NULL, "
                                 "error_statement = NULL, error_file = NULL, error_line = NULL, "
                                 "error_column = NULL WHERE version = $1",
                             {migration.version, std::to_string(outcome.duration.count())});
  }
  if (status.ok()) {
    nlohmann::json detail = {{"duration_ms", outcome.duration.count()},
                             {"statements", statements.size()},
                             {"resumed_at", start},
                             {"out_of_order", options.out_of_order}};
    status = RecordEvent(connection, options.schema, migration.version, "applied", detail.dump());
  }
  if (status.ok()) status = connection.Exec("COMMIT");
  if (!status.ok()) {
    if (connection.in_transaction()) connection.Exec("ROLLBACK");
    return Fail(outcome, nullptr, status);
  }
  outcome.succeeded = true;
  return outcome;
}

}  // namespace

Status CheckResume(const Migration& migration, const HistoryRow* previous) {
  if (!previous || previous->transactional || previous->statements_done <= 0) return Status::Ok();
  if (previous->status != "failed" && previous->status != "running") return Status::Ok();
  const std::string file = migration.paths.empty() ? "" : migration.paths.front();
  int done = previous->statements_done;
  std::string ran = std::to_string(done) + " statement" + (done == 1 ? "" : "s") +
                    " of this transaction-off migration ran before it stopped; they cannot be run "
                    "again";
  if (migration.transactional) {
    return Status::InvalidInput("the \"transaction off\" directive was removed from migration " +
                                migration.version + " after part of it was applied")
        .WithLocation({file, migration.up.location.line, 0})
        .WithDetail(ran + ", and in one transaction they would all run again")
        .WithHint("restore \"-- tandem:transaction off\"; change only the statements after the " +
                  std::to_string(done) + " that ran");
  }
  const auto& statements = migration.up.statements;
  if (static_cast<int>(statements.size()) < done) {
    return Status::InvalidInput("migration " + migration.version + " now has " +
                                std::to_string(statements.size()) + " statements, but " +
                                std::to_string(done) + " of it were already applied")
        .WithLocation({file, migration.up.location.line, 0})
        .WithDetail(ran + "; statements were removed from the file since")
        .WithHint("restore the statements that ran; to undo them, write a new migration");
  }
  for (int i = 0; i < done; ++i) {
    std::string recorded = i < static_cast<int>(previous->statement_checksums.size())
                               ? previous->statement_checksums[i]
                               : "";
    if (recorded != StatementChecksum(statements[i])) {
      return Status::InvalidInput("statement " + std::to_string(i + 1) + " of migration " +
                                  migration.version + " was edited after it was applied")
          .WithLocation(statements[i].location)
          .WithDetail(ran)
          .WithHint(
              "restore the statements that already ran and change only the failed one and "
              "those after it");
    }
  }
  return Status::Ok();
}

int ResumePoint(const HistoryRow* previous) {
  if (!previous || previous->transactional) return 0;
  if (previous->status != "failed" && previous->status != "running") return 0;
  return std::max(0, previous->statements_done);
}

SessionLimits WithMigrationLimits(const Migration& migration, SessionLimits limits) {
  if (migration.lock_timeout) limits.lock_timeout = migration.lock_timeout;
  if (migration.statement_timeout) limits.statement_timeout = migration.statement_timeout;
  return limits;
}

std::string StatementChecksum(const Statement& statement) {
  return Sha256Hex(NormalizeLineEndings(statement.sql));
}

SourceLocation LocateError(const Statement& statement, const Status& error) {
  SourceLocation at = statement.location;
  int position = error.statement_position();
  if (position <= 0 || static_cast<size_t>(position) > statement.sql.size() + 1) return at;
  sql::LineColumn within = sql::LineColumnAt(statement.sql, static_cast<size_t>(position - 1));
  if (within.line == 1) {
    at.column = statement.location.column + within.column - 1;
  } else {
    at.line = statement.location.line + within.line - 1;
    at.column = within.column;
  }
  return at;
}

Status RecordFailure(pg::Connection& connection, const Migration& migration,
                     const HistoryRow* previous, const ApplyOptions& options,
                     const ApplyOutcome& outcome) {
  const Status& e = outcome.error;
  Status status = connection.Exec(
      "INSERT INTO " + Table(options) +
          " AS m (version, name, phase, checksum, status, transactional, attempts, "
          "statements_done, statements_total, out_of_order, started_at, finished_at, "
          "duration_ms, error_sqlstate, error_message, error_statement, error_file, error_line, "
          "error_column, applied_by_host, applied_by_pid, tandem_version) VALUES ($1, $2, $3, "
          "$4, 'failed', $5, 1, $6, $7, $8, now() - ($9 || ' milliseconds')::interval, now(), "
          "$9::bigint, $10, $11, $12, $13, $14, $15, $16, pg_backend_pid(), $17) "
          "ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, phase = EXCLUDED.phase, "
          "checksum = EXCLUDED.checksum, status = 'failed', transactional = "
          "EXCLUDED.transactional, attempts = CASE WHEN m.status = 'running' THEN m.attempts "
          "ELSE m.attempts + 1 END, statements_done = EXCLUDED.statements_done, "
          "statements_total = EXCLUDED.statements_total, finished_at = now(), "
          "duration_ms = EXCLUDED.duration_ms, error_sqlstate = EXCLUDED.error_sqlstate, "
          "error_message = EXCLUDED.error_message, error_statement = EXCLUDED.error_statement, "
          "error_file = EXCLUDED.error_file, error_line = EXCLUDED.error_line, "
          "error_column = EXCLUDED.error_column, applied_by_host = EXCLUDED.applied_by_host, "
          "applied_by_pid = EXCLUDED.applied_by_pid, tandem_version = EXCLUDED.tandem_version",
      {migration.version, migration.name, std::string(PhaseName(migration.phase)),
       migration.checksum, migration.transactional ? "true" : "false",
       std::to_string(outcome.statements_done), std::to_string(outcome.statements_total),
       options.out_of_order ? "true" : "false", std::to_string(outcome.duration.count()),
       e.sqlstate().empty() ? pg::Param() : pg::Param(e.sqlstate()), e.message(),
       outcome.failed_statement, e.location().file, std::to_string(e.location().line),
       std::to_string(e.location().column), HostName(), TANDEM_VERSION});
  if (!status.ok()) return status;
  (void)previous;
  bool interrupted = e.code() == StatusCode::kInterrupted;
  return RecordEvent(connection, options.schema, migration.version,
                     interrupted ? "interrupted" : "failed", ErrorJson(outcome));
}

void RecordFailureSafely(pg::Connection& connection, const Migration& migration,
                         const HistoryRow* previous, const ApplyOptions& options,
                         ApplyOutcome& outcome) {
  if (connection.alive() && outcome.error.code() != StatusCode::kUnavailable) {
    if (connection.in_transaction()) connection.Exec("ROLLBACK");
    Status recorded = RecordFailure(connection, migration, previous, options, outcome);
    if (!recorded.ok()) {
      outcome.error.WithDetail(
          (outcome.error.detail().empty() ? "" : outcome.error.detail() + "\n") +
          "the failure could not be recorded: " + recorded.message());
    }
    return;
  }
  // The connection is gone (or going: a FATAL error such as 57P01 closes it): one message for
  // every kind of migration, then the record over a new session.
  const Status& cause = outcome.error;
  std::string applied =
      migration.transactional || outcome.statements_done == 0
          ? "nothing of this migration was applied (its transaction was rolled back)"
          : std::to_string(outcome.statements_done) + " of " +
                std::to_string(outcome.statements_total) +
                " statements were applied and recorded; the next run resumes at statement " +
                std::to_string(outcome.statements_done + 1);
  Status lost =
      Status::Unavailable(
          "lost the connection to the database while applying "
          "migration " +
          migration.version + " (" + migration.name + ")")
          .WithDetail("the server said: " + FirstLine(cause.message()) +
                      (cause.sqlstate().empty() ? "" : " (SQLSTATE " + cause.sqlstate() + ")") +
                      "\n" + applied)
          .WithHint("check that the server is up, then run again")
          .WithSqlState(cause.sqlstate());
  lost.WithLocation(cause.location());
  outcome.error = lost;
  Status recorded = [&]() -> Status {
    pg::ConnectOptions reconnect;
    reconnect.connect_timeout_seconds = 5;
    TANDEM_ASSIGN_OR_RETURN(auto fresh, pg::Connection::Open(connection.url(), reconnect));
    // The dead session's runner lock is released when the server notices it is gone; another
    // runner may have started since, and then this record must not overwrite its work.
    TANDEM_ASSIGN_OR_RETURN(RunnerLock lock,
                            RunnerLock::Acquire(*fresh, options.schema, Duration(5000)));
    return RecordFailure(*fresh, migration, previous, options, outcome);
  }();
  outcome.error.WithDetail(outcome.error.detail() + "\n" +
                           (recorded.ok() ? "the failure was recorded over a new connection"
                                          : "the failure could not be recorded (" +
                                                FirstLine(recorded.message()) +
                                                "); the history may still say \"running\""));
}

ApplyOutcome ApplyUp(pg::Connection& connection, const Migration& migration,
                     const HistoryRow* previous, const ApplyOptions& options) {
  if (!migration.transactional)
    return ApplyStatementByStatement(connection, migration, previous, options);
  UpItem item{&migration, previous, options};
  return ApplyTransactionalRun(connection, std::span<const UpItem>(&item, 1)).front();
}

std::vector<ApplyOutcome> ApplyUpAll(pg::Connection& connection, const std::vector<UpItem>& items) {
  std::vector<ApplyOutcome> outcomes;
  for (size_t begin = 0; begin < items.size();) {
    const UpItem& item = items[begin];
    if (!item.migration->transactional) {
      outcomes.push_back(
          ApplyStatementByStatement(connection, *item.migration, item.previous, item.options));
      if (!outcomes.back().succeeded) break;
      ++begin;
      continue;
    }
    // A migration with COPY rows goes alone: pipeline mode cannot carry COPY.
    size_t end = begin + 1;
    while (!HasCopyRows(*item.migration) && end < items.size() &&
           items[end].migration->transactional && !HasCopyRows(*items[end].migration)) {
      ++end;
    }
    auto run = ApplyTransactionalRun(connection,
                                     std::span<const UpItem>(items.data() + begin, end - begin));
    bool failed = run.size() < end - begin || !run.back().succeeded;
    for (auto& outcome : run) outcomes.push_back(std::move(outcome));
    if (failed) break;
    begin = end;
  }
  return outcomes;
}

ApplyOutcome ApplyDown(pg::Connection& connection, const Migration& migration,
                       const ApplyOptions& options) {
  ApplyOutcome outcome;
  const auto& statements = migration.down.statements;
  outcome.statements_total = static_cast<int>(statements.size());
  auto started = Clock::now();
  const Statement* failed = nullptr;
  Status status = Status::Ok();
  if (migration.transactional) {
    status = connection.Exec("BEGIN");
    if (status.ok()) status = SetLimits(connection, options.limits, true);
  } else {
    status = SetLimits(connection, options.limits, false);
  }
  for (const Statement& statement : statements) {
    if (!status.ok()) break;
    status = ExecuteStatement(connection, statement);
    if (!status.ok()) {
      failed = &statement;
      break;
    }
    ++outcome.statements_done;
  }
  if (!migration.transactional) ResetLimits(connection, options.limits);
  if (status.ok() && !migration.transactional) status = connection.Exec("BEGIN");
  if (status.ok()) {
    status = connection.Exec("UPDATE " + Table(options) +
                                 " SET status = 'pending', statements_done = 0, "
                                 "statement_checksums = '{}', finished_at = now() "
                                 "WHERE version = $1",
                             {migration.version});
  }
  outcome.duration = std::chrono::duration_cast<Duration>(Clock::now() - started);
  if (status.ok()) {
    nlohmann::json detail = {{"duration_ms", outcome.duration.count()},
                             {"statements", statements.size()}};
    status = RecordEvent(connection, options.schema, migration.version, "reverted", detail.dump());
  }
  if (status.ok()) status = connection.Exec("COMMIT");
  CollectNotices(connection, outcome);
  if (!status.ok()) {
    if (connection.in_transaction()) connection.Exec("ROLLBACK");
    if (failed) {
      status = AsInterruption(std::move(status),
                              static_cast<int>(failed - &migration.down.statements[0]));
    }
    ApplyOutcome f = Fail(outcome, failed, status);
    nlohmann::json detail = {{"message", f.error.message()},
                             {"sqlstate", f.error.sqlstate()},
                             {"statements_done", migration.transactional ? 0 : f.statements_done}};
    RecordEvent(connection, options.schema, migration.version, "revert-failed", detail.dump());
    return f;
  }
  outcome.succeeded = true;
  return outcome;
}

}  // namespace tandem::migrate
