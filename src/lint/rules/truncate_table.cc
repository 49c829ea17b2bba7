// truncate-table: TRUNCATE takes ACCESS EXCLUSIVE on the table and its indexes (measured) and
// deletes data the old app may still read; CASCADE silently empties referencing tables too.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind != sql::StatementKind::kTruncate) return;
  for (const auto& table : st.objects) {
    if (c.IsNewTable(table)) continue;
    c.Report(kTruncateTable, st.offset,
             "TRUNCATE " + table.ToSql() +
                 (st.cascade ? " CASCADE also empties every table "
                               "that references it, and"
                             : "") +
                 " locks the table against all queries",
             "-- delete in batches from a background migration instead:\n-- tandem:phase "
             "background\nDELETE FROM " +
                 table.ToSql() + " WHERE id >= :batch_start AND id < :batch_end;");
  }
}

}  // namespace

const Rule kTruncateTable = {
    "truncate-table",
    Severity::kError,
    "TRUNCATE of an existing table (with CASCADE: of every referencing table too)",
    "data the running app reads disappears at once, behind a lock that blocks every query",
    "ACCESS EXCLUSIVE on {table} and its indexes",
    kBlocksAll,
    "all",
    "-- tandem:phase background\nDELETE FROM t WHERE id >= :batch_start AND id < :batch_end;",
    "TRUNCATE audit_log CASCADE;",
    &Check,
};

}  // namespace tandem::lint::rules
