// Type-change classification (see helpers.h). The facts come from the PostgreSQL 15 probe in
// research/B_linters.md §2 and appendix B: varchar widening, varchar to text or unbounded
// varchar, numeric precision widening at the same scale, numeric to unconstrained numeric and
// cidr to inet keep the relfilenode; text to varchar(n), varchar narrowing, numeric scale
// changes, int to bigint and json to jsonb rewrite the table and every index.
#include "lint/rules/helpers.h"

#include <cctype>

namespace tandem::lint::rules {
namespace {

bool IsVarchar(const sql::TypeName& t) { return t.name == "varchar"; }
bool IsText(const sql::TypeName& t) { return t.name == "text"; }

// The length of `text`'s leading `CREATE [UNIQUE] INDEX` (any case, any blanks between the
// words), or 0 when it does not start so.
size_t CreateIndexPrefix(std::string_view text) {
  size_t i = 0;
  auto blanks = [&] {
    size_t start = i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    return i > start;
  };
  auto word = [&](std::string_view w) {
    if (text.size() - i < w.size()) return false;
    for (size_t k = 0; k < w.size(); ++k) {
      if (std::toupper(static_cast<unsigned char>(text[i + k])) != w[k]) return false;
    }
    size_t end = i + w.size();
    if (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) ||
                              text[end] == '_' || text[end] == '$')) {
      return false;
    }
    i = end;
    return true;
  };
  blanks();
  if (!word("CREATE") || !blanks()) return 0;
  size_t before_unique = i;
  if (!(word("UNIQUE") && blanks())) i = before_unique;
  return word("INDEX") ? i : 0;
}

// Types whose modifier is a fractional-seconds precision (interval's is its second one).
bool IsTimeType(const std::string& name) {
  return name == "timestamp" || name == "timestamptz" || name == "time" || name == "timetz" ||
         name == "interval";
}

// True when `to` keeps every value of `from` unchanged: the same interval fields, and a
// precision that is unconstrained or at least the old one (PostgreSQL's timestamp_support and
// interval_support then skip the rewrite; measured on 15).
bool KeepsPrecision(const sql::TypeName& from, const sql::TypeName& to) {
  bool interval = to.name == "interval";
  constexpr int kFullRange = 0x7FFF;  // INTERVAL_FULL_RANGE: interval(3) limits no field
  auto fields = [&](const sql::TypeName& t) {
    int f = interval && !t.modifiers.empty() ? t.modifiers[0] : -1;
    return f == kFullRange ? -1 : f;
  };
  auto precision = [&](const sql::TypeName& t) {
    size_t at = interval ? 1 : 0;
    return t.modifiers.size() > at ? t.modifiers[at] : -1;  // -1: unconstrained
  };
  if (to.modifiers.empty()) return true;  // unconstrained: every value fits as it is
  if (fields(from) != fields(to)) return false;
  // 6 is the most any of these types keeps, so (6) holds every value even of an unconstrained
  // column (measured: timestamp, timestamptz, time and interval to (6) keep the relfilenode).
  constexpr int kMaxPrecision = 6;
  if (precision(to) < 0 || precision(to) >= kMaxPrecision) return true;
  return precision(from) >= 0 && precision(to) >= precision(from);
}

}  // namespace

// The statement as written with CONCURRENTLY after its INDEX keyword, so the recipe keeps what
// a rebuilt column list would lose: expressions, DESC and NULLS order, operator classes, the
// access method, INCLUDE and a partial index's WHERE. Empty if the text does not start so.
std::string WithConcurrently(const std::string& text) {
  size_t prefix = CreateIndexPrefix(text);
  if (prefix == 0) return "";
  return text.substr(0, prefix) + " CONCURRENTLY" + text.substr(prefix) + ";";
}

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
  // An array's elements are converted one by one, even between binary-coercible element types
  // (measured on 15: varchar(10)[] to text[] rewrites).
  if (to.is_array) return TypeChange::kRewrite;
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
  // bit(n) to unlimited bit varying is binary coercible (measured: no rewrite; to varbit(m) the
  // length is checked, a rewrite even for m > n).
  if (from->name == "bit" && to.name == "varbit" && to.modifiers.empty())
    return TypeChange::kNoRewrite;
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
  if ((from->name == "timestamp" && to.name == "timestamptz") ||
      (from->name == "timestamptz" && to.name == "timestamp")) {
    // Only to an unconstrained type: with a precision, even the same or a larger one, the
    // server rewrites under UTC too (measured on 15: timestamp(3) -> timestamptz(3) rewrites,
    // timestamp(3) -> timestamptz does not).
    if (!to.modifiers.empty()) return TypeChange::kRewrite;
    return pg_major >= 12 ? TypeChange::kRewriteUnlessUtc : TypeChange::kRewrite;
  }
  if (from->name == to.name && IsTimeType(to.name)) {
    return KeepsPrecision(*from, to) ? TypeChange::kNoRewrite : TypeChange::kRewrite;
  }
  // citext is text with case-insensitive comparison: binary coercible both ways, except to a
  // bounded varchar, which checks the length of every value.
  if (from->name == "citext" && (IsText(to) || (IsVarchar(to) && to.modifiers.empty())))
    return TypeChange::kNoRewrite;
  if (to.name == "citext" && (IsText(*from) || IsVarchar(*from))) return TypeChange::kNoRewrite;
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

bool ChangesIndexOpclass(const sql::TypeName& from, const sql::TypeName& to) {
  if (from.name == to.name) return false;
  // varchar indexes use text's operator class, and cidr's are inet's: kept (measured).
  auto text = [](const std::string& n) { return n == "text" || n == "varchar"; };
  if (text(from.name) && text(to.name)) return false;
  return !(from.name == "cidr" && to.name == "inet");
}

}  // namespace tandem::lint::rules
