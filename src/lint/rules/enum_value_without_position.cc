// enum-value-without-position: ALTER TYPE ... ADD VALUE without BEFORE or AFTER (squawk's
// require-enum-value-ordering). Enum values compare and sort in declaration order, and the new
// value goes last; naming its neighbour makes the order a decision. The order cannot be changed
// later without replacing the type (every column using it is rewritten).
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind != sql::StatementKind::kAlterEnumAddValue || !st.enum_neighbor.empty()) return;
  c.Report(kEnumValueWithoutPosition, st.offset,
           "enum value " + Literal(st.enum_value) + " is added to " + st.relation.ToSql() +
               " without BEFORE or AFTER, so it sorts after every existing value",
           "ALTER TYPE " + st.relation.ToSql() + " ADD VALUE " +
               (st.if_not_exists ? "IF NOT EXISTS " : "") + Literal(st.enum_value) +
               " AFTER '<the value it follows>';");
}

}  // namespace

const Rule kEnumValueWithoutPosition = {
    "enum-value-without-position",
    Severity::kInfo,
    "ALTER TYPE ... ADD VALUE without BEFORE or AFTER",
    "enum values sort and compare in declaration order, the new value goes last, and the order "
    "cannot be changed later without replacing the type",
    "none on tables (a catalog change)",
    "nothing",
    "all",
    "ALTER TYPE t ADD VALUE 'new' AFTER 'existing';",
    "ALTER TYPE order_status ADD VALUE 'refunded';",
    &Check,
};

}  // namespace tandem::lint::rules
