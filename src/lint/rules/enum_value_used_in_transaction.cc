// enum-value-used-in-transaction: a value added with ALTER TYPE ... ADD VALUE cannot be used
// before the transaction commits ("New enum values must be committed before they can be used",
// measured). Before PostgreSQL 12, ADD VALUE cannot run in a transaction block at all.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (!c.InTransaction()) return;
  if (st.kind == sql::StatementKind::kAlterEnumAddValue && c.version.major < 12) {
    c.Report(kEnumValueUsedInTransaction, st.offset,
             "ALTER TYPE ... ADD VALUE cannot run inside a transaction block on PostgreSQL " +
                 std::to_string(c.version.major),
             "-- put it in its own migration with -- tandem:transaction off");
    return;
  }
  for (const auto& [type, value] : c.transaction.enum_values) {
    if (st.text.find("'" + value + "'") == std::string::npos) continue;
    c.Report(kEnumValueUsedInTransaction, st.offset,
             "enum value '" + value + "' of type " + type +
                 " is used in the transaction that added it; PostgreSQL rejects that until commit",
             "-- add the value in one migration:\nALTER TYPE " + Ident(type) + " ADD VALUE '" +
                 value + "';\n-- and use it in a later migration");
    return;
  }
}

}  // namespace

const Rule kEnumValueUsedInTransaction = {
    "enum-value-used-in-transaction",
    Severity::kError,
    "an enum value used in the transaction that added it (or ADD VALUE in a transaction before 12)",
    "PostgreSQL refuses to use an enum value before the transaction that added it commits",
    "none (the statement fails)",
    "nothing; the migration fails",
    "all; before 12 ADD VALUE itself fails inside a transaction",
    "-- migration 1: ALTER TYPE mood ADD VALUE 'calm';\n-- migration 2: UPDATE ... SET mood = "
    "'calm' ...",
    "ALTER TYPE mood ADD VALUE 'calm';\nUPDATE people SET mood = 'calm' WHERE id = 1;",
    &Check,
};

}  // namespace tandem::lint::rules
