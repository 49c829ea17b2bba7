// drop-foreign-key: dropping a foreign key takes ACCESS EXCLUSIVE on the referencing AND the
// referenced table (measured); no peer flags it. Only reported when the schema model knows the
// constraint is a foreign key.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  if (c.statement.kind != sql::StatementKind::kAlterTable || !ExistingTable(c)) return;
  const TableInfo* table = c.schema.FindTable(c.statement.relation);
  if (!table) return;
  for (const auto& cmd : c.statement.cmds) {
    if (cmd.action != sql::AlterAction::kDropConstraint) continue;
    auto it = table->constraints.find(cmd.name);
    if (it == table->constraints.end() || it->second.kind != sql::ConstraintKind::kForeignKey)
      continue;
    RawFinding f;
    f.rule = &kDropForeignKey;
    f.offset = cmd.offset;
    f.lock = "ACCESS EXCLUSIVE on " + Table(c) + " and on " + it->second.referenced_table;
    f.message = "dropping foreign key \"" + cmd.name + "\" locks both " + Table(c) + " and " +
                it->second.referenced_table + " against all queries";
    f.recipe =
        "-- keep it short: tandem applies lock_timeout and retries; run it alone\nALTER TABLE " +
        Table(c) + " DROP CONSTRAINT " + Ident(cmd.name) + ";";
    c.Report(std::move(f));
  }
}

}  // namespace

const Rule kDropForeignKey = {
    "drop-foreign-key",
    Severity::kWarning,
    "DROP CONSTRAINT of a foreign key",
    "the lock on the referenced table is easy to overlook: a busy parent table queues behind it",
    "ACCESS EXCLUSIVE on {table} and on the referenced table",
    kBlocksAll,
    "all",
    "-- run alone, with a short lock_timeout and retries (tandem release does both)",
    "ALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey;",
    &Check,
};

}  // namespace tandem::lint::rules
