// drop-index-non-concurrently: DROP INDEX takes ACCESS EXCLUSIVE on the table (measured);
// DROP INDEX CONCURRENTLY needs only SHARE UPDATE EXCLUSIVE.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind != sql::StatementKind::kDropIndex || st.concurrent) return;
  for (const auto& index : st.objects) {
    const IndexInfo* info = c.schema.FindIndex(index.name);
    if (info && c.IsNewTable({"", info->table})) continue;
    std::string table = info ? info->table : "its table";
    c.Report(kDropIndexNonConcurrently, st.offset,
             "dropping index " + index.ToSql() + " without CONCURRENTLY locks " + table +
                 " against all queries",
             "-- in a migration with -- tandem:transaction off\nDROP INDEX CONCURRENTLY " +
                 std::string(st.missing_ok ? "IF EXISTS " : "") + index.ToSql() + ";");
  }
}

}  // namespace

const Rule kDropIndexNonConcurrently = {
    "drop-index-non-concurrently",
    Severity::kWarning,
    "DROP INDEX without CONCURRENTLY",
    "the table is locked against all queries until every running query on it finishes",
    "ACCESS EXCLUSIVE on the index's table",
    kBlocksAll,
    "all",
    "-- tandem:transaction off\nDROP INDEX CONCURRENTLY IF EXISTS t_c_idx;",
    "DROP INDEX users_email_idx;",
    &Check,
};

}  // namespace tandem::lint::rules
