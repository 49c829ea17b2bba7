// rename-table: breaks whichever app version uses the other name. The view trick keeps both
// names working: rename, then create a view with the old name (simple views are updatable).
// The recipe leads with `-- tandem:online`, which has tandem carry out the expand/contract.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind != sql::StatementKind::kRenameTable || !ExistingTable(c)) return;
  std::string t = Table(c), to = Ident(st.new_name);
  c.Report(
      kRenameTable, st.offset,
      "renaming table " + t + " to " + to + " breaks the app version that still uses the old name",
      "-- tandem:online\nALTER TABLE " + t + " RENAME TO " + to +
          ";\n-- with the directive in the file's header tandem runs the rename as "
          "expand/contract: both\n-- names work for the old and the new app until `tandem "
          "complete`; `tandem plan` shows the steps\n"
          "-- by hand instead:\nBEGIN;\nALTER TABLE " +
          t + " RENAME TO " + to + ";\nCREATE VIEW " + t + " AS SELECT * FROM " + to +
          ";  -- the old name keeps working\nCOMMIT;\n"
          "-- post-deploy, once no code uses the old name:\nDROP VIEW " +
          t + ";");
}

}  // namespace

const Rule kRenameTable = {
    "rename-table",
    Severity::kError,
    "ALTER TABLE ... RENAME TO",
    "during a rolling deploy one app version queries a table name that no longer exists",
    "ACCESS EXCLUSIVE on {table}",
    kBlocksAll,
    "all",
    "-- tandem:online\n"
    "ALTER TABLE old RENAME TO new;\n"
    "-- the directive makes tandem run it as expand/contract: both names work for the old and\n"
    "-- the new app until `tandem complete`; `tandem plan` shows the steps\n"
    "-- by hand instead:\n"
    "BEGIN; ALTER TABLE old RENAME TO new; CREATE VIEW old AS SELECT * FROM new; COMMIT;\n"
    "-- post-deploy: DROP VIEW old;",
    "ALTER TABLE users RENAME TO accounts;",
    &Check,
};

}  // namespace tandem::lint::rules
