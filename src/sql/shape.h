// Coarse statement shapes for `tandem verify`: what it must know about an old-app query (can
// it be prepared, which columns an INSERT fills) and about a migration statement (which
// columns it makes NOT NULL), translated from the parse tree so that src/verify never reads
// parser JSON. The full statement model for lint lives in ast.h.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace tandem::sql {

struct RelationName {
  std::string schema;  // empty when unqualified
  std::string name;
};

struct StatementShape {
  std::string node;  // the parser's node name: "SelectStmt", "InsertStmt", "AlterTableStmt"
  // SELECT, VALUES, INSERT, UPDATE, DELETE and MERGE: the statements PREPARE accepts.
  bool preparable = false;
  // INSERT: the target and its column list (empty when the statement names no columns).
  RelationName insert_table;
  std::vector<std::string> insert_columns;
  // INSERT ... VALUES without a column list: how many values the first row has (-1 unknown).
  int insert_value_count = -1;
  // ALTER TABLE t ALTER c SET NOT NULL: (t, c) for every such clause.
  std::vector<std::pair<RelationName, std::string>> set_not_null;
};

// One shape per statement of `text`, in order. kInvalidInput on a syntax error (the same
// error as SplitStatements).
Result<std::vector<StatementShape>> ShapeStatements(std::string_view text);

}  // namespace tandem::sql
