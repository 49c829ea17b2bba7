// drop-column: the old app still reads and writes the column while a pre-deploy migration
// runs (seed 001: "a migration is only safe if the old app works with the new state of the
// DB"). The drop belongs in a post-deploy migration, after code that ignores the column.
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
    if (cmd.action != sql::AlterAction::kDropColumn) continue;
    c.Report(kDropColumn, cmd.offset,
             "dropping column \"" + cmd.column + "\" of " + Table(c) +
                 " in a pre-deploy migration breaks the running app, which still uses it",
             "-- deploy 1: make the app ignore " + Ident(cmd.column) +
                 " (e.g. ignored_columns)\n-- deploy 2, in a migration with -- tandem:phase "
                 "post-deploy:\nALTER TABLE " +
                 Table(c) + " DROP COLUMN " + std::string(cmd.missing_ok ? "IF EXISTS " : "") +
                 Ident(cmd.column) + ";");
  }
}

}  // namespace

const Rule kDropColumn = {
    "drop-column",
    Severity::kError,
    "DROP COLUMN in a pre-deploy migration",
    "the old app, still serving traffic during the release, selects or inserts the column and "
    "fails",
    "ACCESS EXCLUSIVE on {table}",
    kBlocksAll,
    "all",
    "-- deploy code that no longer uses the column, then in a post-deploy migration:\n"
    "-- tandem:phase post-deploy\nALTER TABLE t DROP COLUMN c;",
    "ALTER TABLE users DROP COLUMN legacy_name;",
    &Check,
};

}  // namespace tandem::lint::rules
