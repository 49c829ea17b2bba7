// table-rewrite-alter: SET LOGGED / SET UNLOGGED rewrite the table (measured) and SET
// TABLESPACE copies it, all under ACCESS EXCLUSIVE.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind != sql::StatementKind::kAlterTable || !ExistingTable(c)) return;
  for (const auto& cmd : st.cmds) {
    const char* what = cmd.action == sql::AlterAction::kSetLogged       ? "SET LOGGED"
                       : cmd.action == sql::AlterAction::kSetUnlogged   ? "SET UNLOGGED"
                       : cmd.action == sql::AlterAction::kSetTablespace ? "SET TABLESPACE"
                                                                        : nullptr;
    if (!what) continue;
    c.Report(
        kTableRewriteAlter, cmd.offset,
        std::string(what) + " rewrites " + Table(c) + " while ACCESS EXCLUSIVE blocks all queries",
        "-- create the new table with the wanted persistence or tablespace, copy in batches, "
        "and swap names");
  }
}

}  // namespace

const Rule kTableRewriteAlter = {
    "table-rewrite-alter",
    Severity::kError,
    "ALTER TABLE ... SET LOGGED / SET UNLOGGED / SET TABLESPACE",
    "the table is copied in full while every query on it waits",
    "ACCESS EXCLUSIVE on {table}",
    kBlocksAll,
    "all",
    "-- build a new table, copy in batches, swap names in one short transaction",
    "ALTER TABLE events SET UNLOGGED;",
    &Check,
};

}  // namespace tandem::lint::rules
