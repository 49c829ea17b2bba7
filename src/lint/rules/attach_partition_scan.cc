// attach-partition-scan: ATTACH PARTITION scans the partition under ACCESS EXCLUSIVE to check
// the bound, unless a validated CHECK matching the bound exists (measured). The parent takes
// only SHARE UPDATE EXCLUSIVE since PostgreSQL 12 (ACCESS EXCLUSIVE before).
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind != sql::StatementKind::kAlterTable) return;
  for (const auto& cmd : st.cmds) {
    if (cmd.action != sql::AlterAction::kAttachPartition || c.IsNewTable(cmd.partition)) continue;
    const TableInfo* part = c.schema.FindTable(cmd.partition);
    bool has_check = false;
    if (part) {
      for (const auto& [name, k] : part->constraints) {
        has_check |= k.kind == sql::ConstraintKind::kCheck && k.validated;
      }
    }
    if (has_check) continue;
    RawFinding f;
    f.rule = &kAttachPartitionScan;
    f.offset = cmd.offset;
    f.lock = "ACCESS EXCLUSIVE on " + cmd.partition.ToSql() +
             (c.version.major >= 12 ? ", SHARE UPDATE EXCLUSIVE on " : ", ACCESS EXCLUSIVE on ") +
             Table(c);
    f.message = "attaching " + cmd.partition.ToSql() + " scans it to check the partition bound";
    f.recipe = "ALTER TABLE " + cmd.partition.ToSql() + " ADD CONSTRAINT " +
               Ident(cmd.partition.name + "_bound") +
               " CHECK (<partition bound>) NOT VALID;\n"
               "ALTER TABLE " +
               cmd.partition.ToSql() + " VALIDATE CONSTRAINT " +
               Ident(cmd.partition.name + "_bound") + ";  -- separate transaction\n" + st.text +
               ";";
    c.Report(std::move(f));
  }
}

}  // namespace

const Rule kAttachPartitionScan = {
    "attach-partition-scan",
    Severity::kWarning,
    "ATTACH PARTITION without a validated CHECK matching the bound",
    "the partition is scanned while locked against all queries",
    "ACCESS EXCLUSIVE on the partition, SHARE UPDATE EXCLUSIVE on {table} (12+)",
    kBlocksAll,
    "all; the parent lock is weaker from 12",
    "ALTER TABLE part ADD CONSTRAINT b CHECK (...) NOT VALID; ALTER TABLE part VALIDATE CONSTRAINT "
    "b;\n"
    "ALTER TABLE parent ATTACH PARTITION part FOR VALUES ...;",
    "ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO "
    "('2027-01-01');",
    &Check,
};

}  // namespace tandem::lint::rules
