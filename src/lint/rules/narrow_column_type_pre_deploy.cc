// narrow-column-type-pre-deploy: a narrower type (varchar(100) -> varchar(50), text ->
// varchar(n), bigint -> integer, less numeric precision) rejects values the old app still
// writes. Needs the column's current type from the schema model.
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
    if (cmd.action != sql::AlterAction::kAlterColumnType) continue;
    const ColumnInfo* col = c.schema.FindColumn(c.statement.relation, cmd.column);
    if (!col || !IsNarrowing(col->type, cmd.column_def.type)) continue;
    c.Report(kNarrowColumnTypePreDeploy, cmd.offset,
             "narrowing column \"" + cmd.column + "\" of " + Table(c) + " from " +
                 col->type.ToSql() + " to " + cmd.column_def.type.ToSql() +
                 " in a pre-deploy migration rejects values the running app still writes",
             "-- deploy code that only writes values that fit, then in a migration with "
             "-- tandem:phase post-deploy:\nALTER TABLE " +
                 Table(c) + " ADD CONSTRAINT " +
                 Ident(c.statement.relation.name + "_" + cmd.column + "_fits") +
                 " CHECK (...) NOT VALID;  -- then VALIDATE, then the type change");
  }
}

}  // namespace

const Rule kNarrowColumnTypePreDeploy = {
    "narrow-column-type-pre-deploy",
    Severity::kError,
    "a type change that narrows a column, in a pre-deploy migration",
    "the old app keeps writing values that no longer fit, and those writes fail",
    "ACCESS EXCLUSIVE on {table}",
    kBlocksAll,
    "all",
    "-- tandem:phase post-deploy, after the app only writes values that fit",
    "ALTER TABLE users ALTER COLUMN name TYPE varchar(50);  -- was varchar(100)",
    &Check,
};

}  // namespace tandem::lint::rules
