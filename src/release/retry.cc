// The lock-timeout retry loop of `tandem release` (see retry.h).
#include "release/retry.h"

#include <chrono>
#include <map>
#include <thread>

#include "base/interrupt.h"
#include "migrate/apply.h"
#include "release/backoff.h"

namespace tandem::release {
namespace {

using Clock = std::chrono::steady_clock;

Duration Since(Clock::time_point t) {
  return std::chrono::duration_cast<Duration>(Clock::now() - t);
}

std::string ResultName(const Status& error) {
  if (error.ok()) return "applied";
  if (error.sqlstate() == "55P03") return "lock-timeout";
  if (error.sqlstate() == "40P01") return "deadlock";
  return "failed";
}

// Every session seen blocking any attempt, the latest sample of each.
std::vector<Blocker> AllBlockers(const ReleaseItem& item) {
  std::map<int, Blocker> by_pid;
  for (const Attempt& a : item.attempts)
    for (const Blocker& b : a.blockers) by_pid[b.pid] = b;
  std::vector<Blocker> out;
  for (auto& [pid, b] : by_pid) out.push_back(b);
  return out;
}

Status BudgetSpentError(const migrate::Migration& migration, const ReleaseItem& item,
                        const Status& last) {
  std::string message = "could not apply migration " + migration.version + " (" + migration.name +
                        ") within the retry budget of " + FormatDuration(item.retry_budget) + ": " +
                        std::to_string(item.lock_timeouts) + " attempts ran into lock_timeout " +
                        FormatDuration(item.limits.lock_timeout.value_or(Duration(0)));
  std::string detail;
  if (migration.transactional || item.statements_done == 0) {
    detail = "nothing of this migration was applied";
  } else {
    detail = std::to_string(item.statements_done) + " of " + std::to_string(item.statements_total) +
             " statements of this transaction-off migration were applied; the rerun resumes at "
             "statement " +
             std::to_string(item.statements_done + 1);
  }
  std::vector<Blocker> blockers = AllBlockers(item);
  if (blockers.empty()) {
    detail += "\nthe blocking sessions could not be observed";
  } else {
    for (const Blocker& b : blockers) detail += "\nblocked by " + DescribeBlocker(b);
  }
  Status status = Status::Failed(message)
                      .WithDetail(detail)
                      .WithHint(
                          "end or wait for the blocking sessions, then run \"tandem "
                          "release\" again; --retry-budget sets how long to keep trying")
                      .WithSqlState(last.sqlstate());
  status.WithLocation(last.location());
  return status;
}

}  // namespace

bool IsLockConflict(const Status& error) {
  return error.sqlstate() == "55P03" || error.sqlstate() == "40P01";
}

void ApplyWithRetries(pg::Connection& connection, const migrate::Migration& migration,
                      const migrate::HistoryRow* previous, const ReleaseOptions& options,
                      BlockerWatch* watch, ReleaseItem& item) {
  // The default wait ends early on SIGINT/SIGTERM; the next attempt then sees the interruption.
  auto sleep = options.sleep ? options.sleep : [](Duration d) { interrupt::SleepFor(d); };
  Backoff backoff({options.settings.backoff_initial, options.settings.backoff_max}, options.seed);
  migrate::ApplyOptions apply;
  apply.schema = options.schema;
  apply.limits = item.limits;
  apply.out_of_order = item.out_of_order;
  apply.record_failure = false;  // only the final outcome goes to the history

  const Clock::time_point first = Clock::now();
  Clock::time_point attempt_start = first;
  int attempt_statement = -1;
  bool attempt_open = true;
  if (watch) watch->Take();  // forget anything seen before this migration

  // Closes the current attempt. Returns true, after the backoff wait, when a new attempt
  // should start: the failure was a lock conflict and the budget allows another try.
  auto close_attempt = [&](const Status& error, int statement_index, bool may_retry) -> bool {
    Attempt a;
    a.number = static_cast<int>(item.attempts.size()) + 1;
    a.statement_index = statement_index >= 0 ? statement_index : attempt_statement;
    a.started = std::chrono::duration_cast<Duration>(attempt_start - first);
    a.duration = Since(attempt_start);
    a.result = ResultName(error);
    a.error = error;
    if (!error.ok()) {
      a.line = error.location().line;
      const auto& statements = migration.up.statements;
      if (statement_index >= 0 && statement_index < static_cast<int>(statements.size()))
        a.line = statements[statement_index].location.line;
    }
    if (watch) {
      Observation seen = watch->Take();
      a.blockers = std::move(seen.blockers);
      a.waited_for = std::move(seen.waited_for);
    }
    bool retry = false;
    if (IsLockConflict(error)) {
      ++item.lock_timeouts;
      item.lock_wait_lost += a.duration;
      Duration wait = backoff.Next();
      if (may_retry && Since(first) + wait < item.retry_budget) {
        retry = true;
        a.backoff = wait;
      } else if (may_retry) {
        item.budget_spent = true;
      }
    }
    item.attempts.push_back(std::move(a));
    attempt_open = false;
    if (!retry) return false;
    sleep(item.attempts.back().backoff);
    attempt_start = Clock::now();
    attempt_statement = statement_index;
    attempt_open = true;
    if (watch) watch->Take();
    return true;
  };
  if (!migration.transactional) {
    apply.retry_statement = [&](const Status& error, int statement_index) {
      return close_attempt(error, statement_index, /*may_retry=*/true);
    };
  }

  migrate::ApplyOutcome outcome;
  while (true) {
    if (watch) watch->Arm();
    outcome = migrate::ApplyUp(connection, migration, previous, apply);
    if (watch) watch->Disarm();
    if (outcome.succeeded) {
      close_attempt(Status::Ok(), -1, false);
      break;
    }
    // Transactional: the whole migration was rolled back, so it can simply run again.
    if (migration.transactional && !interrupt::Requested() && connection.alive() &&
        close_attempt(outcome.error, -1, true)) {
      if (!interrupt::Requested()) continue;
      outcome.error = Status::Interrupted(std::string("interrupted by ") +
                                              interrupt::SignalName(interrupt::Signal()) +
                                              " while waiting to retry",
                                          interrupt::Signal())
                          .WithSqlState("57014");
      break;
    }
    // Transaction off: retries happened inside ApplyUp; a failure outside a statement (the
    // progress row, a resume check) is final.
    if (attempt_open) close_attempt(outcome.error, -1, false);
    break;
  }

  item.duration = Since(first);
  item.statements_done = outcome.statements_done;
  item.statements_total = outcome.statements_total;
  item.resumed = outcome.resumed;
  item.resumed_at = outcome.resumed_at;
  item.cleanup_commands = outcome.cleanup_commands;
  if (outcome.succeeded) {
    item.action = "applied";
    return;
  }
  item.action = outcome.error.code() == StatusCode::kInterrupted ? "interrupted" : "failed";
  outcome.duration = item.duration;
  // A refusal (an edited statement, exit 2) was found before anything ran: nothing to record,
  // and recording would reset the progress of the statements that did run.
  if (outcome.error.code() == StatusCode::kInvalidInput) {
    item.error = outcome.error;
    return;
  }
  const std::string detail_before = outcome.error.detail();
  migrate::RecordFailureSafely(connection, migration, previous, apply, outcome);
  item.error = outcome.error;
  if (item.budget_spent && outcome.error.code() != StatusCode::kUnavailable) {
    item.error = BudgetSpentError(migration, item, outcome.error);
    if (outcome.error.detail() != detail_before) {  // the record failed: say so
      item.error.WithDetail(item.error.detail() + "\n" +
                            outcome.error.detail().substr(detail_before.size()));
    }
  }
}

}  // namespace tandem::release
