// Type-change classification (see helpers.h). The facts come from the PostgreSQL 15 probe in
// research/B_linters.md §2 and appendix B: varchar widening, varchar to text or unbounded
// varchar, numeric precision widening at the same scale, numeric to unconstrained numeric and
// cidr to inet keep the relfilenode; text to varchar(n), varchar narrowing, numeric scale
// changes, int to bigint and json to jsonb rewrite the table and every index.
#include "lint/rules/helpers.h"

namespace tandem::lint::rules {
namespace {

bool IsVarchar(const sql::TypeName& t) { return t.name == "varchar"; }
bool IsText(const sql::TypeName& t) { return t.name == "text"; }

}  // namespace

std::vector<TypedColumn> TypedColumns(const sql::Statement& st) {
  using Where = TypedColumn::Where;
  std::vector<TypedColumn> out;
  if (st.kind == sql::StatementKind::kCreateTable) {
    for (const auto& col : st.columns) out.push_back({&col, Where::kCreateTable, col.offset});
  } else if (st.kind == sql::StatementKind::kAlterTable) {
    for (const auto& cmd : st.cmds) {
      if (cmd.action == sql::AlterAction::kAddColumn)
        out.push_back({&cmd.column_def, Where::kAddColumn, cmd.offset});
      if (cmd.action == sql::AlterAction::kAlterColumnType)
        out.push_back({&cmd.column_def, Where::kAlterType, cmd.offset});
    }
  }
  return out;
}

std::string WithType(const RuleContext& c, const TypedColumn& column, const std::string& type) {
  const sql::ColumnDef& def = *column.def;
  std::string rest = def.after_type_sql.empty() ? "" : " " + def.after_type_sql;
  switch (column.where) {
    case TypedColumn::Where::kCreateTable:
      return "CREATE TABLE " + Table(c) + " (\n    ...\n    " + Ident(def.name) + " " + type +
             rest + ",\n    ...\n);";
    case TypedColumn::Where::kAddColumn:
      return "ALTER TABLE " + Table(c) + " ADD COLUMN " + Ident(def.name) + " " + type + rest + ";";
    case TypedColumn::Where::kAlterType:
      return "ALTER TABLE " + Table(c) + " ALTER COLUMN " + Ident(def.name) + " TYPE " + type +
             rest + ";";
  }
  return "";
}

std::string TextWithLengthCheck(const RuleContext& c, const TypedColumn& column, int limit) {
  const std::string& name = column.def->name;
  std::string constraint = Ident(c.statement.relation.name + "_" + name + "_length");
  std::string check = "CHECK (char_length(" + Ident(name) + ") <= " + std::to_string(limit) + ")";
  if (column.where == TypedColumn::Where::kCreateTable) {
    std::string rest = column.def->after_type_sql.empty() ? "" : " " + column.def->after_type_sql;
    return "CREATE TABLE " + Table(c) + " (\n    ...\n    " + Ident(name) + " text" + rest +
           ",\n    ...\n    CONSTRAINT " + constraint + " " + check + "\n);";
  }
  std::string add = WithType(c, column, "text") + "\nALTER TABLE " + Table(c) + " ADD CONSTRAINT " +
                    constraint + " " + check;
  if (!ExistingTable(c)) return add + ";";
  return add + " NOT VALID;\n-- in a later migration (post-deploy):\nALTER TABLE " + Table(c) +
         " VALIDATE CONSTRAINT " + constraint + ";";
}

TypeChange ClassifyTypeChange(const sql::TypeName* from, const sql::TypeName& to, int pg_major) {
  if (!from) return TypeChange::kUnknown;
  if (from->is_array != to.is_array) return TypeChange::kRewrite;
  if (from->name == to.name && from->modifiers == to.modifiers) return TypeChange::kSame;
  if (IsVarchar(*from) && IsVarchar(to)) {
    if (to.modifiers.empty()) return TypeChange::kNoRewrite;
    if (from->modifiers.empty()) return TypeChange::kRewrite;  // unbounded -> bounded checks
    return to.modifiers[0] >= from->modifiers[0] ? TypeChange::kNoRewrite : TypeChange::kRewrite;
  }
  if (IsVarchar(*from) && IsText(to)) return TypeChange::kNoRewrite;
  if (IsText(*from) && IsVarchar(to) && to.modifiers.empty()) return TypeChange::kNoRewrite;
  if (from->name == "numeric" && to.name == "numeric") {
    if (to.modifiers.empty()) return TypeChange::kNoRewrite;
    if (from->modifiers.empty()) return TypeChange::kRewrite;
    int from_scale = from->modifiers.size() > 1 ? from->modifiers[1] : 0;
    int to_scale = to.modifiers.size() > 1 ? to.modifiers[1] : 0;
    return (to_scale == from_scale && to.modifiers[0] >= from->modifiers[0])
               ? TypeChange::kNoRewrite
               : TypeChange::kRewrite;
  }
  if (from->name == "cidr" && to.name == "inet") return TypeChange::kNoRewrite;
  if ((from->name == "varbit" && to.name == "varbit") ||
      (from->name == "bpchar" && to.name == "bpchar")) {
    // bit varying widening is coercible; char(n) always pads, so a length change rewrites.
    if (from->name == "varbit" &&
        (to.modifiers.empty() ||
         (!from->modifiers.empty() && to.modifiers[0] >= from->modifiers[0]))) {
      return TypeChange::kNoRewrite;
    }
    return TypeChange::kRewrite;
  }
  if (from->name == "timestamp" && to.name == "timestamptz") {
    return pg_major >= 12 ? TypeChange::kRewriteUnlessUtc : TypeChange::kRewrite;
  }
  return TypeChange::kRewrite;
}

bool IsNarrowing(const sql::TypeName& from, const sql::TypeName& to) {
  auto rank = [](const std::string& n) {
    if (n == "int2") return 1;
    if (n == "int4") return 2;
    if (n == "int8") return 3;
    return 0;
  };
  if (rank(from.name) && rank(to.name)) return rank(to.name) < rank(from.name);
  bool from_string = from.name == "varchar" || from.name == "text" || from.name == "bpchar";
  if (from_string && (to.name == "varchar" || to.name == "bpchar") && !to.modifiers.empty()) {
    return from.modifiers.empty() || to.modifiers[0] < from.modifiers[0];
  }
  if (from.name == "numeric" && to.name == "numeric" && !to.modifiers.empty()) {
    if (from.modifiers.empty()) return true;
    int from_int = from.modifiers[0] - (from.modifiers.size() > 1 ? from.modifiers[1] : 0);
    int to_int = to.modifiers[0] - (to.modifiers.size() > 1 ? to.modifiers[1] : 0);
    int from_scale = from.modifiers.size() > 1 ? from.modifiers[1] : 0;
    int to_scale = to.modifiers.size() > 1 ? to.modifiers[1] : 0;
    return to_int < from_int || to_scale < from_scale;
  }
  return false;
}

}  // namespace tandem::lint::rules
