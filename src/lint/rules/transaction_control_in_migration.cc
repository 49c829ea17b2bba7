// transaction-control-in-migration: tandem runs a transactional migration in its own
// transaction; a BEGIN or COMMIT inside it ends that transaction early, so a failure leaves
// the migration half-applied and the history wrong. The judgement is the runner's own
// (migrate::UnwrapTransactionControl, reached through RuleContext::refusal): a BEGIN ... COMMIT
// wrapper around the whole section is dropped and no finding; every file `up` refuses for its
// transaction control, with or without -- tandem:transaction off, gets this error with the
// runner's message.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  if (!c.refusal) return;
  std::string hint = c.refusal->hint();
  c.Report(kTransactionControlInMigration, c.statement.offset, c.refusal->message(),
           hint.empty() ? "" : "-- " + hint);
}

}  // namespace

const Rule kTransactionControlInMigration = {
    "transaction-control-in-migration",
    Severity::kError,
    "BEGIN / COMMIT / ROLLBACK / SAVEPOINT that `tandem up` refuses: any but a BEGIN ... COMMIT "
    "wrapper around the whole section (which tandem drops), with or without "
    "-- tandem:transaction off",
    "the statement would end tandem's transaction early, so a later failure would leave the "
    "migration half applied; `tandem up` refuses the file (exit 2) before running any of it",
    "none",
    "nothing",
    "all",
    "-- drop BEGIN/COMMIT (tandem runs each migration in one transaction); with\n"
    "-- tandem:transaction off each statement runs on its own: split the work into migrations",
    "ALTER TABLE users ADD COLUMN plan text;\nCOMMIT;\nCREATE INDEX CONCURRENTLY users_plan ON "
    "users (plan);\nBEGIN;",
    &Check,
};

}  // namespace tandem::lint::rules
