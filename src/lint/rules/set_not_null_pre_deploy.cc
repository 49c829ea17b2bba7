// set-not-null-pre-deploy: the old app may still insert rows without the column (or with
// NULL) while a pre-deploy migration runs; NOT NULL makes those inserts fail. Enforce it
// post-deploy, once the new code always writes the column.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  if (c.statement.kind != sql::StatementKind::kAlterTable || !ExistingTable(c) ||
      !c.IsPreDeploy()) {
    return;
  }
  for (const auto& cmd : c.statement.cmds) {
    if (cmd.action != sql::AlterAction::kSetNotNull) continue;
    const ColumnInfo* col = c.schema.FindColumn(c.statement.relation, cmd.column);
    if (col && (col->not_null || col->has_default))
      continue;  // no-op, or old inserts get the default
    // A CHECK (col IS NOT NULL), even NOT VALID, already refuses every write that leaves the
    // column NULL: NOT NULL refuses nothing more.
    if (c.schema.HasNotNullCheck(c.statement.relation, cmd.column)) continue;
    c.Report(kSetNotNullPreDeploy, cmd.offset,
             "SET NOT NULL on column \"" + cmd.column + "\" of " + Table(c) +
                 " in a pre-deploy migration breaks old-app inserts that leave it NULL",
             PostDeployAlterColumn(c, cmd.column, "SET NOT NULL"));
  }
}

}  // namespace

const Rule kSetNotNullPreDeploy = {
    "set-not-null-pre-deploy",
    Severity::kError,
    "SET NOT NULL on an existing column in a pre-deploy migration",
    "the old app keeps inserting rows without the column during the release, and those inserts "
    "now fail (quiet when the column already has a CHECK (col IS NOT NULL), validated or NOT "
    "VALID: that check refuses those writes already)",
    "ACCESS EXCLUSIVE on {table}",
    kBlocksAll,
    "all",
    "-- tandem:phase post-deploy\nALTER TABLE t ALTER COLUMN c SET NOT NULL;  -- with the CHECK "
    "recipe of set-not-null-scan",
    "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
    &Check,
};

}  // namespace tandem::lint::rules
