// Small helpers shared by the rule files: names as SQL, lock texts, and the type facts that
// decide whether ALTER COLUMN TYPE rewrites the table (measured on PostgreSQL 15, see
// docs/rules/change-column-type.md).
#pragma once

#include <string>

#include "lint/rule.h"

namespace tandem::lint::rules {

inline constexpr const char* kBlocksAll = "reads, writes and schema changes";
inline constexpr const char* kBlocksWrites = "writes (INSERT, UPDATE, DELETE) and schema changes";
inline constexpr const char* kBlocksSchema = "schema changes, VACUUM and other maintenance";

// The statement's table as SQL.
inline std::string Table(const RuleContext& c) { return c.statement.relation.ToSql(); }
inline std::string Ident(const std::string& name) { return sql::QuoteIdent(name); }

// True when the statement's table existed before this migration (or is unknown).
inline bool ExistingTable(const RuleContext& c) { return !c.IsNewTable(c.statement.relation); }

enum class TypeChange {
  kSame,              // nothing changes
  kNoRewrite,         // binary coercible: catalog change only (indexes on the column rebuilt)
  kRewriteUnlessUtc,  // timestamp -> timestamptz: no rewrite only under a UTC session, PG 12+
  kRewrite,           // table and indexes rewritten
  kUnknown,           // the column's current type is not known
};
TypeChange ClassifyTypeChange(const sql::TypeName* from, const sql::TypeName& to, int pg_major);
// True when `to` can hold fewer values than `from` (the old app may write values that no
// longer fit).
bool IsNarrowing(const sql::TypeName& from, const sql::TypeName& to);

}  // namespace tandem::lint::rules
