// drop-default-pre-deploy: DROP DEFAULT on a NOT NULL column in a pre-deploy migration. The old
// app keeps inserting rows that leave the column out (it may not even know the column, when the
// same migration added it with a default to fill existing rows); without the default those
// inserts fail with a not-null violation during the release. Drop the default post-deploy,
// once the new code always writes the column.
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
    if (cmd.action != sql::AlterAction::kDropDefault) continue;
    const ColumnInfo* col = c.schema.FindColumn(c.statement.relation, cmd.column);
    if (!col || !col->not_null || !col->has_default) continue;
    c.Report(kDropDefaultPreDeploy, cmd.offset,
             "DROP DEFAULT on NOT NULL column \"" + cmd.column + "\" of " + Table(c) +
                 " in a pre-deploy migration breaks old-app inserts that leave it out",
             PostDeployAlterColumn(c, cmd.column, "DROP DEFAULT"));
  }
}

}  // namespace

const Rule kDropDefaultPreDeploy = {
    "drop-default-pre-deploy",
    Severity::kError,
    "DROP DEFAULT on a NOT NULL column of an existing table in a pre-deploy migration",
    "the old app keeps inserting rows without the column during the release (it may not know the "
    "column at all), and without the default those inserts fail with a not-null violation",
    "ACCESS EXCLUSIVE on {table}, for an instant (catalog only)",
    kBlocksAll,
    "all",
    "-- tandem:phase post-deploy\nALTER TABLE t ALTER COLUMN c DROP DEFAULT;",
    "ALTER TABLE users ADD COLUMN plan text NOT NULL DEFAULT 'free';\n"
    "ALTER TABLE users ALTER COLUMN plan DROP DEFAULT;",
    &Check,
};

}  // namespace tandem::lint::rules
