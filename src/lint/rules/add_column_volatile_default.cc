// add-column-volatile-default: ADD COLUMN whose default must be computed per row rewrites the
// table and every index under ACCESS EXCLUSIVE (measured: relfilenode changes, 4 scans). Since
// PostgreSQL 11 a constant or stable default is stored in the catalog instead; before 11 any
// default rewrites.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  if (c.statement.kind != sql::StatementKind::kAlterTable || !ExistingTable(c)) return;
  for (const auto& cmd : c.statement.cmds) {
    if (cmd.action != sql::AlterAction::kAddColumn) continue;
    const auto& col = cmd.column_def;
    bool volatile_default = col.default_kind == sql::DefaultKind::kVolatile;
    std::string function = col.default_function;
    bool user_function = false;
    // Calls to functions that are not known built-ins count as volatile (PostgreSQL's default)
    // unless an earlier CREATE FUNCTION of that signature said IMMUTABLE or STABLE.
    if (volatile_default && col.default_kind_builtin != sql::DefaultKind::kVolatile) {
      volatile_default = false;
      for (const auto& call : col.default_user_calls) {
        std::string v = c.schema.FunctionVolatility(call);
        if (v != "immutable" && v != "stable") {
          volatile_default = true;
          user_function = true;
          function = call.name;
          break;
        }
      }
    }
    bool old_server = c.version.major < 11 && col.default_kind != sql::DefaultKind::kNone;
    if (!volatile_default && !old_server) continue;
    std::string why =
        volatile_default
            ? "its default calls " + function + "(), which is " +
                  (user_function ? "not known to be IMMUTABLE or STABLE" : "volatile") +
                  ", so every existing row is rewritten"
            : "PostgreSQL " + std::to_string(c.version.major) +
                  " rewrites the table for any default (11+ stores constants in the "
                  "catalog)";
    std::string recipe = "ALTER TABLE " + Table(c) + " ADD COLUMN " + Ident(col.name) + " " +
                         col.type.ToSql() + ";\nALTER TABLE " + Table(c) + " ALTER COLUMN " +
                         Ident(col.name) + " SET DEFAULT " + col.default_sql +
                         ";\n-- then backfill existing rows in batches from a background "
                         "migration:\n-- tandem:phase background\nUPDATE " +
                         Table(c) + " SET " + Ident(col.name) + " = " + col.default_sql +
                         " WHERE id >= :batch_start AND id < :batch_end AND " + Ident(col.name) +
                         " IS NULL;";
    c.Report(
        kAddColumnVolatileDefault, cmd.offset,
        "adding column \"" + col.name + "\" with a default rewrites table " + Table(c) + ": " + why,
        recipe);
  }
}

}  // namespace

const Rule kAddColumnVolatileDefault = {
    "add-column-volatile-default",
    Severity::kError,
    "ADD COLUMN with a volatile default (or any default before PostgreSQL 11) rewrites the table",
    "the table and all its indexes are rewritten while ACCESS EXCLUSIVE blocks every query",
    "ACCESS EXCLUSIVE on {table}, plus ACCESS EXCLUSIVE on each of its indexes",
    kBlocksAll,
    "volatile defaults: all versions; constant and stable defaults: before 11 only",
    "ALTER TABLE t ADD COLUMN c uuid;\nALTER TABLE t ALTER COLUMN c SET DEFAULT "
    "gen_random_uuid();\n"
    "-- backfill existing rows in batches from a background migration\n"
    "-- functions are known by signature (name and argument count): now() is the stable "
    "built-in,\n-- now(123) is not; a user-defined function counts as volatile unless its "
    "CREATE FUNCTION\n-- (replayed from earlier migrations) says IMMUTABLE or STABLE",
    "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
    &Check,
};

}  // namespace tandem::lint::rules
