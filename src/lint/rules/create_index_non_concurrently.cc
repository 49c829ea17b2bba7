// create-index-non-concurrently: CREATE INDEX takes SHARE on the table (measured), which blocks
// every write for the whole build. CONCURRENTLY takes SHARE UPDATE EXCLUSIVE instead. On a
// partitioned table CONCURRENTLY is rejected, so the recipe is ON ONLY + per-partition builds.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind != sql::StatementKind::kCreateIndex || st.concurrent || !ExistingTable(c)) return;
  const TableInfo* table = c.schema.FindTable(st.relation);
  std::string t = Table(c);
  std::string name = st.index_name.empty() ? "<index name>" : Ident(st.index_name);
  std::string cols;
  for (const auto& col : st.index_columns) cols += (cols.empty() ? "" : ", ") + Ident(col);
  if (cols.empty()) cols = "...";
  std::string recipe;
  if (table && table->partitioned) {
    if (st.only) return;  // ON ONLY the parent: catalog only, the partitions are built later
    recipe = "CREATE " + std::string(st.unique ? "UNIQUE " : "") + "INDEX " + name + " ON ONLY " +
             t + " (" + cols +
             ");\n-- for each partition, outside a transaction:\n"
             "CREATE INDEX CONCURRENTLY <partition_index> ON <partition> (" +
             cols + ");\nALTER INDEX " + name + " ATTACH PARTITION <partition_index>;";
  } else {
    std::string concurrent = WithConcurrently(st.text);
    if (concurrent.empty()) {
      concurrent = "CREATE " + std::string(st.unique ? "UNIQUE " : "") + "INDEX CONCURRENTLY " +
                   (st.if_not_exists ? "IF NOT EXISTS " : "") + name + " ON " + t + " (" + cols +
                   ");";
    }
    recipe = "-- in a migration with -- tandem:transaction off\n" + concurrent;
  }
  c.Report(kCreateIndexNonConcurrently, st.offset,
           "creating index " + name + " without CONCURRENTLY blocks writes to " + t +
               " for the whole build",
           recipe);
}

}  // namespace

const Rule kCreateIndexNonConcurrently = {
    "create-index-non-concurrently",
    Severity::kError,
    "CREATE INDEX without CONCURRENTLY on an existing table",
    "the build reads the whole table while SHARE blocks every INSERT, UPDATE and DELETE",
    "SHARE on {table}",
    kBlocksWrites,
    "all",
    "-- tandem:transaction off\nCREATE INDEX CONCURRENTLY t_c_idx ON t (c);",
    "CREATE INDEX users_email_idx ON users (email);",
    &Check,
};

}  // namespace tandem::lint::rules
