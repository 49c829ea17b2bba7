// transaction-control-in-migration: tandem runs a transactional migration in its own
// transaction; a BEGIN or COMMIT inside it ends that transaction early, so a failure leaves
// the migration half-applied and the history wrong.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  bool control = st.kind == sql::StatementKind::kBegin || st.kind == sql::StatementKind::kCommit ||
                 st.kind == sql::StatementKind::kRollback;
  if (!control || !c.migration.transactional) return;
  c.Report(kTransactionControlInMigration, st.offset,
           "transaction control in a migration that tandem already runs in a transaction",
           "-- remove BEGIN/COMMIT, or say -- tandem:transaction off and manage transactions "
           "yourself");
}

}  // namespace

const Rule kTransactionControlInMigration = {
    "transaction-control-in-migration",
    Severity::kError,
    "BEGIN / COMMIT / ROLLBACK inside a transactional migration",
    "the statement ends tandem's transaction early, so a later failure leaves the migration half "
    "applied",
    "none",
    "nothing",
    "all",
    "-- drop BEGIN/COMMIT (tandem wraps the migration), or -- tandem:transaction off",
    "BEGIN;\nALTER TABLE users ADD COLUMN plan text;\nCOMMIT;",
    &Check,
};

}  // namespace tandem::lint::rules
