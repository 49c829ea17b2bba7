// vacuum-full-or-cluster: VACUUM FULL and CLUSTER rewrite the table and its indexes under
// ACCESS EXCLUSIVE (measured). PostgreSQL 19 adds REPACK (CONCURRENTLY).
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  bool full = st.kind == sql::StatementKind::kVacuum && st.vacuum_full;
  if (!full && st.kind != sql::StatementKind::kCluster) return;
  if (!st.relation.empty() && c.IsNewTable(st.relation)) return;
  std::string what = full ? "VACUUM FULL" : "CLUSTER";
  std::string target = st.relation.empty() ? "every table" : st.relation.ToSql();
  c.Report(kVacuumFullOrCluster, st.offset,
           what + " rewrites " + target + " while ACCESS EXCLUSIVE blocks all queries",
           c.version.major >= 19 ? "REPACK (CONCURRENTLY) " + target + ";"
                                 : std::string("-- use pg_repack, or plain VACUUM; do not rewrite "
                                               "tables from a migration"));
}

}  // namespace

const Rule kVacuumFullOrCluster = {
    "vacuum-full-or-cluster",
    Severity::kError,
    "VACUUM FULL (not VACUUM (FULL FALSE), a plain VACUUM) or CLUSTER in a migration",
    "the whole table and its indexes are rewritten while every query on it waits",
    "ACCESS EXCLUSIVE on {table} and its indexes",
    kBlocksAll,
    "all; REPACK (CONCURRENTLY) from 19",
    "-- 19+: REPACK (CONCURRENTLY) t;  before: pg_repack outside migrations",
    "VACUUM FULL events;",
    &Check,
};

}  // namespace tandem::lint::rules
