// prefer-jsonb: json has no equality operator, so SELECT DISTINCT, GROUP BY and UNION break on
// it, and every access re-parses the text. jsonb is the type to use.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Flag(const RuleContext& c, size_t offset, const std::string& column) {
  c.Report(kPreferJsonb, offset,
           "column \"" + column + "\" uses type json; jsonb supports equality and indexing",
           "-- use jsonb instead of json for " + Ident(column));
}

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind == sql::StatementKind::kCreateTable) {
    for (const auto& col : st.columns) {
      if (col.type.name == "json") Flag(c, col.offset, col.name);
    }
  } else if (st.kind == sql::StatementKind::kAlterTable) {
    for (const auto& cmd : st.cmds) {
      if ((cmd.action == sql::AlterAction::kAddColumn ||
           cmd.action == sql::AlterAction::kAlterColumnType) &&
          cmd.column_def.type.name == "json") {
        Flag(c, cmd.offset, cmd.column);
      }
    }
  }
}

}  // namespace

const Rule kPreferJsonb = {
    "prefer-jsonb",
    Severity::kWarning,
    "a column of type json",
    "json has no equality operator, so DISTINCT, GROUP BY and UNION over it fail at run time",
    "none",
    "nothing",
    "all",
    "ALTER TABLE t ADD COLUMN payload jsonb;",
    "ALTER TABLE events ADD COLUMN payload json;",
    &Check,
};

}  // namespace tandem::lint::rules
