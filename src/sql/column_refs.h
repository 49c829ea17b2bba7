// Renaming column references inside an expression the server printed (pg_get_expr,
// pg_get_constraintdef, pg_get_indexdef), by the real parser's positions: a string literal, a
// function or type name, or a qualified reference of another table that happens to spell the
// same word is never touched. For the expand/contract planner, which rebuilds checks and
// expression or partial indexes on a column's successor.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/status.h"

namespace tandem::sql {

// `expression` (an SQL scalar expression) with each unqualified column reference whose name is a
// key of `renames` replaced by the quoted value. kInvalidInput when it does not parse.
Result<std::string> RenameColumnRefs(std::string_view expression,
                                     const std::map<std::string, std::string>& renames);

}  // namespace tandem::sql
