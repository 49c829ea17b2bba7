// add-unique-constraint: ADD UNIQUE builds its index under ACCESS EXCLUSIVE (measured: index
// build scan). Build the index CONCURRENTLY first, then attach it with USING INDEX (no scan).
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

std::string Columns(const std::vector<std::string>& cols) {
  std::string out;
  for (const auto& c : cols) out += (out.empty() ? "" : ", ") + Ident(c);
  return out;
}

void Flag(const RuleContext& c, size_t offset, const sql::Constraint& k) {
  std::string t = Table(c);
  std::string name = k.name.empty() ? c.statement.relation.name + "_" +
                                          (k.columns.empty() ? "" : k.columns[0]) + "_key"
                                    : k.name;
  c.Report(kAddUniqueConstraint, offset,
           "UNIQUE constraint \"" + name + "\" builds its index on " + t +
               " while ACCESS EXCLUSIVE blocks all queries",
           "CREATE UNIQUE INDEX CONCURRENTLY " + Ident(name) + " ON " + t + " (" +
               Columns(k.columns) +
               ");   -- in a migration with -- tandem:transaction off\n"
               "ALTER TABLE " +
               t + " ADD CONSTRAINT " + Ident(name) + " UNIQUE USING INDEX " + Ident(name) + ";");
}

void Check(const RuleContext& c) {
  if (c.statement.kind != sql::StatementKind::kAlterTable || !ExistingTable(c)) return;
  for (const auto& cmd : c.statement.cmds) {
    if (cmd.action == sql::AlterAction::kAddConstraint &&
        cmd.constraint.kind == sql::ConstraintKind::kUnique && cmd.constraint.using_index.empty()) {
      Flag(c, cmd.offset, cmd.constraint);
    }
    if (cmd.action == sql::AlterAction::kAddColumn) {
      for (const auto& k : cmd.column_def.constraints) {
        if (k.kind == sql::ConstraintKind::kUnique) Flag(c, k.offset, k);
      }
    }
  }
}

}  // namespace

const Rule kAddUniqueConstraint = {
    "add-unique-constraint",
    Severity::kError,
    "ADD UNIQUE constraint (or inline UNIQUE on ADD COLUMN) without USING INDEX",
    "the unique index is built by scanning the table while ACCESS EXCLUSIVE blocks all queries",
    "ACCESS EXCLUSIVE and SHARE on {table}",
    kBlocksAll,
    "all",
    "CREATE UNIQUE INDEX CONCURRENTLY t_c_key ON t (c);\n"
    "ALTER TABLE t ADD CONSTRAINT t_c_key UNIQUE USING INDEX t_c_key;",
    "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
    &Check,
};

}  // namespace tandem::lint::rules
