// drop-table: dropping a table the old app uses breaks it mid-release; the drop belongs in a
// post-deploy migration. DROP ... CASCADE also locks referencing tables (measured).
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind != sql::StatementKind::kDropTable || !c.IsPreDeploy()) return;
  for (const auto& table : st.objects) {
    if (c.IsNewTable(table)) continue;
    c.Report(kDropTable, st.offset,
             "dropping table " + table.ToSql() +
                 " in a pre-deploy migration breaks the running app if it still uses it",
             "-- deploy code that no longer uses " + table.ToSql() +
                 ", then in a migration with -- tandem:phase post-deploy:\nDROP TABLE " +
                 std::string(st.missing_ok ? "IF EXISTS " : "") + table.ToSql() + ";");
  }
}

}  // namespace

const Rule kDropTable = {
    "drop-table",
    Severity::kError,
    "DROP TABLE in a pre-deploy migration",
    "the old app, still serving traffic during the release, queries the table and fails",
    "ACCESS EXCLUSIVE on {table} (with CASCADE also on referencing tables)",
    kBlocksAll,
    "all",
    "-- tandem:phase post-deploy\nDROP TABLE t;",
    "DROP TABLE legacy_sessions;",
    &Check,
};

}  // namespace tandem::lint::rules
