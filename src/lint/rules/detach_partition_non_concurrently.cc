// detach-partition-non-concurrently: DETACH PARTITION takes ACCESS EXCLUSIVE on the parent and
// the partition (measured); DETACH ... CONCURRENTLY (PostgreSQL 14+) does not block queries.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind != sql::StatementKind::kAlterTable || !ExistingTable(c)) return;
  for (const auto& cmd : st.cmds) {
    if (cmd.action != sql::AlterAction::kDetachPartition || cmd.concurrent) continue;
    c.Report(
        kDetachPartitionNonConcurrently, cmd.offset,
        "detaching " + cmd.partition.ToSql() + " locks " + Table(c) +
            " and the partition against all queries",
        c.version.major >= 14
            ? "-- in a migration with -- tandem:transaction off\nALTER TABLE " + Table(c) +
                  " DETACH PARTITION " + cmd.partition.ToSql() + " CONCURRENTLY;"
            : std::string("-- DETACH ... CONCURRENTLY needs PostgreSQL 14; run this alone with a "
                          "short lock_timeout"));
  }
}

}  // namespace

const Rule kDetachPartitionNonConcurrently = {
    "detach-partition-non-concurrently",
    Severity::kWarning,
    "ALTER TABLE ... DETACH PARTITION without CONCURRENTLY",
    "the parent, and so every query on the partitioned table, is blocked",
    "ACCESS EXCLUSIVE on {table} and on the partition",
    kBlocksAll,
    "all; CONCURRENTLY from 14",
    "-- tandem:transaction off\nALTER TABLE parent DETACH PARTITION part CONCURRENTLY;",
    "ALTER TABLE events DETACH PARTITION events_2020;",
    &Check,
};

}  // namespace tandem::lint::rules
