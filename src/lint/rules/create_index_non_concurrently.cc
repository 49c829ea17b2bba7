// create-index-non-concurrently: CREATE INDEX takes SHARE on the table (measured), which blocks
// every write for the whole build. CONCURRENTLY takes SHARE UPDATE EXCLUSIVE instead. On a
// partitioned table CONCURRENTLY is rejected, so the recipe is ON ONLY + per-partition builds.
#include <cctype>
#include <string_view>

#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

// The length of `text`'s leading `CREATE [UNIQUE] INDEX` (any case, any blanks between the
// words), or 0 when it does not start so.
size_t CreateIndexPrefix(std::string_view text) {
  size_t i = 0;
  auto blanks = [&] {
    size_t start = i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    return i > start;
  };
  auto word = [&](std::string_view w) {
    if (text.size() - i < w.size()) return false;
    for (size_t k = 0; k < w.size(); ++k) {
      if (std::toupper(static_cast<unsigned char>(text[i + k])) != w[k]) return false;
    }
    size_t end = i + w.size();
    if (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) ||
                              text[end] == '_' || text[end] == '$')) {
      return false;
    }
    i = end;
    return true;
  };
  blanks();
  if (!word("CREATE") || !blanks()) return 0;
  size_t before_unique = i;
  if (!(word("UNIQUE") && blanks())) i = before_unique;
  return word("INDEX") ? i : 0;
}

// The statement as written with CONCURRENTLY after its INDEX keyword, so the recipe keeps what
// a rebuilt column list would lose: expressions, DESC and NULLS order, operator classes, the
// access method, INCLUDE and a partial index's WHERE. Empty if the text does not start so.
std::string WithConcurrently(const std::string& text) {
  size_t prefix = CreateIndexPrefix(text);
  if (prefix == 0) return "";
  return text.substr(0, prefix) + " CONCURRENTLY" + text.substr(prefix) + ";";
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
