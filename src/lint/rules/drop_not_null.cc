// drop-not-null: DROP NOT NULL on an existing table (squawk's ban-drop-not-null). The statement
// itself is cheap (ACCESS EXCLUSIVE for a catalog change, no scan; measured), but it lets the
// new code write NULLs that every reader assumed impossible: the old app during the rollout,
// other services, reports. Those readers have to handle NULL first, one release earlier.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  if (c.statement.kind != sql::StatementKind::kAlterTable || !ExistingTable(c)) return;
  for (const auto& cmd : c.statement.cmds) {
    if (cmd.action != sql::AlterAction::kDropNotNull) continue;
    std::string t = Table(c), n = Ident(cmd.column);
    c.Report(kDropNotNull, cmd.offset,
             "DROP NOT NULL on column \"" + cmd.column + "\" of " + t +
                 " lets NULLs reach readers that assume the column always has a value",
             "-- first release code in which every reader of " + t + "." + n +
                 " handles NULL (the old app still runs during the rollout);\n"
                 "-- then, in a later release:\nALTER TABLE " +
                 t + " ALTER COLUMN " + n + " DROP NOT NULL;");
  }
}

}  // namespace

const Rule kDropNotNull = {
    "drop-not-null",
    Severity::kWarning,
    "ALTER COLUMN ... DROP NOT NULL on an existing table",
    "once the new code writes NULLs, readers that assume the column always has a value (the old "
    "app during the rollout, other services, reports) break",
    "ACCESS EXCLUSIVE on {table}, briefly (a catalog change, no scan)",
    kBlocksAll,
    "all",
    "-- release N: every reader handles NULL in c\n-- release N+1: ALTER TABLE t ALTER COLUMN c "
    "DROP NOT NULL;",
    "ALTER TABLE users ALTER COLUMN email DROP NOT NULL;",
    &Check,
};

}  // namespace tandem::lint::rules
