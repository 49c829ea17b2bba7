// Helpers over libpg_query's JSON parse tree used by the translation in ast.cc: names, types
// and the few expression facts the rules need (is a default volatile, does a WHERE clause
// narrow the rows to a key range, does a CHECK prove a column non-null). Private to src/sql/.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "sql/ast.h"

namespace tandem::sql::internal {

using Json = nlohmann::json;

// The value of a {"String": {"sval": ...}} node ("" for anything else).
std::string StringValue(const Json& node);
// The values of a list of String nodes.
std::vector<std::string> NameList(const Json& list);
QualifiedName RangeVarName(const Json& range_var);
// A name list (schema.name) as used by types and domains.
QualifiedName NameFromList(const Json& list);
TypeName TranslateTypeName(const Json& type_name);

// Classifies a default expression; `function` receives the volatile function, if any.
DefaultKind ClassifyDefault(const Json& expr, std::string* function);
// True when the expression bounds rows by a key range or a key equality.
bool HasKeyRange(const Json& where);
// The column of `CHECK (col IS NOT NULL)`, "" when the check is anything else.
std::string NotNullCheckColumn(const Json& expr);

// The text of the expression starting at `offset` in `text`: up to the first top-level comma,
// closing parenthesis, semicolon or column-constraint keyword.
std::string ExpressionTextAt(std::string_view text, size_t offset);

}  // namespace tandem::sql::internal
