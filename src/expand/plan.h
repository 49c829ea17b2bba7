// Expand/contract: an online migration (`-- tandem:online`) is written as the plain SQL the
// user wants in the end; the planner turns it into steps. Start here for the expand folder.
//
//   expand    run by `tandem release`: catalog-only steps under lock_timeout (with retries),
//             and scans that block no writes (CREATE INDEX CONCURRENTLY, VALIDATE). After it,
//             the old app and the new app both work.
//   backfill  one background job (src/background/) filling successor columns, by ctid block
//             ranges (identity keys and tables without a primary key work alike), idempotent.
//   contract  run by `tandem complete` once the old app is gone: validations, then drops.
//   abort     every expand step has its undo; `tandem abort` runs them newest first.
//
// The plan is computed from the migration's SQL and the live catalog, once, when the expand
// starts, and stored with the migration's online state (executor.h): complete and abort run
// the stored plan, not one recomputed from a catalog the expand has changed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "expand/catalog.h"
#include "migrate/migration.h"

namespace tandem::expand {

struct Step {
  std::string name;              // what it does, in words
  std::vector<std::string> sql;  // run in one transaction (transactional) or one by one
  bool transactional = true;
  // Catalog-only steps run under lock_timeout with retries; scans take no lock that blocks
  // the app's reads and writes.
  std::string lock;      // e.g. "ACCESS EXCLUSIVE on public.users, catalog only"
  std::string duration;  // e.g. "milliseconds", "a scan of public.users, writes go on"
  // Abort: statements that undo this step (empty: nothing to undo), run as one transaction
  // unless undo_transactional is false.
  std::vector<std::string> undo;
  bool undo_transactional = true;
  // A scan that blocks no reads or writes (VALIDATE, CREATE INDEX CONCURRENTLY): no
  // statement_timeout, lock_timeout still bounds the wait for its lock.
  bool scan = false;
  // CREATE INDEX CONCURRENTLY: the index (schema-qualified, quoted). An invalid one left by a
  // killed attempt is dropped before the next, so that IF NOT EXISTS cannot skip it.
  std::string index;
};

struct Backfill {
  std::string table;  // schema-qualified, quoted
  std::string sql;    // one UPDATE with :batch_start / :batch_end over ctid ranges
};

// What each app sees, per operation, once the expand is done.
struct OperationSummary {
  std::string statement;  // the user's statement as written
  std::string kind;       // "rename-column", "rename-table", ...
  std::string old_app;
  std::string new_app;
};

struct Plan {
  std::string version;
  std::string name;
  std::vector<OperationSummary> operations;
  std::vector<Step> expand;
  std::optional<Backfill> backfill;
  std::vector<Step> contract;
  // The search_path the new app's connections must use; nullopt when it needs none.
  std::optional<std::string> new_app_search_path;
};

// Plans `migration` (marked online; sections split) against the catalog `connection` reads.
// kInvalidInput, located at the statement, for anything that cannot be planned online: an
// operation not supported, a type change without a derivable reverse, two operations on one
// column, a column tandem cannot carry over (e.g. a primary key being renamed).
Result<Plan> PlanMigration(pg::Connection& connection, const migrate::Migration& migration);

// The plan as JSON text (stored in tandem.online_migrations, and `tandem plan --format json`)
// and back.
std::string PlanToJson(const Plan& plan);
Result<Plan> PlanFromJson(const std::string& json);

// Rewrites `expression` (SQL over the table's columns, as in USING) so that each reference to
// one of `columns` reads `prefix`.column instead: for the trigger, where values are NEW.col.
// Lexical: string literals, quoted identifiers of other names, function names and type names
// after :: are left alone.
std::string QualifyColumns(const std::string& expression, const std::vector<std::string>& columns,
                           const std::string& prefix);

}  // namespace tandem::expand
