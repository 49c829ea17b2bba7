// change-column-type: ALTER COLUMN TYPE holds ACCESS EXCLUSIVE while it does its work, and what
// that work is depends on the change (all measured on PostgreSQL 15, see
// src/lint/rules_server_test.cc):
//   - a change that is not binary coercible, or a USING expression other than the column or a
//     cast of it, rewrites the table and every index;
//   - a binary-coercible change (varchar widening, varchar to text, citext to or from text,
//     more fractional-second precision, numeric widening, cidr to inet; timestamp to or from
//     timestamptz under TimeZone UTC on 12+) keeps the table's files, but still rebuilds every
//     index whose expression or predicate reads the column, and a plain index on it when the
//     operator class changes (citext, timestamptz);
//   - it also re-checks every validated CHECK constraint that reads the column: a full scan.
// More precise than squawk, which flags every type change, and than strong_migrations, which
// misses the index rebuilds and the CHECK scans.
#include <algorithm>

#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

std::string AlterSql(const RuleContext& c, const sql::AlterCmd& cmd) {
  std::string rest =
      cmd.column_def.after_type_sql.empty() ? "" : " " + cmd.column_def.after_type_sql;
  return "ALTER TABLE " + Table(c) + " ALTER COLUMN " + Ident(cmd.column) + " TYPE " +
         cmd.column_def.type.ToSql() + rest + ";";
}

// The rewrite's recipe: `-- tandem:online` first (tandem carries out the expand/contract), then
// the same steps by hand.
std::string ExpandContract(const RuleContext& c, const sql::AlterCmd& cmd) {
  std::string t = Table(c), n = Ident(cmd.column), nn = Ident(cmd.column + "_new");
  return "-- tandem:online\n" + AlterSql(c, cmd) +
         "\n-- with the directive in the file's header tandem runs the change as "
         "expand/contract: a new\n-- column kept in step both ways by a trigger (the new app's "
         "writes reach the old column\n-- through the reverse expression, given by -- "
         "tandem:down-expression when tandem cannot\n-- derive it), a background backfill, the "
         "swap at `tandem complete`\n"
         "-- by hand instead:\n"
         "ALTER TABLE " +
         t + " ADD COLUMN " + nn + " " + cmd.column_def.type.ToSql() + ";\n-- a trigger copies " +
         n + " into " + nn +
         " on write; backfill existing rows in batches (background migration);\n"
         "-- then, in one short transaction (post-deploy):\nALTER TABLE " +
         t + " RENAME COLUMN " + n + " TO " + Ident(cmd.column + "_old") + ";\nALTER TABLE " + t +
         " RENAME COLUMN " + nn + " TO " + n + ";";
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string NameList(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + ("\"" + names[i] + "\"");
  }
  return out;
}

// A type change that keeps the table's files: the indexes it rebuilds and the CHECK
// constraints it re-verifies still run under ACCESS EXCLUSIVE.
void CheckCatalogOnlyChange(const RuleContext& c, const sql::AlterCmd& cmd, const ColumnInfo* old,
                            bool needs_utc) {
  // timestamp <-> timestamptz is catalog-only only under TimeZone UTC: the recipe's ALTER,
  // run from another migration, needs the SET again.
  std::string alter = (needs_utc ? "SET TIME ZONE 'UTC';\n" : "") + AlterSql(c, cmd);
  const sql::TypeName& to = cmd.column_def.type;
  bool opclass = old && ChangesIndexOpclass(old->type, to);
  bool collation = cmd.column_def.after_type_sql.find("COLLATE") != std::string::npos ||
                   cmd.column_def.after_type_sql.find("collate") != std::string::npos;
  std::vector<std::string> dropped, rebuilt_constraints;
  std::string recreate;
  for (const auto& [name, index] : c.schema.IndexesOf(c.statement.relation)) {
    bool reads = Contains(index->expression_columns, cmd.column);
    bool keyed = Contains(index->columns, cmd.column) && (opclass || collation);
    if (!reads && !keyed) continue;
    dropped.push_back(name);
    std::string again = WithConcurrently(index->definition);
    recreate += again.empty() ? "CREATE INDEX CONCURRENTLY " + Ident(name) + " ON " + Table(c) +
                                    " (...);  -- as it was defined\n"
                              : again + "\n";
  }
  std::vector<std::string> checks;
  std::string readd;
  if (const TableInfo* table = c.schema.FindTable(c.statement.relation)) {
    for (const auto& [name, k] : table->constraints) {
      bool keyed = k.kind == sql::ConstraintKind::kPrimaryKey ||
                   k.kind == sql::ConstraintKind::kUnique ||
                   k.kind == sql::ConstraintKind::kExclusion;
      if (keyed && (opclass || collation) && Contains(k.columns, cmd.column))
        rebuilt_constraints.push_back(name);
      if (k.kind == sql::ConstraintKind::kCheck && k.validated && Contains(k.columns, cmd.column)) {
        checks.push_back(name);
        readd += "ALTER TABLE " + Table(c) + " ADD CONSTRAINT " + Ident(name) + " CHECK " +
                 (k.check_sql.empty() ? "(...)" : k.check_sql) + " NOT VALID;\n";
      }
    }
  }
  std::string t = Table(c);
  std::string what = "changing column \"" + cmd.column + "\" of " + t + " to " + to.ToSql();
  if (!dropped.empty() || !rebuilt_constraints.empty()) {
    std::vector<std::string> all = dropped;
    all.insert(all.end(), rebuilt_constraints.begin(), rebuilt_constraints.end());
    RawFinding f;
    f.rule = &kChangeColumnType;
    f.offset = cmd.offset;
    f.lock = "ACCESS EXCLUSIVE on " + t + " for the whole index build";
    f.message = what + " does not rewrite the table but rebuilds " +
                (all.size() == 1 ? "index " : "indexes ") + NameList(all) +
                " under ACCESS EXCLUSIVE, blocking every query on " + t + " until the build ends";
    if (rebuilt_constraints.empty()) {
      std::string drop;
      for (const auto& name : dropped) drop += "DROP INDEX CONCURRENTLY " + Ident(name) + ";\n";
      f.recipe = "-- 1. in a migration with -- tandem:transaction off:\n" + drop +
                 "-- 2. the type change alone is then catalog-only:\n" + alter +
                 "\n-- 3. in a migration with -- tandem:transaction off, rebuild without "
                 "blocking writes:\n" +
                 recreate;
      f.recipe.pop_back();
    } else {
      f.recipe = "-- " + NameList(rebuilt_constraints) +
                 " backs a constraint and cannot be dropped and rebuilt concurrently; move the "
                 "data to a new column instead:\n" +
                 ExpandContract(c, cmd);
    }
    c.Report(std::move(f));
  }
  if (!checks.empty()) {
    RawFinding f;
    f.rule = &kChangeColumnType;
    f.offset = cmd.offset;
    f.lock = "ACCESS EXCLUSIVE on " + t + " for the whole scan";
    f.message = what + " re-checks CHECK " + (checks.size() == 1 ? "constraint " : "constraints ") +
                NameList(checks) + ", reading every row of " + t + " under ACCESS EXCLUSIVE";
    std::string drop;
    for (const auto& name : checks)
      drop += "ALTER TABLE " + t + " DROP CONSTRAINT " + Ident(name) + ";\n";
    std::string validate;
    for (const auto& name : checks)
      validate += "\nALTER TABLE " + t + " VALIDATE CONSTRAINT " + Ident(name) + ";";
    f.recipe = drop + alter + "\n" + readd +
               "-- in a later migration (post-deploy), without blocking writes:" + validate;
    c.Report(std::move(f));
  }
}

void Check(const RuleContext& c) {
  if (c.statement.kind != sql::StatementKind::kAlterTable || !ExistingTable(c)) return;
  for (const auto& cmd : c.statement.cmds) {
    if (cmd.action != sql::AlterAction::kAlterColumnType) continue;
    const ColumnInfo* old = c.schema.FindColumn(c.statement.relation, cmd.column);
    const sql::TypeName& to = cmd.column_def.type;
    TypeChange change = ClassifyTypeChange(old ? &old->type : nullptr, to, c.version.major);
    // A USING expression the server cannot reduce to the plain conversion (ts AT TIME ZONE
    // 'UTC', lower(c), ...) is computed for every row: a rewrite, whatever the types.
    bool computed = cmd.has_using && !cmd.using_is_column;
    if (computed) change = TypeChange::kRewrite;
    std::string t = Table(c);
    std::string what = "changing column \"" + cmd.column + "\" of " + t + " to " + to.ToSql();
    switch (change) {
      case TypeChange::kSame:
      case TypeChange::kNoRewrite:
        CheckCatalogOnlyChange(c, cmd, old, false);
        break;
      case TypeChange::kRewriteUnlessUtc:
        if (c.utc_session) {
          CheckCatalogOnlyChange(c, cmd, old, true);
          break;
        }
        c.Report(kChangeColumnType, cmd.offset,
                 what + " rewrites the table unless the session time zone is UTC",
                 "SET TIME ZONE 'UTC';\n" + AlterSql(c, cmd));
        break;
      case TypeChange::kRewrite:
        c.Report(kChangeColumnType, cmd.offset,
                 what + (old ? " from " + old->type.ToSql() : std::string()) +
                     " rewrites the table and all its indexes" +
                     (computed ? ": its USING expression is computed for every row" : ""),
                 ExpandContract(c, cmd));
        break;
      case TypeChange::kUnknown: {
        RawFinding f;
        f.rule = &kChangeColumnType;
        f.offset = cmd.offset;
        f.severity = Severity::kWarning;
        f.message = what +
                    " rewrites the table unless the change is binary coercible; the "
                    "column's current type is not known (it was not created by the linted "
                    "migrations)";
        f.recipe = ExpandContract(c, cmd);
        c.Report(std::move(f));
        break;
      }
    }
  }
}

}  // namespace

const Rule kChangeColumnType = {
    "change-column-type",
    Severity::kError,
    "ALTER COLUMN ... TYPE that rewrites the table, rebuilds an index or re-checks a CHECK "
    "constraint",
    "the table and all its indexes are rewritten (or, for a binary-coercible change, the indexes "
    "reading the column rebuilt, or the table scanned to re-check its CHECK constraints) under "
    "ACCESS EXCLUSIVE, blocking every query for the duration",
    "ACCESS EXCLUSIVE on {table}, plus ACCESS EXCLUSIVE on each of its indexes",
    kBlocksAll,
    "all. No rewrite (measured on 15) for varchar(n)->varchar(m>=n), varchar->text, "
    "text->varchar, citext<->text, varchar->citext, citext->varchar, "
    "numeric(p,s)->numeric(q>=p,s), "
    "numeric->numeric, cidr->inet, bit(n)->varbit, more (or unlimited) precision of timestamp, "
    "timestamptz, time, "
    "timetz and interval, USING col::newtype; timestamp<->timestamptz (to the type without a "
    "precision) no rewrite on 12+ under "
    "TimeZone UTC. Even without a rewrite, indexes whose expression or WHERE reads the column are "
    "rebuilt, plain indexes on it too when the operator class changes (citext, timestamptz, "
    "bit->varbit), and "
    "validated CHECK constraints reading it are re-checked with a full scan. Arrays are always "
    "rewritten (varchar(10)[]->text[] too)",
    "-- tandem:online\n"
    "ALTER TABLE t ALTER COLUMN c TYPE bigint;\n"
    "-- the directive makes tandem run a rewriting change as expand/contract: a new column kept\n"
    "-- in step by a trigger, a background backfill, the swap at `tandem complete`\n"
    "-- by hand instead:\n"
    "ALTER TABLE t ADD COLUMN c_new bigint;\n-- trigger to dual-write, batched backfill, then swap "
    "names in one short transaction\n"
    "-- index rebuilt without a rewrite: DROP INDEX CONCURRENTLY, change the type, CREATE INDEX "
    "CONCURRENTLY\n"
    "-- CHECK re-checked: drop it, change the type, re-add it NOT VALID, VALIDATE later",
    "ALTER TABLE orders ALTER COLUMN id TYPE bigint;",
    &Check,
};

}  // namespace tandem::lint::rules
