// foreign-key-locks-referenced-table: a foreign key created with a new table (CREATE TABLE ...
// REFERENCES, or ALTER TABLE on a table created earlier in the migration) takes SHARE ROW
// EXCLUSIVE on the referenced table (measured), blocking its writes until commit. The new
// table is empty, so nothing is scanned; the cost is the lock on the existing parent. Foreign
// keys added to existing tables are foreign-key-missing-not-valid.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Flag(const RuleContext& c, size_t offset, const sql::Constraint& k,
          const std::string& column) {
  const auto& st = c.statement;
  if (k.kind != sql::ConstraintKind::kForeignKey || k.referenced_table.empty()) return;
  if (c.IsNewTable(k.referenced_table)) return;
  if (TableKey(k.referenced_table) == TableKey(st.relation)) return;  // self-reference
  std::string t = Table(c);
  std::string parent = k.referenced_table.ToSql();
  std::string cols;
  for (const auto& col : k.columns) cols += (cols.empty() ? "" : ", ") + Ident(col);
  if (cols.empty()) cols = Ident(column);
  std::string name = k.name.empty() ? st.relation.name + "_" +
                                          (k.columns.empty() ? column : k.columns[0]) + "_fkey"
                                    : k.name;
  RawFinding f;
  f.rule = &kForeignKeyLocksReferencedTable;
  f.offset = offset;
  f.lock = "SHARE ROW EXCLUSIVE on " + parent;
  f.message = "foreign key \"" + name + "\" from new table " + t +
              " takes SHARE ROW EXCLUSIVE on " + parent + ", blocking writes to " + parent +
              " until the transaction commits";
  f.recipe = "-- keep the statement that creates \"" + name +
             "\" in a short transaction with no data changes after it;\n"
             "-- tandem release bounds the wait for " +
             parent + " with lock_timeout, e.g. SET LOCAL lock_timeout = '2s'";
  c.Report(std::move(f));
}

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind == sql::StatementKind::kCreateTable) {
    for (const auto& col : st.columns) {
      for (const auto& k : col.constraints) Flag(c, k.offset ? k.offset : col.offset, k, col.name);
    }
    for (const auto& k : st.table_constraints) Flag(c, k.offset ? k.offset : st.offset, k, "");
    return;
  }
  // On an existing table the validated key is foreign-key-missing-not-valid's.
  if (st.kind != sql::StatementKind::kAlterTable || ExistingTable(c)) return;
  for (const auto& cmd : st.cmds) {
    if (cmd.action == sql::AlterAction::kAddConstraint) Flag(c, cmd.offset, cmd.constraint, "");
    if (cmd.action == sql::AlterAction::kAddColumn) {
      for (const auto& k : cmd.column_def.constraints) Flag(c, k.offset, k, cmd.column);
    }
  }
}

}  // namespace

const Rule kForeignKeyLocksReferencedTable = {
    "foreign-key-locks-referenced-table",
    Severity::kWarning,
    "CREATE TABLE ... REFERENCES (or a foreign key on a new table) to an existing table",
    "writes to the referenced table are blocked until commit, and the lock queues behind its "
    "long transactions",
    "SHARE ROW EXCLUSIVE on the referenced table",
    kBlocksWrites,
    "all",
    "-- create the table alone in a short transaction with lock_timeout (tandem release sets "
    "it)",
    "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id));",
    &Check,
};

}  // namespace tandem::lint::rules
