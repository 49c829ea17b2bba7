// prefer-text-over-char: char(n) / character(n) / bpchar (squawk's ban-char-field). char pads
// every value with spaces to n characters and ignores trailing spaces when comparing, so the
// app reads back values it did not write and string functions disagree with it; it saves no
// space over text. The quoted one-byte "char" type is another type and is not flagged.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  for (const auto& col : TypedColumns(c.statement)) {
    const sql::TypeName& type = col.def->type;
    if (type.name != "bpchar" || type.is_array) continue;
    std::string recipe = type.modifiers.empty() ? WithType(c, col, "text")
                                                : TextWithLengthCheck(c, col, type.modifiers[0]);
    c.Report(kPreferTextOverChar, col.offset,
             "column \"" + col.def->name + "\" of " + Table(c) + " is " + type.ToSql() +
                 ", which pads values with spaces",
             recipe);
  }
}

}  // namespace

const Rule kPreferTextOverChar = {
    "prefer-text-over-char",
    Severity::kInfo,
    "a char(n) / character(n) column (CREATE TABLE, ADD COLUMN, ALTER COLUMN TYPE)",
    "char(n) pads values with spaces to n characters and ignores trailing spaces in comparisons, "
    "so the app reads back values it did not write; it saves no space over text",
    "none",
    "nothing",
    "all",
    "ALTER TABLE t ADD COLUMN c text;\nALTER TABLE t ADD CONSTRAINT t_c_length CHECK "
    "(char_length(c) <= 2) NOT VALID;\n-- later: ALTER TABLE t VALIDATE CONSTRAINT t_c_length;",
    "ALTER TABLE addresses ADD COLUMN country_code char(2);",
    &Check,
};

}  // namespace tandem::lint::rules
