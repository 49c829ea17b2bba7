// constraint-missing-not-valid: ADD CHECK (also inline on ADD COLUMN) validates every row while
// holding ACCESS EXCLUSIVE (measured: 1 scan). NOT VALID then VALIDATE in a separate
// transaction validates under SHARE UPDATE EXCLUSIVE, which lets reads and writes through.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Flag(const RuleContext& c, size_t offset, const sql::Constraint& k,
          const std::string& column) {
  std::string t = Table(c);
  std::string name = k.name.empty() ? c.statement.relation.name + "_" + column + "_check" : k.name;
  c.Report(
      kConstraintMissingNotValid, offset,
      "CHECK constraint \"" + name + "\" is validated against every row of " + t +
          " under ACCESS EXCLUSIVE",
      "ALTER TABLE " + t + " ADD CONSTRAINT " + Ident(name) +
          " CHECK (...) NOT VALID;\n-- in a separate transaction (post-deploy):\nALTER TABLE " + t +
          " VALIDATE CONSTRAINT " + Ident(name) + ";");
}

void Check(const RuleContext& c) {
  if (c.statement.kind != sql::StatementKind::kAlterTable || !ExistingTable(c)) return;
  for (const auto& cmd : c.statement.cmds) {
    if (cmd.action == sql::AlterAction::kAddConstraint &&
        cmd.constraint.kind == sql::ConstraintKind::kCheck && !cmd.constraint.not_valid) {
      Flag(c, cmd.offset, cmd.constraint,
           cmd.constraint.columns.empty() ? "" : cmd.constraint.columns[0]);
    }
    if (cmd.action == sql::AlterAction::kAddColumn) {
      for (const auto& k : cmd.column_def.constraints) {
        if (k.kind == sql::ConstraintKind::kCheck) Flag(c, k.offset, k, cmd.column);
      }
    }
  }
}

}  // namespace

const Rule kConstraintMissingNotValid = {
    "constraint-missing-not-valid",
    Severity::kError,
    "ADD CONSTRAINT ... CHECK without NOT VALID on an existing table",
    "every row is checked while ACCESS EXCLUSIVE blocks all queries on the table",
    "ACCESS EXCLUSIVE on {table}",
    kBlocksAll,
    "all (VALIDATE CONSTRAINT takes only SHARE UPDATE EXCLUSIVE since 9.4)",
    "ALTER TABLE t ADD CONSTRAINT c CHECK (...) NOT VALID;\n"
    "ALTER TABLE t VALIDATE CONSTRAINT c;   -- separate transaction",
    "ALTER TABLE orders ADD CONSTRAINT amount_positive CHECK (amount > 0);",
    &Check,
};

}  // namespace tandem::lint::rules
