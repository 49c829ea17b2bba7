// Small helpers shared by the rule files: names as SQL, lock texts, and the type facts that
// decide whether ALTER COLUMN TYPE rewrites the table (measured on PostgreSQL 15, see
// docs/rules/change-column-type.md).
#pragma once

#include <string>
#include <vector>

#include "lint/rule.h"

namespace tandem::lint::rules {

inline constexpr const char* kBlocksAll = "reads, writes and schema changes";
inline constexpr const char* kBlocksWrites = "writes (INSERT, UPDATE, DELETE) and schema changes";
inline constexpr const char* kBlocksSchema = "schema changes, VACUUM and other maintenance";

// The statement's table as SQL.
inline std::string Table(const RuleContext& c) { return c.statement.relation.ToSql(); }
inline std::string Ident(const std::string& name) { return sql::QuoteIdent(name); }
// A string constant: 'it''s'.
inline std::string Literal(const std::string& value) {
  std::string out = "'";
  for (char ch : value) out += ch == '\'' ? std::string("''") : std::string(1, ch);
  return out + "'";
}

// True when the statement's table existed before this migration (or is unknown).
inline bool ExistingTable(const RuleContext& c) { return !c.IsNewTable(c.statement.relation); }

// The recipe of the pre-deploy compatibility rules: the same ALTER COLUMN `action`, moved to a
// post-deploy migration that runs once the new code always writes the column.
inline std::string PostDeployAlterColumn(const RuleContext& c, const std::string& column,
                                         const std::string& action) {
  return "-- move this to a migration with -- tandem:phase post-deploy, after the new code "
         "always writes " +
         Ident(column) + ";\nALTER TABLE " + Table(c) + " ALTER COLUMN " + Ident(column) + " " +
         action + ";";
}

// A column whose type the statement writes: a CREATE TABLE column, ADD COLUMN, or ALTER COLUMN
// ... TYPE. The type rules (prefer-*) read these on new tables too: a type is cheapest to
// choose before the table has rows.
struct TypedColumn {
  enum class Where { kCreateTable, kAddColumn, kAlterType };
  const sql::ColumnDef* def;  // for kAlterType only name, type and after_type_sql are set
  Where where;
  size_t offset;
};
std::vector<TypedColumn> TypedColumns(const sql::Statement& statement);

// The statement's SQL for `column` with `type` written instead of its own, keeping the rest of
// its definition: "ALTER TABLE users ADD COLUMN n bigint NOT NULL;", or the column's line in
// an elided CREATE TABLE.
std::string WithType(const RuleContext& c, const TypedColumn& column, const std::string& type);

// The recipe for a length-limited string column (varchar(n), char(n)): text, and the limit as
// a CHECK, which can later be changed without a rewrite (NOT VALID, then VALIDATE in a later
// migration on an existing table; inline in CREATE TABLE).
std::string TextWithLengthCheck(const RuleContext& c, const TypedColumn& column, int limit);

// The statement as written with CONCURRENTLY after its INDEX keyword ("CREATE UNIQUE INDEX
// CONCURRENTLY ...;"), keeping expressions, opclasses, INCLUDE and WHERE; "" if `text` does not
// start with CREATE [UNIQUE] INDEX.
std::string WithConcurrently(const std::string& text);

enum class TypeChange {
  kSame,              // nothing changes
  kNoRewrite,         // binary coercible: catalog change only (indexes on the column rebuilt)
  kRewriteUnlessUtc,  // timestamp <-> timestamptz: no rewrite only under a UTC session, PG 12+
  kRewrite,           // table and indexes rewritten
  kUnknown,           // the column's current type is not known
};
// True when an index on a column of type `from` needs another operator class for `to`: the
// server rebuilds a plain index on the column even when the table keeps its data (citext to or
// from text, timestamp to or from timestamptz, bit to varbit; measured on 15). varchar and
// text share one, and so do cidr and inet. Indexes whose expressions or predicate read the
// column are rebuilt on any type change.
bool ChangesIndexOpclass(const sql::TypeName& from, const sql::TypeName& to);
TypeChange ClassifyTypeChange(const sql::TypeName* from, const sql::TypeName& to, int pg_major);
// True when `to` can hold fewer values than `from` (the old app may write values that no
// longer fit).
bool IsNarrowing(const sql::TypeName& from, const sql::TypeName& to);

}  // namespace tandem::lint::rules
