// create-index-non-concurrently: CREATE INDEX takes SHARE on the table (measured), which blocks
// every write for the whole build. CONCURRENTLY takes SHARE UPDATE EXCLUSIVE instead. On a
// partitioned table CONCURRENTLY is rejected, so the recipe is ON ONLY + per-partition builds.
#include <regex>

#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

// The statement as written with CONCURRENTLY after its INDEX keyword, so the recipe keeps what
// a rebuilt column list would lose: expressions, DESC and NULLS order, operator classes, the
// access method, INCLUDE and a partial index's WHERE. Empty if the text does not start so.
std::string WithConcurrently(const std::string& text) {
  static const std::regex kCreateIndex(R"(^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\b)", std::regex::icase);
  std::smatch m;
  if (!std::regex_search(text, m, kCreateIndex)) return "";
  return m.str(0) + " CONCURRENTLY" + text.substr(m.length(0)) + ";";
}

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
