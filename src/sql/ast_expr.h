// Helpers over libpg_query's JSON parse tree, shared by the translation in ast.cc and the
// shapes in shape.cc: reading the tree, member access that never throws, names, types and the
// few expression facts the rules need (is a default volatile, does a WHERE clause narrow the
// rows to a key range, does a CHECK prove a column non-null). Private to src/sql/.
//
// The tree is read with RapidJSON, not nlohmann::json, for speed: on the shared corpus, parsing
// libpg_query's output with nlohmann took 435M of the 1,041M instructions of `tandem lint`;
// RapidJSON's in-situ parse (ParseTree) takes 89M, and the whole run 544M (callgrind).
#pragma once

#include <rapidjson/document.h>

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sql/ast.h"

namespace tandem::sql::internal {

using Json = rapidjson::Value;

// Parses libpg_query's JSON `text` in place into `doc`: the document's strings point into
// `text`, which must outlive it. False when `text` is not JSON, or not valid UTF-8.
bool ParseTree(std::string& text, rapidjson::Document& doc);

// Member access for the tree. None of them throws or asserts: a missing member or one of an
// unexpected type reads as absent (null, "", the fallback, no elements), so a shape the
// translation did not expect cannot take the linter down.
//
// The member `key` of `node`, or a shared null when absent (or `node` is not an object).
const Json& Child(const Json& node, const char* key);
// True when `node` is an object with a member `key`.
bool Has(const Json& node, const char* key);
// The string member `key` ("" when absent or not a string); valid while the document lives.
std::string_view StringField(const Json& node, const char* key);
// The integer member `key` (`fallback` when absent or not an integer).
int IntField(const Json& node, const char* key, int fallback);
// The boolean member `key` (false when absent or not a boolean; libpg_query omits false).
bool BoolField(const Json& node, const char* key);
// The elements of an array (none for anything else).
std::span<const Json> Elements(const Json& list);
// A node's type and body: {"AlterTableStmt": {...}} -> ("AlterTableStmt", &{...}); ("", null)
// for anything but a non-empty object. Node wrappers have one member; should one have more,
// the smallest key is taken, as nlohmann::json (which sorted members) did.
std::pair<std::string_view, const Json*> Unwrap(const Json& node);

// The value of a {"String": {"sval": ...}} node ("" for anything else).
std::string StringValue(const Json& node);
// The values of a list of String nodes.
std::vector<std::string> NameList(const Json& list);
QualifiedName RangeVarName(const Json& range_var);
// A name list (schema.name) as used by types and domains.
QualifiedName NameFromList(const Json& list);
TypeName TranslateTypeName(const Json& type_name);

// Classifies a default expression; `function` receives the volatile function, if any, and
// `user_calls` the calls to functions that are not known built-ins (counted volatile);
// `builtin_kind` the kind if those were stable.
DefaultKind ClassifyDefault(const Json& expr, std::string* function,
                            std::vector<FunctionCall>* user_calls = nullptr,
                            DefaultKind* builtin_kind = nullptr);
// True when the expression bounds rows by a key range or a key equality.
bool HasKeyRange(const Json& where);
// Appends every column an expression references (ColumnRef nodes, last name part), once each.
void CollectColumnRefs(const Json& node, std::vector<std::string>& out);
// True when `expr` is the column `column` itself, or one cast of it to `type`: a USING clause
// that PostgreSQL reduces to the plain type conversion (ALTER ... TYPE text USING c::text).
bool IsColumnOrCastOf(const Json& expr, const std::string& column, const TypeName& type);
// The column of `CHECK (col IS NOT NULL)`, "" when the check is anything else.
std::string NotNullCheckColumn(const Json& expr);

// The text of the expression starting at `offset` in `text`: up to the first top-level comma,
// closing parenthesis, semicolon or column-constraint keyword.
std::string ExpressionTextAt(std::string_view text, size_t offset);

// A column definition whose type is written at `type_offset` in `text`: where the type ends
// (at the first column-constraint keyword, COLLATE or USING) and where the whole definition
// ends (the first top-level comma, closing parenthesis or semicolon).
struct DefinitionEnds {
  size_t type_end = 0;
  size_t end = 0;
};
DefinitionEnds ColumnDefinitionEnds(std::string_view text, size_t type_offset);

// The parenthesised group that opens at or after `offset` ("(VALUE > 0)" of CHECK (VALUE > 0)),
// stepping over a quoted identifier before it; "" when none opens before the end.
std::string ParenthesizedAt(std::string_view text, size_t offset);

}  // namespace tandem::sql::internal
