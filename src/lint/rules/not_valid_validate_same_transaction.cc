// not-valid-validate-same-transaction: ADD ... NOT VALID takes ACCESS EXCLUSIVE (CHECK) or
// SHARE ROW EXCLUSIVE (FK); validating in the same transaction scans the table while that lock
// is still held, which is exactly what NOT VALID was meant to avoid.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  if (c.statement.kind != sql::StatementKind::kAlterTable || !c.InTransaction()) return;
  std::string key = TableKey(c.statement.relation);
  for (const auto& cmd : c.statement.cmds) {
    if (cmd.action != sql::AlterAction::kValidateConstraint) continue;
    for (const auto& [table, name] : c.transaction.not_valid) {
      if (table != key || name != cmd.name) continue;
      c.Report(
          kNotValidValidateSameTransaction, cmd.offset,
          "constraint \"" + cmd.name +
              "\" is added NOT VALID and validated in the same "
              "transaction, so the scan runs under the lock taken by the ADD",
          "-- move the VALIDATE to a later migration (tandem:phase post-deploy):\nALTER TABLE " +
              Table(c) + " VALIDATE CONSTRAINT " + Ident(cmd.name) + ";");
    }
  }
}

}  // namespace

const Rule kNotValidValidateSameTransaction = {
    "not-valid-validate-same-transaction",
    Severity::kError,
    "ADD CONSTRAINT ... NOT VALID and VALIDATE CONSTRAINT in one transaction",
    "the validating scan runs while the ADD's strong lock is still held",
    "ACCESS EXCLUSIVE (CHECK) or SHARE ROW EXCLUSIVE (FK) on {table}, held during the scan",
    kBlocksAll,
    "all",
    "-- migration 1: ADD CONSTRAINT c ... NOT VALID;\n-- migration 2 (post-deploy): VALIDATE "
    "CONSTRAINT c;",
    "ALTER TABLE t ADD CONSTRAINT c CHECK (x > 0) NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT c;",
    &Check,
};

}  // namespace tandem::lint::rules
