// tandem's own statement model: what the linter (and later verify) needs to know about a
// statement, translated from libpg_query's parse tree so that nothing outside src/sql/ ever
// sees parser JSON (DuckDB style: the parser door turns PostgreSQL nodes into our types).
//
// The model is deliberately flat and partial: a statement kind, the relation it touches and
// the facts the safety rules read. Anything not modelled keeps kind kOther with its node name.
// Offsets are byte offsets into the text that was parsed.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tandem::sql {

struct QualifiedName {
  std::string schema;  // empty when unqualified
  std::string name;
  bool empty() const { return name.empty(); }
  // The name as SQL, quoted where PostgreSQL needs it: `public."Order"`.
  std::string ToSql() const;
};

// Quotes an identifier when it is not a plain lowercase name.
std::string QuoteIdent(std::string_view name);

struct TypeName {
  std::string name;            // last name component, lowercase: int4, varchar, timestamptz, ...
  std::vector<int> modifiers;  // varchar length, numeric precision and scale; empty if none
  bool is_array = false;
  // "varchar(20)", "numeric(12,2)", "text[]" (PostgreSQL's internal names mapped back).
  std::string ToSql() const;
};

// A call to a function in an expression, by signature (PostgreSQL resolves by name and
// argument count, not name alone).
struct FunctionCall {
  std::string schema;  // as written; empty when unqualified
  std::string name;
  int args = 0;
};

// What a column default costs when added: constants and stable functions are stored once in
// the catalog (PostgreSQL 11+); a volatile function has to be evaluated for every row.
enum class DefaultKind { kNone, kConstant, kStable, kVolatile };

enum class ConstraintKind {
  kCheck,
  kForeignKey,
  kUnique,
  kPrimaryKey,
  kExclusion,
  kNotNull,
  kNull,
  kDefault,
  kIdentity,
  kGenerated,
  kOther,
};

struct Constraint {
  ConstraintKind kind = ConstraintKind::kOther;
  std::string name;  // empty when the server will pick one
  // Key columns; for a FK the referencing columns; for a CHECK the columns it reads.
  std::vector<std::string> columns;
  QualifiedName referenced_table;  // foreign keys
  std::vector<std::string> referenced_columns;
  bool not_valid = false;       // NOT VALID
  std::string using_index;      // UNIQUE / PRIMARY KEY USING INDEX
  std::string not_null_column;  // CHECK (col IS NOT NULL): the column it proves non-null
  std::string check_sql;        // CHECK: the parenthesised condition as written, "(VALUE > 0)"
  size_t offset = 0;
};

struct ColumnDef {
  std::string name;
  TypeName type;
  bool not_null = false;
  bool primary_key = false;
  DefaultKind default_kind = DefaultKind::kNone;
  std::string default_function;  // the function that made the default volatile
  // Calls in the default to functions that are not known built-ins (user-defined, extension,
  // or a built-in name with another argument count, such as now(123)). default_kind counts them
  // volatile, PostgreSQL's default for CREATE FUNCTION; default_kind_builtin is the kind if
  // they were all stable, for rules that know the functions from the schema model.
  std::vector<FunctionCall> default_user_calls;
  DefaultKind default_kind_builtin = DefaultKind::kNone;
  std::string default_sql;  // the default expression as written
  bool identity = false;
  bool generated_stored = false;
  std::vector<Constraint> constraints;  // inline CHECK / UNIQUE / PRIMARY KEY / REFERENCES
  // The rest of the definition as written after the type ("NOT NULL DEFAULT 0", for ALTER
  // COLUMN TYPE "USING c::bigint"), so that a recipe can change the type and keep the rest.
  std::string after_type_sql;
  size_t offset = 0;
};

enum class AlterAction {
  kAddColumn,
  kDropColumn,
  kAlterColumnType,
  kSetNotNull,
  kDropNotNull,
  kSetDefault,
  kDropDefault,
  kAddConstraint,
  kValidateConstraint,
  kDropConstraint,
  kSetLogged,
  kSetUnlogged,
  kSetTablespace,
  kAttachPartition,
  kDetachPartition,
  kEnableTrigger,
  kDisableTrigger,
  kOther,
};

struct AlterCmd {
  AlterAction action = AlterAction::kOther;
  std::string subtype;   // the parser's AT_* name, for messages about kOther
  std::string column;    // the column acted on (name of the added column for kAddColumn)
  ColumnDef column_def;  // kAddColumn; kAlterColumnType keeps the new type in column_def.type
  bool has_using = false;
  // USING is the column itself or a single cast of it to the new type (USING c::text): the
  // server sees the plain conversion, so it rewrites no more than without USING.
  bool using_is_column = false;
  Constraint constraint;    // kAddConstraint
  std::string name;         // constraint name for kValidateConstraint / kDropConstraint
  QualifiedName partition;  // kAttachPartition / kDetachPartition
  bool concurrent = false;  // DETACH PARTITION ... CONCURRENTLY
  bool missing_ok = false;
  bool cascade = false;
  size_t offset = 0;  // best known position of the clause
};

// A column that UPDATE ... SET or INSERT's column list assigns.
struct AssignedColumn {
  std::string name;
  bool partial = false;  // a subscript or field of it: SET a[1] = ..., SET point.x = ...
  size_t offset = 0;
};

// A list of columns a statement names, each of which PostgreSQL accepts only once: MERGE's
// INSERT column lists and UPDATE SET, ON CONFLICT DO UPDATE SET, a view's or CREATE TABLE AS's
// column names, the output columns of SELECT ... INTO, CREATE FOREIGN TABLE's columns.
struct ColumnList {
  std::string clause;       // "MERGE ... UPDATE SET", "CREATE VIEW", ...
  bool assignment = false;  // SET targets: two subscripts or fields of one column are allowed
  std::vector<AssignedColumn> columns;
};

enum class StatementKind {
  kCreateTable,
  kCreateTableAs,
  kAlterTable,
  kCreateIndex,
  kDropIndex,
  kDropTable,
  kDropOther,
  kRenameTable,
  kRenameColumn,
  kRenameOther,
  kReindex,
  kTruncate,
  kVacuum,
  kCluster,
  kCreateTrigger,
  kDropTrigger,
  kCreateEnum,
  kAlterEnumAddValue,
  kAlterEnumRenameValue,
  kAlterDomainAddConstraint,
  kCreateDomain,
  kCreateSequence,
  kCreateView,
  kRefreshMaterializedView,
  kUpdate,
  kDelete,
  kInsert,
  kBegin,
  kCommit,
  kRollback,
  kTransactionOther,
  kSet,
  kLockTable,
  kDropDatabase,
  kSelect,
  kCreatePolicy,  // CREATE POLICY
  kAlterPolicy,   // ALTER POLICY, also ALTER POLICY ... RENAME
  kDropPolicy,
  kRenameSchema,  // ALTER SCHEMA ... RENAME TO (old_name, new_name)
  kCreateFunction,
  kOther,
};

struct Statement {
  StatementKind kind = StatementKind::kOther;
  std::string node;   // the parser's node name: "AlterTableStmt"
  std::string text;   // the statement as written (no trailing semicolon)
  size_t offset = 0;  // where text starts in the parsed input
  QualifiedName relation;

  // CREATE TABLE
  std::vector<ColumnDef> columns;
  std::vector<Constraint> table_constraints;  // also CREATE DOMAIN's constraints
  bool partitioned = false;                   // PARTITION BY
  bool if_not_exists = false;
  // ALTER TABLE
  std::vector<AlterCmd> cmds;
  // CREATE INDEX / DROP INDEX / REINDEX / REFRESH / DETACH; for policies the policy's name
  std::string index_name;
  bool concurrent = false;
  bool unique = false;
  bool only = false;  // CREATE INDEX ON ONLY
  std::vector<std::string> index_columns;
  // Columns read by the index's expressions or its WHERE predicate: any type change of one of
  // them rebuilds the index (measured on PostgreSQL 15, even when the table is not rewritten).
  std::vector<std::string> index_expression_columns;
  std::string reindex_target;  // "INDEX", "TABLE", "SCHEMA", "DATABASE", "SYSTEM"
  // DROP / TRUNCATE
  std::vector<QualifiedName> objects;
  bool cascade = false;
  bool missing_ok = false;
  // RENAME
  std::string old_name;  // column or constraint renamed
  std::string new_name;
  bool renames_table_constraint = false;  // ALTER TABLE ... RENAME CONSTRAINT
  // ALTER TABLE ... SET SCHEMA (node AlterObjectSchemaStmt; `relation` is the table)
  std::string new_schema;
  // VACUUM
  bool vacuum_full = false;
  // enums and domains
  std::string enum_value;                // ADD VALUE 'x' / RENAME VALUE 'old' TO 'x'
  std::string old_enum_value;            // RENAME VALUE
  std::vector<std::string> enum_values;  // CREATE TYPE ... AS ENUM
  std::string enum_neighbor;             // ADD VALUE 'x' BEFORE / AFTER 'neighbor'; "" if neither
  bool enum_after = false;               // AFTER (not BEFORE) enum_neighbor
  bool not_valid = false;                // ALTER DOMAIN ADD CONSTRAINT ... NOT VALID
  TypeName domain_type;  // CREATE DOMAIN's base type (its constraints: table_constraints)
  // UPDATE SET targets, INSERT column list
  std::vector<AssignedColumn> assigned_columns;
  // Every other column list that must not name a column twice.
  std::vector<ColumnList> column_lists;
  // CREATE FUNCTION: the signature (arguments without a default: min_args) and volatility
  // ("immutable", "stable" or "volatile", PostgreSQL's default).
  int function_min_args = 0;
  int function_max_args = 0;
  std::string volatility;
  // UPDATE / DELETE
  bool has_where = false;
  bool where_has_key_range = false;  // a range or equality on a column narrows the rows
  // SET
  std::string setting;  // lowercase name
  std::string value;    // first value as written, lowercase
  bool set_local = false;
  bool set_reset = false;
};

// Parses `text` (one migration section) with the real parser and translates every statement.
// On a syntax error returns kInvalidInput with the position relative to `text`.
Result<std::vector<Statement>> ParseStatements(std::string_view text);

// ParseStatements without collecting: `each` gets every statement in order as its piece of
// the text is translated (offsets relative to `text`), and keeps what it wants of it; a large
// file's statement models are never all held at once. Statements before a syntax error have
// been given to `each` by the time the error is returned.
Status ForEachParsedStatement(std::string_view text,
                              const std::function<Status(Statement& statement)>& each);

std::string_view StatementKindName(StatementKind kind);

}  // namespace tandem::sql
