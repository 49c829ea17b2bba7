// concurrently-in-transaction: CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, REINDEX
// SCHEMA / SYSTEM / DATABASE, VACUUM and DETACH PARTITION CONCURRENTLY cannot run in a
// transaction block (measured errors). tandem wraps
// a migration in a transaction unless it says `-- tandem:transaction off`.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (!c.InTransaction()) return;
  std::string what;
  if ((st.kind == sql::StatementKind::kCreateIndex || st.kind == sql::StatementKind::kDropIndex ||
       st.kind == sql::StatementKind::kReindex) &&
      st.concurrent) {
    what = st.kind == sql::StatementKind::kCreateIndex ? "CREATE INDEX CONCURRENTLY"
           : st.kind == sql::StatementKind::kDropIndex ? "DROP INDEX CONCURRENTLY"
                                                       : "REINDEX CONCURRENTLY";
  }
  for (const auto& cmd : st.cmds) {
    if (cmd.action == sql::AlterAction::kDetachPartition && cmd.concurrent) {
      what = "DETACH PARTITION CONCURRENTLY";
    }
  }
  if (st.kind == sql::StatementKind::kVacuum) what = "VACUUM";
  // REINDEX of a whole schema, database or the system catalogs commits per table (measured:
  // "REINDEX SYSTEM cannot run inside a transaction block"), with or without CONCURRENTLY.
  if (st.kind == sql::StatementKind::kReindex &&
      (st.reindex_target == "SCHEMA" || st.reindex_target == "SYSTEM" ||
       st.reindex_target == "DATABASE")) {
    what = "REINDEX " + st.reindex_target;
  }
  if (what.empty()) return;
  c.Report(kConcurrentlyInTransaction, st.offset,
           what + " cannot run inside a transaction block, and this migration runs in one",
           "-- put the statement in its own migration with\n-- tandem:transaction off");
}

}  // namespace

const Rule kConcurrentlyInTransaction = {
    "concurrently-in-transaction",
    Severity::kError,
    "CONCURRENTLY (or VACUUM, or REINDEX SCHEMA / SYSTEM / DATABASE) inside a transactional "
    "migration",
    "PostgreSQL rejects the statement inside a transaction block, so the migration fails",
    "none (the statement fails)",
    "nothing; the migration fails",
    "all",
    "-- tandem:transaction off\nCREATE INDEX CONCURRENTLY t_c_idx ON t (c);",
    "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);  -- without transaction off",
    &Check,
};

}  // namespace tandem::lint::rules
