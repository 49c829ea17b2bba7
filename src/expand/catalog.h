// What the planner needs to know of a table from the live catalog: its columns (type,
// default, NOT NULL, identity, comment, grants), the indexes and constraints on each column,
// and what would stop a column from being carried over to a successor.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "pg/connection.h"

namespace tandem::expand {

struct ColumnInfo {
  std::string name;
  std::string type;         // format_type: "character varying(20)", "integer"
  std::string default_sql;  // pg_get_expr of the default; empty when none
  bool not_null = false;
  bool identity = false;
  bool generated = false;
  std::string comment;
  // GRANT ... (column) statements' privilege/grantee pairs: {"SELECT", "reporting"}.
  std::vector<std::pair<std::string, std::string>> grants;
};

struct IndexInfo {
  std::string name;
  bool unique = false;
  bool primary = false;
  std::string method;                // btree, hash, ...
  std::vector<std::string> columns;  // key columns; empty entry for an expression
  bool simple = true;                // plain columns only, no predicate, no INCLUDE
  bool constraint = false;           // backs a UNIQUE / PRIMARY KEY constraint
};

struct ConstraintInfo {
  std::string name;
  char type = 'c';  // c check, f foreign key, u unique, p primary key, x exclusion
  std::vector<std::string> columns;
  std::string definition;  // pg_get_constraintdef
  std::string table;       // incoming foreign keys: the referencing table (qualified)
};

struct TableInfo {
  std::string schema, name;
  std::string qualified;  // quoted schema.name
  char kind = 'r';        // relkind
  std::vector<ColumnInfo> columns;
  std::vector<IndexInfo> indexes;
  std::vector<ConstraintInfo> constraints;   // on this table
  std::vector<ConstraintInfo> incoming_fks;  // other tables' foreign keys to this one
  std::vector<std::string> dependent_views;  // views reading this table
  const ColumnInfo* Column(const std::string& name) const;
};

// Reads `name` (optionally schema-qualified; unqualified names resolve through the
// connection's search_path). kInvalidInput when there is no such table.
Result<TableInfo> ReadTable(pg::Connection& connection, const std::string& schema,
                            const std::string& name);

}  // namespace tandem::expand
