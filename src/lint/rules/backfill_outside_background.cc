// backfill-outside-background: an UPDATE or DELETE over an existing table without a key range
// touches every matching row in one transaction: long row locks, bloat, replication lag, and a
// release that waits for hours (seed 002). Batched data work belongs in a background migration.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind != sql::StatementKind::kUpdate && st.kind != sql::StatementKind::kDelete) return;
  if (c.migration.phase == migrate::Phase::kBackground || !ExistingTable(c)) return;
  if (st.where_has_key_range) return;
  std::string verb = st.kind == sql::StatementKind::kUpdate ? "UPDATE" : "DELETE";
  std::string recipe =
      "-- tandem:phase background\n-- tandem:batch table=" + c.statement.relation.name +
      " key=id size=auto\n" + st.text + (st.has_where ? " AND" : " WHERE") +
      " id >= :batch_start AND id < :batch_end;";
  c.Report(kBackfillOutsideBackground, st.offset,
           verb + " on " + Table(c) + (st.has_where ? " without a key range" : " without WHERE") +
               " changes every matching row in one transaction of a " +
               std::string(migrate::PhaseName(c.migration.phase)) + " migration",
           recipe);
}

}  // namespace

const Rule kBackfillOutsideBackground = {
    "backfill-outside-background",
    Severity::kWarning,
    "UPDATE or DELETE without a key range outside a background migration",
    "one big transaction holds row locks on every matching row, bloats the table and delays the "
    "release for as long as it runs",
    "ROW EXCLUSIVE on {table}, and row locks on every changed row",
    "concurrent writes to the same rows; SHARE and stronger locks",
    "all",
    "-- tandem:phase background\n-- tandem:batch table=t key=id size=auto\n"
    "UPDATE t SET c = ... WHERE id >= :batch_start AND id < :batch_end AND c IS NULL;",
    "UPDATE users SET email_lower = lower(email);",
    &Check,
};

}  // namespace tandem::lint::rules
