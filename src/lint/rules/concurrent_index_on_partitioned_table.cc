// concurrent-index-on-partitioned-table: CREATE INDEX CONCURRENTLY on a partitioned table is
// rejected by the server (measured on 15), so the migration fails. Without CONCURRENTLY it
// takes SHARE on the parent and every partition (create-index-non-concurrently). The online
// form is ON ONLY the parent, CONCURRENTLY per partition, then ATTACH PARTITION.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind != sql::StatementKind::kCreateIndex || !st.concurrent) return;
  const TableInfo* table = c.schema.FindTable(st.relation);
  if (!table || !table->partitioned) return;
  std::string t = Table(c);
  std::string name = st.index_name.empty() ? "<index name>" : Ident(st.index_name);
  std::string cols;
  for (const auto& col : st.index_columns) cols += (cols.empty() ? "" : ", ") + Ident(col);
  if (cols.empty()) cols = "...";
  std::string unique = st.unique ? "UNIQUE " : "";
  c.Report(kConcurrentIndexOnPartitionedTable, st.offset,
           "CREATE INDEX CONCURRENTLY is rejected on partitioned table " + t +
               ", so the migration fails",
           "CREATE " + unique + "INDEX " + name + " ON ONLY " + t + " (" + cols +
               ");\n-- for each partition, in a migration with -- tandem:transaction off:\n"
               "CREATE " +
               unique + "INDEX CONCURRENTLY <partition_index> ON <partition> (" + cols +
               ");\nALTER INDEX " + name + " ATTACH PARTITION <partition_index>;");
}

}  // namespace

const Rule kConcurrentIndexOnPartitionedTable = {
    "concurrent-index-on-partitioned-table",
    Severity::kError,
    "CREATE INDEX CONCURRENTLY on a partitioned table",
    "PostgreSQL rejects it, so the migration fails when it runs",
    "none (the statement fails)",
    "nothing",
    "all (rejected on 15, measured)",
    "CREATE INDEX t_c_idx ON ONLY t (c);\n"
    "CREATE INDEX CONCURRENTLY t_p1_c_idx ON t_p1 (c);   -- per partition, transaction off\n"
    "ALTER INDEX t_c_idx ATTACH PARTITION t_p1_c_idx;",
    "CREATE INDEX CONCURRENTLY events_at_idx ON events (at);",
    &Check,
};

}  // namespace tandem::lint::rules
