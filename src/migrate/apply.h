// Applying or reverting one migration, with its history row and events.
//
// Transactional migrations run in one transaction together with their history row: either
// everything (schema change, row, event) commits, or nothing does and the failure is recorded
// afterwards. With `-- tandem:transaction off` statements run one by one, each in a transaction
// of its own together with its progress row, so a rerun resumes at the first statement that
// did not commit, after checking that the statements already applied were not edited. The few
// statements PostgreSQL refuses inside a transaction block (CONCURRENTLY, VACUUM, ...) run bare,
// and a rerun that stops at one reads the catalog to learn whether it completed
// (bare_statement.h). Each migration starts from the session state tandem set up: what one
// SETs does not leak into the next.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "migrate/history.h"
#include "migrate/migration.h"
#include "pg/connection.h"

namespace tandem::migrate {

// Session limits applied around every statement (SET LOCAL inside a transaction).
struct SessionLimits {
  std::optional<Duration> lock_timeout;
  std::optional<Duration> statement_timeout;
  std::optional<Duration> idle_in_transaction_timeout;
};

// `limits` with the migration's own `-- tandem:lock-timeout` / `-- tandem:statement-timeout`
// in place of the run's (up, down and release all apply them this way).
SessionLimits WithMigrationLimits(const Migration& migration, SessionLimits limits);

struct ApplyOutcome {
  bool succeeded = false;
  Status error;  // with the statement's file, line and column
  std::string failed_statement;
  int statements_done = 0;
  int statements_total = 0;
  bool resumed = false;  // transaction-off: started after statements already applied
  int resumed_at = 0;    // 0-based index of the first statement run this time
  Duration duration{0};
  std::vector<std::string> notices;
  // DROP INDEX CONCURRENTLY commands for INVALID indexes a failed CONCURRENTLY left behind.
  std::vector<std::string> cleanup_commands;
};

struct ApplyOptions {
  std::string schema = "tandem";
  SessionLimits limits;
  bool out_of_order = false;
  // When false a failure is not written to the history (a caller that retries, such as
  // `tandem release` after a lock timeout, records only the final outcome).
  bool record_failure = true;
  // Transaction-off only. Called when statement `statement_index` (0-based) fails; returning
  // true runs it again, after dropping (DROP INDEX CONCURRENTLY) any INVALID index the failed
  // attempt left. The callee decides (a lock timeout within a retry budget) and sleeps before
  // returning. `tandem release` sets it; unset, the first failure ends the migration.
  std::function<bool(const Status& error, int statement_index)> retry_statement;
};

// Whether `migration` may run given its history row: a transaction-off migration that stopped
// part-way resumes after the statements it applied, so those must be unchanged, still there,
// and still run without a transaction. kInvalidInput (exit 2) naming the file and line
// otherwise. Callers check every migration before applying any.
Status CheckResume(const Migration& migration, const HistoryRow* previous);
// The 0-based index of the first statement to run (CheckResume has passed).
int ResumePoint(const HistoryRow* previous);

// Requires SplitSections(migration) to have run. `previous` is the migration's history row,
// if any (for attempts and transaction-off resume).
ApplyOutcome ApplyUp(pg::Connection& connection, const Migration& migration,
                     const HistoryRow* previous, const ApplyOptions& options);

struct UpItem {
  const Migration* migration;  // SplitSections has run
  const HistoryRow* previous;  // its history row, if any
  ApplyOptions options;
};

// Applies the migrations in order, stopping at the first failure, with the same outcome as
// ApplyUp on each in turn: every migration in its own transaction (or statement by statement
// when transaction-off), recorded in the history as it commits. Consecutive transactional
// migrations go to the server together, so a thousand small ones cost tens of round trips
// instead of a thousand. One outcome per migration that ran; the last one failed unless all
// succeeded.
std::vector<ApplyOutcome> ApplyUpAll(pg::Connection& connection, const std::vector<UpItem>& items);

// Reverts an applied migration with its down section; the history row goes back to pending
// and a "reverted" event is logged.
ApplyOutcome ApplyDown(pg::Connection& connection, const Migration& migration,
                       const ApplyOptions& options);

// Records a failure that happened outside ApplyUp (for callers that retried and gave up). The
// event is "interrupted" for a migration stopped by a signal, else "failed".
Status RecordFailure(pg::Connection& connection, const Migration& migration,
                     const HistoryRow* previous, const ApplyOptions& options,
                     const ApplyOutcome& outcome);

// RecordFailure, and when the connection was lost mid-migration: replaces outcome.error with the
// one message and exit code (3) for a lost connection, then records the failure over a new
// connection that takes the runner lock again, or says in the error why it could not.
void RecordFailureSafely(pg::Connection& connection, const Migration& migration,
                         const HistoryRow* previous, const ApplyOptions& options,
                         ApplyOutcome& outcome);

// The exact location of a server error inside a statement: the statement's own location,
// moved by the error's statement position.
SourceLocation LocateError(const Statement& statement, const Status& error);

// SHA-256 of a statement's SQL, as stored per applied statement in transaction-off mode.
std::string StatementChecksum(const Statement& statement);

}  // namespace tandem::migrate
