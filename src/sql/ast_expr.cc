// Names, types and expression facts read from libpg_query's JSON (see ast_expr.h).
#include "sql/ast_expr.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace tandem::sql::internal {
namespace {

// PostgreSQL's internal type names mapped back to the names people write.
std::string SqlTypeName(const std::string& name) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"int2", "smallint"},
      {"int4", "integer"},
      {"int8", "bigint"},
      {"float4", "real"},
      {"float8", "double precision"},
      {"bool", "boolean"},
      {"bpchar", "char"},
      {"varchar", "varchar"},
      {"timestamptz", "timestamptz"},
  };
  for (const auto& [internal, sql] : kNames) {
    if (name == internal) return sql;
  }
  return name;
}

// Functions whose value differs per row: a default that calls one rewrites the table.
const std::set<std::string>& VolatileFunctions() {
  static const std::set<std::string> kFunctions = {
      "random",           "random_normal",    "clock_timestamp",
      "gen_random_uuid",  "uuid_generate_v1", "uuid_generate_v1mc",
      "uuid_generate_v4", "nextval",          "timeofday",
      "setseed",          "txid_current",     "uuidv4",
      "uuidv7",           "gen_random_bytes",
  };
  return kFunctions;
}

// Built-in functions that are stable or immutable, so a default calling them is evaluated once
// when the column is added. Unknown functions are treated as volatile, PostgreSQL's default
// for CREATE FUNCTION.
const std::set<std::string>& NonVolatileFunctions() {
  static const std::set<std::string> kFunctions = {
      "now",
      "transaction_timestamp",
      "statement_timestamp",
      "current_date",
      "lower",
      "upper",
      "concat",
      "length",
      "to_char",
      "to_timestamp",
      "to_date",
      "date_trunc",
      "timezone",
      "make_interval",
      "jsonb_build_object",
      "json_build_object",
      "jsonb_build_array",
      "json_build_array",
      "array_agg",
      "coalesce",
      "abs",
      "round",
      "trim",
      "btrim",
      "replace",
      "md5",
      "current_setting",
      "nullif",
      "greatest",
      "least",
      "int4",
      "int8",
      "text",
      "numeric",
      "interval",
      "to_jsonb",
      "to_json",
      "extract",
      "date_part",
      "age",
      "inet",
      "array",
      "string_to_array",
      "array_fill",
  };
  return kFunctions;
}

void WalkDefault(const Json& node, DefaultKind& kind, std::string* function) {
  if (node.is_array()) {
    for (const auto& child : node) WalkDefault(child, kind, function);
    return;
  }
  if (!node.is_object()) return;
  for (const auto& [key, value] : node.items()) {
    if (key == "FuncCall") {
      auto names = NameList(value.value("funcname", Json::array()));
      std::string name = names.empty() ? "" : names.back();
      if (VolatileFunctions().count(name) || !NonVolatileFunctions().count(name)) {
        if (kind != DefaultKind::kVolatile && function) *function = name;
        kind = DefaultKind::kVolatile;
      } else if (kind == DefaultKind::kConstant) {
        kind = DefaultKind::kStable;
      }
    } else if (key == "SQLValueFunction") {
      if (kind == DefaultKind::kConstant) kind = DefaultKind::kStable;
    } else if (key == "SubLink") {
      if (kind != DefaultKind::kVolatile && function) *function = "a subquery";
      kind = DefaultKind::kVolatile;
    }
    WalkDefault(value, kind, function);
  }
}

bool IsColumnRef(const Json& node) { return node.is_object() && node.contains("ColumnRef"); }

std::string ColumnRefName(const Json& node) {
  if (!IsColumnRef(node)) return "";
  auto fields = NameList(node["ColumnRef"].value("fields", Json::array()));
  return fields.empty() ? "" : fields.back();
}

bool IsKeyColumn(const std::string& name) {
  return name == "id" || name == "uuid" ||
         (name.size() > 3 && name.compare(name.size() - 3, 3, "_id") == 0);
}

}  // namespace

std::string StringValue(const Json& node) {
  if (!node.is_object()) return "";
  auto it = node.find("String");
  if (it == node.end()) return "";
  return it->value("sval", "");
}

std::vector<std::string> NameList(const Json& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const auto& item : list) out.push_back(StringValue(item));
  return out;
}

QualifiedName RangeVarName(const Json& range_var) {
  QualifiedName name;
  if (!range_var.is_object()) return name;
  const Json& rv = range_var.contains("RangeVar") ? range_var["RangeVar"] : range_var;
  name.schema = rv.value("schemaname", "");
  name.name = rv.value("relname", "");
  return name;
}

QualifiedName NameFromList(const Json& list) {
  auto names = NameList(list);
  QualifiedName name;
  if (!names.empty()) name.name = names.back();
  if (names.size() >= 2) name.schema = names[names.size() - 2];
  return name;
}

TypeName TranslateTypeName(const Json& type_name) {
  TypeName type;
  if (!type_name.is_object()) return type;
  auto names = NameList(type_name.value("names", Json::array()));
  if (!names.empty()) type.name = names.back();
  std::transform(type.name.begin(), type.name.end(), type.name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  for (const auto& mod : type_name.value("typmods", Json::array())) {
    if (mod.contains("A_Const")) {
      const Json& c = mod["A_Const"];
      if (c.contains("ival")) type.modifiers.push_back(c["ival"].value("ival", 0));
    }
  }
  type.is_array = type_name.contains("arrayBounds");
  return type;
}

DefaultKind ClassifyDefault(const Json& expr, std::string* function) {
  DefaultKind kind = DefaultKind::kConstant;
  WalkDefault(expr, kind, function);
  return kind;
}

bool HasKeyRange(const Json& where) {
  if (!where.is_object()) return false;
  if (where.contains("BoolExpr")) {
    const Json& b = where["BoolExpr"];
    std::string op = b.value("boolop", "");
    const Json& args = b.value("args", Json::array());
    if (op == "AND_EXPR") {
      return std::any_of(args.begin(), args.end(), [](const Json& a) { return HasKeyRange(a); });
    }
    if (op == "OR_EXPR") {
      return !args.empty() &&
             std::all_of(args.begin(), args.end(), [](const Json& a) { return HasKeyRange(a); });
    }
    return false;
  }
  if (!where.contains("A_Expr")) return false;
  const Json& e = where["A_Expr"];
  std::string kind = e.value("kind", "");
  auto names = NameList(e.value("name", Json::array()));
  std::string op = names.empty() ? "" : names.back();
  std::string left = ColumnRefName(e.value("lexpr", Json()));
  std::string right = ColumnRefName(e.value("rexpr", Json()));
  if (kind == "AEXPR_BETWEEN") return !left.empty();
  if (kind == "AEXPR_OP" && (op == "<" || op == "<=" || op == ">" || op == ">=")) {
    return !left.empty() || !right.empty();
  }
  if (kind == "AEXPR_OP" && op == "=") return IsKeyColumn(left) || IsKeyColumn(right);
  if (kind == "AEXPR_IN") return IsKeyColumn(left);
  return false;
}

std::string NotNullCheckColumn(const Json& expr) {
  if (!expr.is_object() || !expr.contains("NullTest")) return "";
  const Json& t = expr["NullTest"];
  if (t.value("nulltesttype", "") != "IS_NOT_NULL") return "";
  return ColumnRefName(t.value("arg", Json()));
}

std::string ExpressionTextAt(std::string_view text, size_t offset) {
  static const char* kStops[] = {"NOT",     "NULL",       "CONSTRAINT", "CHECK",   "UNIQUE",
                                 "PRIMARY", "REFERENCES", "GENERATED",  "COLLATE", "DEFAULT"};
  int depth = 0;
  size_t i = offset;
  while (i < text.size()) {
    char c = text[i];
    if (c == '\'') {
      ++i;
      while (i < text.size() &&
             !(text[i] == '\'' && (i + 1 >= text.size() || text[i + 1] != '\''))) {
        i += text[i] == '\'' ? 2 : 1;
      }
      ++i;
      continue;
    }
    if (c == '(') ++depth;
    if (c == ')') {
      if (depth == 0) break;
      --depth;
    }
    if (depth == 0 && (c == ',' || c == ';')) break;
    if (depth == 0 && std::isalpha(static_cast<unsigned char>(c)) &&
        (i == offset || !std::isalnum(static_cast<unsigned char>(text[i - 1])))) {
      size_t end = i;
      while (end < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) {
        ++end;
      }
      std::string word(text.substr(i, end - i));
      for (auto& ch : word) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      bool stop = false;
      for (const char* s : kStops) stop |= word == s;
      if (stop && i > offset) break;
      i = end;
      continue;
    }
    ++i;
  }
  std::string out(text.substr(offset, i - offset));
  while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
  return out;
}

}  // namespace tandem::sql::internal

namespace tandem::sql {

std::string QuoteIdent(std::string_view name) {
  bool plain =
      !name.empty() && (std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_');
  for (char c : name) {
    plain &= std::islower(static_cast<unsigned char>(c)) ||
             std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  }
  if (plain) return std::string(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string QualifiedName::ToSql() const {
  return schema.empty() ? QuoteIdent(name) : QuoteIdent(schema) + "." + QuoteIdent(name);
}

std::string TypeName::ToSql() const {
  std::string out = internal::SqlTypeName(name);
  if (!modifiers.empty()) {
    out += "(";
    for (size_t i = 0; i < modifiers.size(); ++i) {
      if (i) out += ",";
      out += std::to_string(modifiers[i]);
    }
    out += ")";
  }
  if (is_array) out += "[]";
  return out;
}

}  // namespace tandem::sql
