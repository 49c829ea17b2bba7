// add-column-generated-stored: a STORED generated column is computed for every existing row,
// so the table is rewritten (measured). PostgreSQL 18's VIRTUAL generated columns are not.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  if (c.statement.kind != sql::StatementKind::kAlterTable || !ExistingTable(c)) return;
  for (const auto& cmd : c.statement.cmds) {
    if (cmd.action != sql::AlterAction::kAddColumn || !cmd.column_def.generated_stored) continue;
    std::string t = Table(c), n = Ident(cmd.column_def.name);
    std::string recipe = "ALTER TABLE " + t + " ADD COLUMN " + n + " " +
                         cmd.column_def.type.ToSql() +
                         ";\n-- keep it up to date with a trigger, backfill in batches";
    if (c.version.major >= 18) recipe += ", or use GENERATED ALWAYS AS (...) VIRTUAL";
    c.Report(kAddColumnGeneratedStored, cmd.offset,
             "adding stored generated column \"" + cmd.column_def.name + "\" rewrites table " + t,
             recipe + ";");
  }
}

}  // namespace

const Rule kAddColumnGeneratedStored = {
    "add-column-generated-stored",
    Severity::kError,
    "ADD COLUMN ... GENERATED ALWAYS AS (...) STORED on an existing table",
    "the expression is computed and stored for every row, rewriting the table under ACCESS "
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE on {table} and its indexes",
    kBlocksAll,
    "all (18+ offers VIRTUAL generated columns, which do not rewrite)",
    "ALTER TABLE t ADD COLUMN c text;\n-- a trigger keeps c current; backfill existing rows in "
    "batches",
    "ALTER TABLE users ADD COLUMN email_lower text GENERATED ALWAYS AS (lower(email)) STORED;",
    &Check,
};

}  // namespace tandem::lint::rules
