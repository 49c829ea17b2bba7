// The schema model the rules consult: tables with their columns (type, nullability, default),
// constraints (validated or not) and indexes. Built by replaying the migrations before the one
// being linted, or read from a live catalog (catalog.h). A table absent from the model is
// assumed to exist with unknown contents: rules stay conservative about what they cannot see.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sql/ast.h"

namespace tandem::lint {

struct ColumnInfo {
  sql::TypeName type;
  bool not_null = false;
  bool has_default = false;
};

struct ConstraintInfo {
  sql::ConstraintKind kind = sql::ConstraintKind::kOther;
  bool validated = true;
  std::string not_null_column;   // CHECK (col IS NOT NULL)
  std::string referenced_table;  // foreign keys
  // Key columns (PRIMARY KEY, UNIQUE, ...) or, for a CHECK, the columns it reads; empty when
  // not known (read from a catalog).
  std::vector<std::string> columns;
  std::string check_sql;  // CHECK: "(price > 0)" as written; "" when not known
};

struct TableInfo {
  std::map<std::string, ColumnInfo> columns;
  std::map<std::string, ConstraintInfo> constraints;
  bool partitioned = false;
  // Columns known to be complete: false when the table came from a statement the model cannot
  // read fully (CREATE TABLE AS, LIKE, a catalog read that failed).
  bool complete = true;
};

struct IndexInfo {
  std::string table;  // table key
  std::vector<std::string> columns;
  std::vector<std::string> expression_columns;  // read by its expressions or WHERE predicate
  std::string definition;                       // the CREATE INDEX as written; "" if not known
};

struct FunctionInfo {
  std::string schema;  // as written; empty when unqualified
  int min_args = 0;
  int max_args = 0;
  std::string volatility;  // "immutable", "stable" or "volatile"
};

class Schema {
 public:
  // Table names are keyed without schema unless one was written; lookups try both.
  const TableInfo* FindTable(const sql::QualifiedName& name) const;
  const ColumnInfo* FindColumn(const sql::QualifiedName& table, const std::string& column) const;
  const IndexInfo* FindIndex(const std::string& index) const;
  // The indexes of a table known to the model (created by CREATE INDEX or read from a
  // catalog), by name.
  std::vector<std::pair<std::string, const IndexInfo*>> IndexesOf(
      const sql::QualifiedName& table) const;
  bool IsEnumType(const std::string& name) const { return enums_.count(name) > 0; }
  // The volatility of the function a call resolves to, from the CREATE FUNCTIONs replayed:
  // "" when no known function takes that many arguments under that name.
  std::string FunctionVolatility(const sql::FunctionCall& call) const;

  // A validated CHECK (col IS NOT NULL) exists on the column.
  bool HasValidatedNotNullCheck(const sql::QualifiedName& table, const std::string& column) const;
  // A CHECK (col IS NOT NULL) exists on the column, validated or NOT VALID: either way every
  // new write must already set the column.
  bool HasNotNullCheck(const sql::QualifiedName& table, const std::string& column) const;

  // Applies one statement's effect. Statements the model does not understand change nothing.
  void Apply(const sql::Statement& statement);

  // Direct construction, for the catalog reader and tests.
  TableInfo& AddTable(const std::string& key);
  void AddIndex(const std::string& index, IndexInfo info) { indexes_[index] = std::move(info); }
  void AddEnum(const std::string& name) { enums_.insert(name); }

 private:
  TableInfo* MutableTable(const sql::QualifiedName& name);
  void ApplyAlter(const sql::Statement& statement);

  std::map<std::string, TableInfo> tables_;
  std::map<std::string, IndexInfo> indexes_;
  std::set<std::string> enums_;
  std::multimap<std::string, FunctionInfo> functions_;  // by name
};

// The key under which a table is stored: "name" (schema public or unqualified) or
// "schema.name".
std::string TableKey(const sql::QualifiedName& name);

}  // namespace tandem::lint
