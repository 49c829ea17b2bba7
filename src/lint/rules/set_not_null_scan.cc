// set-not-null-scan: SET NOT NULL scans the whole table under ACCESS EXCLUSIVE (measured)
// unless, on PostgreSQL 12+, a validated CHECK (col IS NOT NULL) already proves it; a NOT
// VALID check does not help (measured).
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  if (c.statement.kind != sql::StatementKind::kAlterTable || !ExistingTable(c)) return;
  for (const auto& cmd : c.statement.cmds) {
    if (cmd.action != sql::AlterAction::kSetNotNull) continue;
    if (c.version.major >= 12 &&
        c.schema.HasValidatedNotNullCheck(c.statement.relation, cmd.column)) {
      continue;
    }
    const ColumnInfo* col = c.schema.FindColumn(c.statement.relation, cmd.column);
    if (col && col->not_null) continue;  // already NOT NULL: a no-op
    std::string t = Table(c), n = Ident(cmd.column);
    std::string check = Ident(c.statement.relation.name + "_" + cmd.column + "_not_null");
    std::string recipe;
    if (c.version.major >= 12) {
      recipe = "ALTER TABLE " + t + " ADD CONSTRAINT " + check + " CHECK (" + n +
               " IS NOT NULL) NOT VALID;\n-- in a later transaction (post-deploy):\nALTER TABLE " +
               t + " VALIDATE CONSTRAINT " + check + ";\nALTER TABLE " + t + " ALTER COLUMN " + n +
               " SET NOT NULL;\nALTER TABLE " + t + " DROP CONSTRAINT " + check + ";";
    } else {
      recipe = "-- before PostgreSQL 12 SET NOT NULL always scans; keep a validated CHECK (" + n +
               " IS NOT NULL) instead:\nALTER TABLE " + t + " ADD CONSTRAINT " + check +
               " CHECK (" + n + " IS NOT NULL) NOT VALID;\nALTER TABLE " + t +
               " VALIDATE CONSTRAINT " + check + ";";
    }
    c.Report(kSetNotNullScan, cmd.offset,
             "SET NOT NULL on column \"" + cmd.column + "\" scans all of " + t +
                 " while holding ACCESS EXCLUSIVE" +
                 (c.version.major >= 12
                      ? ": no validated CHECK (" + cmd.column + " IS NOT NULL) proves it"
                      : ""),
             recipe);
  }
}

}  // namespace

const Rule kSetNotNullScan = {
    "set-not-null-scan",
    Severity::kError,
    "ALTER COLUMN ... SET NOT NULL without a validated CHECK (col IS NOT NULL); on 12+ such a "
    "check makes it catalog-only (measured: \"existing constraints ... are sufficient\"), "
    "whether it was validated earlier in the same file, in an earlier migration or is in the "
    "live catalog",
    "PostgreSQL reads every row to prove there is no NULL while ACCESS EXCLUSIVE blocks all "
    "queries",
    "ACCESS EXCLUSIVE on {table}",
    kBlocksAll,
    "all; on 12+ a validated CHECK (col IS NOT NULL) makes it catalog-only",
    "ALTER TABLE t ADD CONSTRAINT t_c_not_null CHECK (c IS NOT NULL) NOT VALID;\n"
    "ALTER TABLE t VALIDATE CONSTRAINT t_c_not_null;   -- separate transaction\n"
    "ALTER TABLE t ALTER COLUMN c SET NOT NULL;\nALTER TABLE t DROP CONSTRAINT t_c_not_null;",
    "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
    &Check,
};

}  // namespace tandem::lint::rules
