// add-column-required: ADD COLUMN ... NOT NULL without a default fails on any table that has
// rows ("column contains null values", measured), so it only works on empty tables and breaks
// old-app INSERTs that do not know the column.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  if (c.statement.kind != sql::StatementKind::kAlterTable || !ExistingTable(c)) return;
  for (const auto& cmd : c.statement.cmds) {
    if (cmd.action != sql::AlterAction::kAddColumn) continue;
    const auto& col = cmd.column_def;
    if (!col.not_null || col.default_kind != sql::DefaultKind::kNone || col.identity ||
        col.generated_stored || col.type.name == "serial" || col.type.name == "bigserial" ||
        col.type.name == "smallserial") {
      continue;
    }
    std::string t = Table(c), n = Ident(col.name);
    c.Report(kAddColumnRequired, cmd.offset,
             "column \"" + col.name +
                 "\" is added as NOT NULL without a default: this fails "
                 "if " +
                 t + " has rows, and old-app INSERTs that omit it fail afterwards",
             "ALTER TABLE " + t + " ADD COLUMN " + n + " " + col.type.ToSql() + ";\n" +
                 "-- backfill in a background migration, then (post-deploy):\nALTER TABLE " + t +
                 " ADD CONSTRAINT " +
                 Ident(c.statement.relation.name + "_" + col.name + "_not_null") + " CHECK (" + n +
                 " IS NOT NULL) NOT VALID;\nALTER TABLE " + t + " VALIDATE CONSTRAINT " +
                 Ident(c.statement.relation.name + "_" + col.name + "_not_null") +
                 ";\nALTER TABLE " + t + " ALTER COLUMN " + n + " SET NOT NULL;");
  }
}

}  // namespace

const Rule kAddColumnRequired = {
    "add-column-required",
    Severity::kError,
    "ADD COLUMN NOT NULL without a default on an existing table",
    "the statement fails on a table with rows, and inserts from the running app that do not "
    "name the column fail once it exists",
    "ACCESS EXCLUSIVE on {table}",
    kBlocksAll,
    "all",
    "ALTER TABLE t ADD COLUMN c text;            -- nullable first\n"
    "-- backfill, then: ADD CONSTRAINT ... CHECK (c IS NOT NULL) NOT VALID; VALIDATE; SET NOT NULL",
    "ALTER TABLE users ADD COLUMN country text NOT NULL;",
    &Check,
};

}  // namespace tandem::lint::rules
