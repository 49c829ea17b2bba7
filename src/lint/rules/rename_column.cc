// rename-column: whichever app version runs, one of them uses the other name: the old app
// during a pre-deploy rename, the new app before a post-deploy one. Always an error; the
// expand/contract recipe adds the new column, dual-writes, backfills and drops the old one;
// the recipe leads with `-- tandem:online`, which has tandem carry that out.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind != sql::StatementKind::kRenameColumn || !ExistingTable(c)) return;
  std::string t = Table(c), from = Ident(st.old_name), to = Ident(st.new_name);
  c.Report(kRenameColumn, st.offset,
           "renaming column \"" + st.old_name + "\" of " + t + " to \"" + st.new_name +
               "\" breaks the app version that still uses the old name",
           "-- tandem:online\nALTER TABLE " + t + " RENAME COLUMN " + from + " TO " + to +
               ";\n-- with the directive in the file's header tandem runs the rename as "
               "expand/contract: both\n-- names work for the old and the new app until `tandem "
               "complete`; `tandem plan` shows the steps\n"
               "-- by hand instead:\n"
               "-- pre-deploy: add the new column and keep both in sync\nALTER TABLE " +
               t + " ADD COLUMN " + to + " <type of " + from + ">;\n-- (trigger copying " + from +
               " to " + to +
               " on write; batched backfill in a background migration)\n"
               "-- deploy code that reads " +
               to +
               "\n-- post-deploy, after the old code is "
               "gone:\nALTER TABLE " +
               t + " DROP COLUMN " + from + ";");
}

}  // namespace

const Rule kRenameColumn = {
    "rename-column",
    Severity::kError,
    "ALTER TABLE ... RENAME COLUMN",
    "during a rolling deploy the old and the new app run at once, and one of them uses a column "
    "name that no longer exists",
    "ACCESS EXCLUSIVE on {table}",
    kBlocksAll,
    "all",
    "-- tandem:online\n"
    "ALTER TABLE t RENAME COLUMN old_name TO new_name;\n"
    "-- the directive makes tandem run it as expand/contract: both names work for the old and\n"
    "-- the new app until `tandem complete`; `tandem plan` shows the steps\n"
    "-- by hand instead:\n"
    "ALTER TABLE t ADD COLUMN new_name <type>;  -- plus dual-write trigger and backfill\n"
    "-- deploy code using new_name, then post-deploy: ALTER TABLE t DROP COLUMN old_name;",
    "ALTER TABLE users RENAME COLUMN name TO full_name;",
    &Check,
};

}  // namespace tandem::lint::rules
