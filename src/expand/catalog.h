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
  char identity_kind = 0;  // 'a' GENERATED ALWAYS, 'd' BY DEFAULT, 0 none
  std::string comment;
  // GRANT ... (column) statements' privilege/grantee pairs: {"SELECT", "reporting"}.
  std::vector<std::pair<std::string, std::string>> grants;
};

// One key (or INCLUDE column) of an index, as pg_index has it: enough to build it again on a
// successor column without reading pg_get_indexdef's text.
struct IndexKey {
  std::string column;      // the column, or empty for an expression key
  std::string expression;  // pg_get_indexdef's text of an expression key
  std::string opclass;     // quoted schema.name, empty when the type's default
  std::string collation;   // quoted schema.name, empty when the column's (or the default)
  int option = 0;          // indoption: 1 DESC, 2 NULLS FIRST
};

struct IndexInfo {
  std::string name;
  bool unique = false;
  bool primary = false;
  std::string method;                   // btree, hash, ...
  std::vector<std::string> columns;     // key columns; empty entry for an expression
  bool simple = true;                   // plain columns only, no predicate, no INCLUDE
  bool constraint = false;              // backs a UNIQUE / PRIMARY KEY constraint
  std::vector<IndexKey> keys;           // in order
  std::vector<std::string> include;     // INCLUDE columns
  std::string predicate;                // pg_get_expr of the WHERE, empty when none
  std::string reloptions;               // "fillfactor=70, ...", empty when none
  std::vector<std::string> referenced;  // every column it reads: keys, expressions, predicate
};

struct ConstraintInfo {
  std::string name;
  char type = 'c';  // c check, f foreign key, u unique, p primary key, x exclusion
  std::vector<std::string> columns;
  std::string definition;  // pg_get_constraintdef
  std::string table;       // incoming foreign keys: the referencing table (qualified)
  std::string expression;  // checks: pg_get_expr of the condition
  bool validated = true;
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
