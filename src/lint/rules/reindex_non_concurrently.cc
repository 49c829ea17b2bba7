// reindex-non-concurrently: REINDEX takes SHARE on the table and ACCESS EXCLUSIVE on each
// index (measured), so writes stop and queries using the index wait. REINDEX CONCURRENTLY
// exists since PostgreSQL 12.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind != sql::StatementKind::kReindex || st.concurrent) return;
  std::string target = st.reindex_target + " " + st.relation.ToSql();
  if (st.reindex_target == "SYSTEM") {
    // PostgreSQL rejects REINDEX SYSTEM CONCURRENTLY ("cannot reindex system catalogs
    // concurrently"): there is no online form.
    RawFinding f;
    f.rule = &kReindexNonConcurrently;
    f.offset = st.offset;
    f.lock = "SHARE on each system catalog in turn and ACCESS EXCLUSIVE on its indexes";
    f.message =
        "REINDEX SYSTEM rebuilds every system catalog index; while one is rebuilt, "
        "queries and new connections that read that catalog wait";
    f.recipe =
        "-- REINDEX SYSTEM has no CONCURRENTLY form; run it by hand in a maintenance "
        "window, not from a migration";
    c.Report(std::move(f));
    return;
  }
  if (c.version.major >= 12) {
    c.Report(kReindexNonConcurrently, st.offset,
             "REINDEX " + target + " blocks writes while it rebuilds",
             "-- in a migration with -- tandem:transaction off\nREINDEX " + st.reindex_target +
                 " CONCURRENTLY " + st.relation.ToSql() + ";");
  } else {
    c.Report(kReindexNonConcurrently, st.offset,
             "REINDEX " + target + " blocks writes while it rebuilds; PostgreSQL " +
                 std::to_string(c.version.major) + " has no REINDEX CONCURRENTLY",
             "-- build a replacement: CREATE INDEX CONCURRENTLY <new> ...; DROP INDEX "
             "CONCURRENTLY <old>; ALTER INDEX <new> RENAME TO <old>;");
  }
}

}  // namespace

const Rule kReindexNonConcurrently = {
    "reindex-non-concurrently",
    Severity::kError,
    "REINDEX without CONCURRENTLY",
    "writes to the table stop and queries that use the index wait until the rebuild ends",
    "SHARE on {table}, ACCESS EXCLUSIVE on the index",
    kBlocksWrites,
    "all; REINDEX CONCURRENTLY from 12 (never for REINDEX SYSTEM, whose lock is SHARE on each "
    "system catalog and ACCESS EXCLUSIVE on its indexes)",
    "-- tandem:transaction off\nREINDEX INDEX CONCURRENTLY t_c_idx;",
    "REINDEX INDEX users_email_idx;",
    &Check,
};

}  // namespace tandem::lint::rules
