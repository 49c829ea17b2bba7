// prefer-text-over-varchar: varchar(n) (squawk's prefer-text-field). The limit lives in the
// type: raising it is catalog-only, but lowering it rewrites the table and its indexes under
// ACCESS EXCLUSIVE (measured, helpers.cc), and so does going back from text to varchar(n). A
// CHECK (char_length(c) <= n) on text says the same and is changed with NOT VALID + VALIDATE,
// which lets reads and writes through.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  for (const auto& col : TypedColumns(c.statement)) {
    const sql::TypeName& type = col.def->type;
    // varchar without a length is text under another name; arrays cannot take the CHECK.
    if (type.name != "varchar" || type.modifiers.empty() || type.is_array) continue;
    c.Report(kPreferTextOverVarchar, col.offset,
             "column \"" + col.def->name + "\" of " + Table(c) + " is " + type.ToSql() +
                 "; lowering that limit later rewrites the table, a CHECK on text does not",
             TextWithLengthCheck(c, col, type.modifiers[0]));
  }
}

}  // namespace

const Rule kPreferTextOverVarchar = {
    "prefer-text-over-varchar",
    Severity::kInfo,
    "a varchar(n) column (CREATE TABLE, ADD COLUMN, ALTER COLUMN TYPE)",
    "the length limit is part of the type: lowering it later (or going back from text to "
    "varchar(n)) rewrites the table under ACCESS EXCLUSIVE, while a CHECK on text is changed with "
    "NOT VALID and VALIDATE without blocking queries",
    "none",
    "nothing",
    "all",
    "ALTER TABLE t ADD COLUMN c text;\nALTER TABLE t ADD CONSTRAINT t_c_length CHECK "
    "(char_length(c) <= 100) NOT VALID;\n-- later: ALTER TABLE t VALIDATE CONSTRAINT t_c_length;",
    "ALTER TABLE users ADD COLUMN nickname varchar(100);",
    &Check,
};

}  // namespace tandem::lint::rules
