// Reading libpg_query's JSON with RapidJSON, and the names, types and expression facts read
// from it (see ast_expr.h).
#include "sql/ast_expr.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>

namespace tandem::sql::internal {
namespace {

std::string_view View(const Json& string) { return {string.GetString(), string.GetStringLength()}; }

// True when `text` is UTF-8 as RFC 3629 defines it (no overlong forms, surrogates or code
// points past U+10FFFF): the check nlohmann::json made on every string it read.
bool IsUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // libpg_query's output is nearly all ASCII: skip it eight bytes at a time.
    while (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, s + i, 8);
      if (word & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (n - i < len || s[i + 1] < lo || s[i + 1] > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      if (s[i + k] < 0x80 || s[i + k] > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

}  // namespace

bool ParseTree(std::string& text, rapidjson::Document& doc) {
  // libpg_query passes the input's bytes through, and nlohmann::json rejected a tree that was
  // not UTF-8: keep failing such files the same way. Non-ASCII bytes can only be inside
  // strings, so checking the whole text up front is the same check, for a tenth of the
  // instructions of RapidJSON's kParseValidateEncodingFlag (measured on the corpus).
  if (!IsUtf8(text)) return false;
  // In situ: strings are unescaped inside `text` instead of being copied. Iterative: the
  // parser's own stack, not the C++ one, holds the nesting, so a deeply nested expression
  // cannot overflow it.
  constexpr unsigned kFlags = rapidjson::kParseInsituFlag | rapidjson::kParseIterativeFlag;
  doc.ParseInsitu<kFlags>(text.data());
  return !doc.HasParseError();
}

const Json& Child(const Json& node, const char* key) {
  static const Json kNull;
  if (!node.IsObject()) return kNull;
  auto it = node.FindMember(key);
  return it == node.MemberEnd() ? kNull : it->value;
}

bool Has(const Json& node, const char* key) {
  return node.IsObject() && node.FindMember(key) != node.MemberEnd();
}

std::string_view StringField(const Json& node, const char* key) {
  const Json& value = Child(node, key);
  return value.IsString() ? View(value) : std::string_view();
}

int IntField(const Json& node, const char* key, int fallback) {
  const Json& value = Child(node, key);
  if (value.IsInt()) return value.GetInt();
  if (value.IsInt64()) return static_cast<int>(value.GetInt64());
  if (value.IsUint64()) return static_cast<int>(value.GetUint64());
  return fallback;
}

bool BoolField(const Json& node, const char* key) {
  const Json& value = Child(node, key);
  return value.IsBool() && value.GetBool();
}

std::span<const Json> Elements(const Json& list) {
  if (!list.IsArray() || list.Empty()) return {};
  return {list.Begin(), list.Size()};
}

std::pair<std::string_view, const Json*> Unwrap(const Json& node) {
  if (!node.IsObject() || node.MemberCount() == 0) return {"", nullptr};
  auto first = node.MemberBegin();
  for (auto it = first + 1; it != node.MemberEnd(); ++it) {
    if (View(it->name) < View(first->name)) first = it;
  }
  return {View(first->name), &first->value};
}

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

// Built-in functions that are stable or immutable, with the argument counts their built-in
// signatures take: a default calling one is evaluated once when the column is added. A call
// with another count is not the built-in (now(123) is some user's now(integer)). kMany: variadic.
constexpr int kMany = 100;
struct Arity {
  int min, max;
};
const std::map<std::string, Arity, std::less<>>& NonVolatileFunctions() {
  static const std::map<std::string, Arity, std::less<>> kFunctions = {
      {"now", {0, 0}},
      {"transaction_timestamp", {0, 0}},
      {"statement_timestamp", {0, 0}},
      {"current_date", {0, 0}},
      {"lower", {1, 1}},
      {"upper", {1, 1}},
      {"concat", {1, kMany}},
      {"length", {1, 2}},
      {"to_char", {2, 2}},
      {"to_timestamp", {1, 2}},
      {"to_date", {2, 2}},
      {"date_trunc", {2, 3}},
      {"timezone", {2, 2}},
      {"make_interval", {0, 7}},
      {"jsonb_build_object", {0, kMany}},
      {"json_build_object", {0, kMany}},
      {"jsonb_build_array", {0, kMany}},
      {"json_build_array", {0, kMany}},
      {"array_agg", {1, 1}},
      {"coalesce", {1, kMany}},
      {"abs", {1, 1}},
      {"round", {1, 2}},
      {"trim", {1, 2}},
      {"btrim", {1, 2}},
      {"replace", {3, 3}},
      {"md5", {1, 1}},
      {"current_setting", {1, 2}},
      {"nullif", {2, 2}},
      {"greatest", {1, kMany}},
      {"least", {1, kMany}},
      {"int4", {1, 1}},
      {"int8", {1, 1}},
      {"text", {1, 1}},
      {"numeric", {1, 2}},
      {"interval", {1, 2}},
      {"to_jsonb", {1, 1}},
      {"to_json", {1, 1}},
      {"extract", {2, 2}},
      {"date_part", {2, 2}},
      {"age", {1, 2}},
      {"inet", {1, 1}},
      {"array", {0, kMany}},
      {"string_to_array", {2, 3}},
      {"array_fill", {2, 3}},
  };
  return kFunctions;
}

struct DefaultWalk {
  DefaultKind kind = DefaultKind::kConstant;          // user functions counted volatile
  DefaultKind builtin_kind = DefaultKind::kConstant;  // user functions counted stable
  std::string* function = nullptr;
  std::vector<FunctionCall>* user_calls = nullptr;
};

void Raise(DefaultKind& kind, DefaultKind to) {
  if (static_cast<int>(to) > static_cast<int>(kind)) kind = to;
}

void WalkDefault(const Json& node, DefaultWalk& walk) {
  if (node.IsArray()) {
    for (const Json& child : Elements(node)) WalkDefault(child, walk);
    return;
  }
  if (!node.IsObject()) return;
  // Members in key order, as nlohmann::json kept them: the volatile function reported is the
  // first one met, which must not depend on the order of libpg_query's fields.
  std::vector<const Json::Member*> members;
  members.reserve(node.MemberCount());
  for (auto it = node.MemberBegin(); it != node.MemberEnd(); ++it) members.push_back(&*it);
  if (members.size() > 1) {
    std::sort(members.begin(), members.end(), [](const Json::Member* a, const Json::Member* b) {
      return View(a->name) < View(b->name);
    });
  }
  auto make_volatile = [&](const std::string& what) {
    if (walk.kind != DefaultKind::kVolatile && walk.function) *walk.function = what;
    walk.kind = DefaultKind::kVolatile;
  };
  for (const Json::Member* member : members) {
    std::string_view key = View(member->name);
    const Json& value = member->value;
    if (key == "FuncCall") {
      auto names = NameList(Child(value, "funcname"));
      FunctionCall call;
      call.name = names.empty() ? "" : names.back();
      if (names.size() >= 2) call.schema = names[names.size() - 2];
      call.args = static_cast<int>(Elements(Child(value, "args")).size());
      bool catalog = call.schema.empty() || call.schema == "pg_catalog";
      auto known = NonVolatileFunctions().find(call.name);
      bool builtin_stable = catalog && known != NonVolatileFunctions().end() &&
                            call.args >= known->second.min && call.args <= known->second.max;
      if (catalog && VolatileFunctions().count(call.name)) {
        make_volatile(call.name);
        walk.builtin_kind = DefaultKind::kVolatile;
      } else if (builtin_stable) {
        Raise(walk.kind, DefaultKind::kStable);
        Raise(walk.builtin_kind, DefaultKind::kStable);
      } else {
        // Unknown: volatile, PostgreSQL's default for CREATE FUNCTION, unless the schema model
        // knows better (default_user_calls).
        make_volatile(call.name);
        Raise(walk.builtin_kind, DefaultKind::kStable);
        if (walk.user_calls) walk.user_calls->push_back(call);
      }
    } else if (key == "SQLValueFunction") {
      Raise(walk.kind, DefaultKind::kStable);
      Raise(walk.builtin_kind, DefaultKind::kStable);
    } else if (key == "SubLink") {
      make_volatile("a subquery");
      walk.builtin_kind = DefaultKind::kVolatile;
    }
    WalkDefault(value, walk);
  }
}

bool IsColumnRef(const Json& node) { return Has(node, "ColumnRef"); }

std::string ColumnRefName(const Json& node) {
  if (!IsColumnRef(node)) return "";
  auto fields = NameList(Child(Child(node, "ColumnRef"), "fields"));
  return fields.empty() ? "" : fields.back();
}

bool IsKeyColumn(const std::string& name) {
  return name == "id" || name == "uuid" ||
         (name.size() > 3 && name.compare(name.size() - 3, 3, "_id") == 0);
}

}  // namespace

std::string StringValue(const Json& node) {
  return std::string(StringField(Child(node, "String"), "sval"));
}

std::vector<std::string> NameList(const Json& list) {
  std::vector<std::string> out;
  auto items = Elements(list);
  out.reserve(items.size());
  for (const Json& item : items) out.push_back(StringValue(item));
  return out;
}

QualifiedName RangeVarName(const Json& range_var) {
  QualifiedName name;
  if (!range_var.IsObject()) return name;
  const Json& rv = Has(range_var, "RangeVar") ? Child(range_var, "RangeVar") : range_var;
  name.schema = StringField(rv, "schemaname");
  name.name = StringField(rv, "relname");
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
  if (!type_name.IsObject()) return type;
  auto names = NameList(Child(type_name, "names"));
  if (!names.empty()) type.name = names.back();
  std::transform(type.name.begin(), type.name.end(), type.name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  for (const Json& mod : Elements(Child(type_name, "typmods"))) {
    if (Has(mod, "A_Const")) {
      const Json& c = Child(mod, "A_Const");
      if (Has(c, "ival")) type.modifiers.push_back(IntField(Child(c, "ival"), "ival", 0));
    }
  }
  type.is_array = Has(type_name, "arrayBounds");
  return type;
}

DefaultKind ClassifyDefault(const Json& expr, std::string* function,
                            std::vector<FunctionCall>* user_calls, DefaultKind* builtin_kind) {
  DefaultWalk walk;
  walk.function = function;
  walk.user_calls = user_calls;
  WalkDefault(expr, walk);
  if (builtin_kind) *builtin_kind = walk.builtin_kind;
  return walk.kind;
}

bool HasKeyRange(const Json& where) {
  if (!where.IsObject()) return false;
  if (Has(where, "BoolExpr")) {
    const Json& b = Child(where, "BoolExpr");
    std::string_view op = StringField(b, "boolop");
    auto args = Elements(Child(b, "args"));
    if (op == "AND_EXPR") {
      return std::any_of(args.begin(), args.end(), [](const Json& a) { return HasKeyRange(a); });
    }
    if (op == "OR_EXPR") {
      return !args.empty() &&
             std::all_of(args.begin(), args.end(), [](const Json& a) { return HasKeyRange(a); });
    }
    return false;
  }
  if (!Has(where, "A_Expr")) return false;
  const Json& e = Child(where, "A_Expr");
  std::string_view kind = StringField(e, "kind");
  auto names = NameList(Child(e, "name"));
  std::string op = names.empty() ? "" : names.back();
  std::string left = ColumnRefName(Child(e, "lexpr"));
  std::string right = ColumnRefName(Child(e, "rexpr"));
  if (kind == "AEXPR_BETWEEN") return !left.empty();
  if (kind == "AEXPR_OP" && (op == "<" || op == "<=" || op == ">" || op == ">=")) {
    return !left.empty() || !right.empty();
  }
  if (kind == "AEXPR_OP" && op == "=") return IsKeyColumn(left) || IsKeyColumn(right);
  if (kind == "AEXPR_IN") return IsKeyColumn(left);
  return false;
}

void CollectColumnRefs(const Json& node, std::vector<std::string>& out) {
  if (node.IsArray()) {
    for (const Json& child : Elements(node)) CollectColumnRefs(child, out);
    return;
  }
  if (!node.IsObject()) return;
  if (IsColumnRef(node)) {
    std::string name = ColumnRefName(node);
    if (!name.empty() && std::find(out.begin(), out.end(), name) == out.end())
      out.push_back(std::move(name));
    return;
  }
  for (auto it = node.MemberBegin(); it != node.MemberEnd(); ++it)
    CollectColumnRefs(it->value, out);
}

bool IsColumnOrCastOf(const Json& expr, const std::string& column, const TypeName& type) {
  if (ColumnRefName(expr) == column) return true;
  if (!Has(expr, "TypeCast")) return false;
  const Json& cast = Child(expr, "TypeCast");
  TypeName to = TranslateTypeName(Child(cast, "typeName"));
  return ColumnRefName(Child(cast, "arg")) == column && to.name == type.name &&
         to.modifiers == type.modifiers && to.is_array == type.is_array;
}

std::string NotNullCheckColumn(const Json& expr) {
  if (!Has(expr, "NullTest")) return "";
  const Json& t = Child(expr, "NullTest");
  if (StringField(t, "nulltesttype") != "IS_NOT_NULL") return "";
  return ColumnRefName(Child(t, "arg"));
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

namespace {

// The index just past the quoted token starting at `i` ('string', E'string', "identifier"),
// or `i` when none starts there.
size_t SkipQuoted(std::string_view text, size_t i) {
  if (i >= text.size() || (text[i] != '\'' && text[i] != '"')) return i;
  char quote = text[i];
  bool backslash = quote == '\'' && i > 0 && (text[i - 1] == 'E' || text[i - 1] == 'e');
  for (size_t j = i + 1; j < text.size(); ++j) {
    if (backslash && text[j] == '\\') {
      ++j;
    } else if (text[j] == quote) {
      if (j + 1 < text.size() && text[j + 1] == quote) {
        ++j;  // a doubled quote stands for itself
      } else {
        return j + 1;
      }
    }
  }
  return text.size();
}

std::string UpperWordAt(std::string_view text, size_t i, size_t* end) {
  size_t e = i;
  while (e < text.size() &&
         (std::isalnum(static_cast<unsigned char>(text[e])) || text[e] == '_' || text[e] == '$')) {
    ++e;
  }
  *end = e;
  std::string word(text.substr(i, e - i));
  for (auto& ch : word) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return word;
}

}  // namespace

DefinitionEnds ColumnDefinitionEnds(std::string_view text, size_t type_offset) {
  static const char* kTypeStops[] = {"NOT",       "NULL",       "DEFAULT",  "CONSTRAINT",
                                     "CHECK",     "UNIQUE",     "PRIMARY",  "REFERENCES",
                                     "GENERATED", "COLLATE",    "USING",    "COMPRESSION",
                                     "STORAGE",   "DEFERRABLE", "INITIALLY"};
  DefinitionEnds ends;
  bool in_type = true;
  int depth = 0;
  size_t i = std::min(type_offset, text.size());
  while (i < text.size()) {
    char c = text[i];
    size_t quoted = SkipQuoted(text, i);
    if (quoted != i) {
      i = quoted;
      continue;
    }
    if (c == '(') ++depth;
    if (c == ')') {
      if (depth == 0) break;  // closes the table's column list
      --depth;
    }
    if (depth == 0 && (c == ',' || c == ';')) break;
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t end = i;
      std::string word = UpperWordAt(text, i, &end);
      if (in_type && depth == 0 && i > type_offset) {
        for (const char* stop : kTypeStops) {
          if (word == stop) {
            in_type = false;
            ends.type_end = i;
          }
        }
      }
      i = end;
      continue;
    }
    ++i;
  }
  ends.end = i;
  if (in_type) ends.type_end = i;
  return ends;
}

std::string ParenthesizedAt(std::string_view text, size_t offset) {
  size_t i = offset;
  while (i < text.size() && text[i] != '(') {
    size_t quoted = SkipQuoted(text, i);
    i = quoted == i ? i + 1 : quoted;
  }
  size_t start = i;
  int depth = 0;
  while (i < text.size()) {
    size_t quoted = SkipQuoted(text, i);
    if (quoted != i) {
      i = quoted;
      continue;
    }
    if (text[i] == '(') ++depth;
    if (text[i] == ')' && --depth == 0) return std::string(text.substr(start, i + 1 - start));
    ++i;
  }
  return "";
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
