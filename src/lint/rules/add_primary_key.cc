// add-primary-key: ADD PRIMARY KEY builds the index under ACCESS EXCLUSIVE and, for nullable
// columns, scans for NULLs (measured: 2 scans). USING INDEX avoids the build but still scans
// when a key column is nullable (measured: 1 scan), which eugene only guesses at (W14).
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  if (c.statement.kind != sql::StatementKind::kAlterTable || !ExistingTable(c)) return;
  for (const auto& cmd : c.statement.cmds) {
    if (cmd.action != sql::AlterAction::kAddConstraint ||
        cmd.constraint.kind != sql::ConstraintKind::kPrimaryKey) {
      continue;
    }
    const auto& k = cmd.constraint;
    std::string t = Table(c);
    std::string name = k.name.empty() ? c.statement.relation.name + "_pkey" : k.name;
    std::string cols;
    for (const auto& col : k.columns) cols += (cols.empty() ? "" : ", ") + Ident(col);
    if (k.using_index.empty()) {
      c.Report(kAddPrimaryKey, cmd.offset,
               "primary key \"" + name + "\" builds its index on " + t + " under ACCESS EXCLUSIVE",
               "-- make the key columns NOT NULL with the CHECK recipe first, then:\n"
               "CREATE UNIQUE INDEX CONCURRENTLY " +
                   Ident(name) + " ON " + t + " (" + cols + ");\nALTER TABLE " + t +
                   " ADD CONSTRAINT " + Ident(name) + " PRIMARY KEY USING INDEX " + Ident(name) +
                   ";");
      continue;
    }
    // USING INDEX: the key columns come from the index; only nullable ones cost a scan.
    const TableInfo* table = c.schema.FindTable(c.statement.relation);
    if (!table) continue;
    std::vector<std::string> key = k.columns;
    if (const IndexInfo* index = c.schema.FindIndex(k.using_index)) key = index->columns;
    bool nullable = false;
    std::string which;
    for (const auto& col : key) {
      auto it = table->columns.find(col);
      if (it != table->columns.end() && !it->second.not_null) {
        nullable = true;
        which = col;
      }
    }
    if (nullable) {
      c.Report(kAddPrimaryKey, cmd.offset,
               "PRIMARY KEY USING INDEX on nullable column \"" + which + "\" scans " + t +
                   " under ACCESS EXCLUSIVE to set NOT NULL",
               "-- prove the column non-null first (separate transactions):\nALTER TABLE " + t +
                   " ADD CONSTRAINT " +
                   Ident(c.statement.relation.name + "_" + which + "_not_null") + " CHECK (" +
                   Ident(which) + " IS NOT NULL) NOT VALID;\nALTER TABLE " + t +
                   " VALIDATE CONSTRAINT " +
                   Ident(c.statement.relation.name + "_" + which + "_not_null") +
                   ";\nALTER TABLE " + t + " ALTER COLUMN " + Ident(which) + " SET NOT NULL;");
    }
  }
}

}  // namespace

const Rule kAddPrimaryKey = {
    "add-primary-key",
    Severity::kError,
    "ADD PRIMARY KEY without USING INDEX, or USING INDEX over a nullable column",
    "the index build and the implicit NOT NULL scan run while ACCESS EXCLUSIVE blocks all queries",
    "ACCESS EXCLUSIVE and SHARE on {table}",
    kBlocksAll,
    "all",
    "CREATE UNIQUE INDEX CONCURRENTLY t_pkey ON t (id);\n"
    "ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey;  -- id already NOT NULL",
    "ALTER TABLE accounts ADD PRIMARY KEY (id);",
    &Check,
};

}  // namespace tandem::lint::rules
