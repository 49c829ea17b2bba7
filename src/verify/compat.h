// Old-app compatibility (seeds 001 and 003): "a migration is only safe if the old app works
// with the new state of the DB". The queries the running app issues are prepared on the shadow
// before the pending migrations and again after every statement that changes the schema; a
// query that prepared before and no longer does is a breaking change, reported with the
// statement that broke it. PREPARE infers the types of `$1` parameters, so
// pg_stat_statements' normalised text is accepted as it is. An INSERT that leaves out a
// column that became NOT NULL without a default still prepares but fails on every call, so it
// is checked against the catalog too.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "pg/connection.h"
#include "sql/shape.h"
#include "verify/report.h"
#include "verify/tracer.h"

namespace tandem::verify {

struct OldQuery {
  std::string sql;
  std::string source;  // "queries.sql:12" or "pg_stat_statements"
  sql::StatementShape shape;
};

// Every statement of a file of SQL (`--old-queries`). kInvalidInput when the file cannot be
// read or does not parse, with the file and line.
Result<std::vector<OldQuery>> ReadOldQueriesFile(const std::string& path);

// The statements pg_stat_statements recorded for the target's current database
// (`--from-pg-stat-statements`), most called first. kInvalidInput with a hint when the
// extension is not installed there, or installed but not in shared_preload_libraries.
// Statements of other roles that the session may not see (no pg_read_all_stats) are left out
// and counted in `warnings`.
Result<std::vector<OldQuery>> ReadPgStatStatements(pg::Connection& target,
                                                   std::vector<std::string>* warnings,
                                                   int limit = 5000);

// Builds OldQuery values from SQL texts (one statement each); texts that do not parse are
// skipped and named in `skipped`.
std::vector<OldQuery> ShapeQueries(const std::vector<std::string>& texts, const std::string& source,
                                   std::vector<std::string>* skipped);

class CompatChecker : public TraceObserver {
 public:
  explicit CompatChecker(std::vector<OldQuery> queries);

  // Prepares every query on the schema as it is before the pending migrations. Queries that
  // cannot be prepared (utility statements, queries already failing) are skipped and counted
  // in the summary, so that only changes made by the migrations are reported.
  Status Baseline(pg::Connection& shadow);

  void AfterStatement(pg::Connection& shadow, const migrate::Migration& migration,
                      const StatementTrace& trace, const CatalogSnapshot& before,
                      const CatalogSnapshot& after, bool in_transaction) override;

  const std::vector<CompatBreak>& breaks() const { return breaks_; }
  const CompatSummary& summary() const { return summary_; }

  // The server's error when `query` does not prepare now, nullopt when it does (also used for
  // the new app's queries, new_app.h).
  std::optional<Status> TryPrepare(pg::Connection& shadow, const std::string& query,
                                   bool in_transaction);
  // Why the INSERT fails on every call now (a NOT NULL column without default left out).
  std::optional<std::string> MissingNotNull(pg::Connection& shadow, const OldQuery& query);

 private:
  std::vector<OldQuery> queries_;
  std::vector<bool> live_;  // prepared at baseline and not broken yet
  std::vector<CompatBreak> breaks_;
  CompatSummary summary_;
};

}  // namespace tandem::verify
