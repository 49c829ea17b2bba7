// add-column-serial: adding a serial, bigserial or identity column to an existing table fills
// every row from a sequence: a full rewrite of table and indexes (measured on PG 15; identity
// too, despite pg-schema-diff's claim).
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  if (c.statement.kind != sql::StatementKind::kAlterTable || !ExistingTable(c)) return;
  for (const auto& cmd : c.statement.cmds) {
    if (cmd.action != sql::AlterAction::kAddColumn) continue;
    const auto& col = cmd.column_def;
    const std::string& type = col.type.name;
    bool serial = type == "serial" || type == "bigserial" || type == "smallserial" ||
                  type == "serial4" || type == "serial8" || type == "serial2";
    if (!serial && !col.identity) continue;
    std::string t = Table(c), n = Ident(col.name);
    std::string seq = Ident(c.statement.relation.name + "_" + col.name + "_seq");
    c.Report(kAddColumnSerial, cmd.offset,
             std::string("adding ") + (serial ? type : "an identity") + " column \"" + col.name +
                 "\" rewrites table " + t + " to number every existing row",
             "CREATE SEQUENCE " + seq + ";\nALTER TABLE " + t + " ADD COLUMN " + n +
                 " bigint;\nALTER TABLE " + t + " ALTER COLUMN " + n + " SET DEFAULT nextval('" +
                 seq +
                 "');\n-- backfill existing rows in batches (background migration), "
                 "then add NOT NULL with the CHECK recipe");
  }
}

}  // namespace

const Rule kAddColumnSerial = {
    "add-column-serial",
    Severity::kError,
    "ADD COLUMN serial / bigserial / GENERATED AS IDENTITY on an existing table",
    "every row gets a value from the sequence, which rewrites the table and all indexes under "
    "ACCESS EXCLUSIVE",
    "ACCESS EXCLUSIVE on {table} and its indexes",
    kBlocksAll,
    "all",
    "CREATE SEQUENCE t_c_seq;\nALTER TABLE t ADD COLUMN c bigint;\n"
    "ALTER TABLE t ALTER COLUMN c SET DEFAULT nextval('t_c_seq');\n-- batched backfill",
    "ALTER TABLE events ADD COLUMN seq bigserial;",
    &Check,
};

}  // namespace tandem::lint::rules
