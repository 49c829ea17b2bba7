// Runs one migration's up section on the shadow database and records, per statement, what the
// server really did (see report.h's StatementTrace), the way eugene's trace mode does.
//
// A transactional migration runs in one transaction, as `tandem release` would run it; a
// catalog snapshot before and after each statement gives its new locks (on relations that
// existed before the migration: objects it created are invisible to the app until COMMIT),
// rewrites (relfilenode changed, matched by name so that an index rebuilt under its old name
// counts), scans (pg_stat_xact seq_scan deltas) and created or dropped objects. A
// `transaction off` migration runs statement by statement in autocommit, as the runner does;
// a second session polls pg_locks for the first one's pid while each statement runs, because
// CREATE INDEX CONCURRENTLY and friends cannot run inside the transaction a snapshot needs.
#pragma once

#include "base/status.h"
#include "migrate/migration.h"
#include "pg/connection.h"
#include "verify/catalog_snapshot.h"
#include "verify/report.h"

namespace tandem::verify {

// Hooks for checks that must run at a precise point of the migration (old-app compatibility
// after each statement, facts about the schema before a SET NOT NULL). Time spent in hooks is
// not counted as tracing overhead.
class TraceObserver {
 public:
  virtual ~TraceObserver() = default;
  virtual void BeforeStatement(pg::Connection& shadow, const migrate::Migration& migration,
                               int index) {}
  // `before`/`after` are the snapshots around the statement; `in_transaction` says whether
  // the shadow session is inside the migration's transaction.
  virtual void AfterStatement(pg::Connection& shadow, const migrate::Migration& migration,
                              const StatementTrace& trace, const CatalogSnapshot& before,
                              const CatalogSnapshot& after, bool in_transaction) {}
};

struct TraceInput {
  pg::Connection* shadow = nullptr;  // the session that runs the migration
  // A second session on the same database (transaction-off migrations only); nullptr falls
  // back to tracing without locks.
  pg::Connection* observer_session = nullptr;
  TraceObserver* observer = nullptr;
};

// Requires SplitSections(migration). The migration is committed on the shadow when it
// succeeds and rolled back when a statement fails (the failure is in the statement's
// `error`, and the trace's `succeeded` is false). A non-ok Result means the tracing itself
// failed (the shadow went away).
Result<MigrationTrace> TraceMigration(const migrate::Migration& migration, const TraceInput& input);

// The part of a trace that comes from comparing two snapshots. `baseline` holds the relations
// that existed before the migration started: only they matter to the running app.
void DiffSnapshots(const CatalogSnapshot& baseline, const CatalogSnapshot& before,
                   const CatalogSnapshot& after, StatementTrace& trace);

}  // namespace tandem::verify
