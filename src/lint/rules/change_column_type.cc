// change-column-type: ALTER COLUMN TYPE rewrites the table and every index under ACCESS
// EXCLUSIVE unless the change is binary coercible. More precise than squawk, which flags every
// type change: varchar widening, varchar to text, numeric precision widening and cidr to inet
// are catalog-only (measured), and timestamp to timestamptz is catalog-only on PG 12+ when
// the session time zone is UTC.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

std::string ExpandContract(const RuleContext& c, const sql::AlterCmd& cmd) {
  std::string t = Table(c), n = Ident(cmd.column), nn = Ident(cmd.column + "_new");
  return "ALTER TABLE " + t + " ADD COLUMN " + nn + " " + cmd.column_def.type.ToSql() +
         ";\n-- a trigger copies " + n + " into " + nn +
         " on write; backfill existing rows in batches (background migration);\n"
         "-- then, in one short transaction (post-deploy):\nALTER TABLE " +
         t + " RENAME COLUMN " + n + " TO " + Ident(cmd.column + "_old") + ";\nALTER TABLE " + t +
         " RENAME COLUMN " + nn + " TO " + n + ";";
}

void Check(const RuleContext& c) {
  if (c.statement.kind != sql::StatementKind::kAlterTable || !ExistingTable(c)) return;
  for (const auto& cmd : c.statement.cmds) {
    if (cmd.action != sql::AlterAction::kAlterColumnType) continue;
    const ColumnInfo* old = c.schema.FindColumn(c.statement.relation, cmd.column);
    const sql::TypeName& to = cmd.column_def.type;
    TypeChange change = ClassifyTypeChange(old ? &old->type : nullptr, to, c.version.major);
    std::string t = Table(c);
    std::string what = "changing column \"" + cmd.column + "\" of " + t + " to " + to.ToSql();
    switch (change) {
      case TypeChange::kSame:
      case TypeChange::kNoRewrite:
        break;  // catalog only; tandem's lock_timeout bounds the brief ACCESS EXCLUSIVE
      case TypeChange::kRewriteUnlessUtc:
        if (c.utc_session) break;
        c.Report(kChangeColumnType, cmd.offset,
                 what + " rewrites the table unless the session time zone is UTC",
                 "SET TIME ZONE 'UTC';\nALTER TABLE " + t + " ALTER COLUMN " + Ident(cmd.column) +
                     " TYPE timestamptz;");
        break;
      case TypeChange::kRewrite:
        c.Report(kChangeColumnType, cmd.offset,
                 what + " from " + old->type.ToSql() + " rewrites the table and all its indexes",
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
    "ALTER COLUMN ... TYPE that rewrites the table",
    "the table and all its indexes are rewritten under ACCESS EXCLUSIVE, blocking every query "
    "for the duration",
    "ACCESS EXCLUSIVE on {table}, plus ACCESS EXCLUSIVE on each of its indexes",
    kBlocksAll,
    "all; no rewrite for varchar(n)->varchar(m>=n), varchar->text, numeric(p,s)->numeric(q>=p,s), "
    "numeric->numeric, cidr->inet; timestamp->timestamptz no rewrite on 12+ under TimeZone UTC",
    "ALTER TABLE t ADD COLUMN c_new bigint;\n-- trigger to dual-write, batched backfill, then swap "
    "names in one short transaction",
    "ALTER TABLE orders ALTER COLUMN id TYPE bigint;",
    &Check,
};

}  // namespace tandem::lint::rules
