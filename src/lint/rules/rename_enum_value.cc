// rename-enum-value: the old app still reads and writes the old label; after the rename its
// writes fail with "invalid input value for enum".
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  // A type created earlier in this migration has no app writing its labels yet.
  if (st.kind != sql::StatementKind::kAlterEnumRenameValue || c.IsNewTable(st.relation)) return;
  c.Report(kRenameEnumValue, st.offset,
           "renaming enum value '" + st.old_enum_value + "' of " + st.relation.ToSql() +
               " breaks the app version that still writes it",
           "ALTER TYPE " + st.relation.ToSql() + " ADD VALUE '" + st.enum_value +
               "';\n-- deploy code that writes the new value, backfill rows in a background "
               "migration;\n-- the old value can stay unused");
}

}  // namespace

const Rule kRenameEnumValue = {
    "rename-enum-value",
    Severity::kError,
    "ALTER TYPE ... RENAME VALUE of an enum the running app uses (not one created earlier in the "
    "same migration)",
    "the app version that still uses the old label fails to write it",
    "none on tables (a catalog change)",
    "nothing",
    "10+",
    "ALTER TYPE t ADD VALUE 'new';  -- then switch writes and backfill",
    "ALTER TYPE status RENAME VALUE 'active' TO 'enabled';",
    &Check,
};

}  // namespace tandem::lint::rules
