// drop-database: a migration that drops a database destroys data no rollback can restore.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind != sql::StatementKind::kDropDatabase) return;
  c.Report(kDropDatabase, st.offset,
           "dropping database " + Ident(st.relation.name) + " from a migration",
           "-- drop databases by hand, never from a migration");
}

}  // namespace

const Rule kDropDatabase = {
    "drop-database",
    Severity::kError,
    "DROP DATABASE in a migration",
    "the data is gone for every app and cannot be rolled back",
    "exclusive access to the database",
    "every connection to it",
    "all",
    "-- never from a migration",
    "DROP DATABASE analytics;",
    &Check,
};

}  // namespace tandem::lint::rules
