// refresh-materialized-view-non-concurrently: REFRESH MATERIALIZED VIEW rewrites the view under
// ACCESS EXCLUSIVE (measured), blocking reads of it; CONCURRENTLY needs a unique index.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind != sql::StatementKind::kRefreshMaterializedView || st.concurrent) return;
  c.Report(kRefreshMaterializedViewNonConcurrently, st.offset,
           "refreshing " + Table(c) + " without CONCURRENTLY blocks every read of it",
           "-- needs a unique index on the view; run outside a transaction\nREFRESH MATERIALIZED "
           "VIEW CONCURRENTLY " +
               Table(c) + ";");
}

}  // namespace

const Rule kRefreshMaterializedViewNonConcurrently = {
    "refresh-materialized-view-non-concurrently",
    Severity::kWarning,
    "REFRESH MATERIALIZED VIEW without CONCURRENTLY",
    "reads of the view wait for the whole refresh",
    "ACCESS EXCLUSIVE on {table}",
    kBlocksAll,
    "all",
    "REFRESH MATERIALIZED VIEW CONCURRENTLY mv;  -- needs a unique index on mv",
    "REFRESH MATERIALIZED VIEW daily_totals;",
    &Check,
};

}  // namespace tandem::lint::rules
