// Start here: `tandem verify` as one call. Runs every pending migration on a shadow database
// and reports what really happened (tracer.h), what it would cost on the target (sizes.h),
// what lint predicted and whether it held (lint_join.h), and which old-app queries stop
// working (compat.h). `tandem release --verify` calls the same function before applying.
#pragma once

#include <map>
#include <string>

#include "base/status.h"
#include "migrate/migration.h"
#include "pg/connection.h"
#include "verify/report.h"

namespace tandem::verify {

struct VerifyOptions {
  // Empty: start the embedded PostgreSQL as the shadow (removed afterwards).
  std::string shadow_url;
  // The real database. Optional; read-only access is enough. When reachable it gives the
  // pending migrations (its tandem history), the current schema (pg_dump --schema-only),
  // table sizes for the risk estimates and, on request, pg_stat_statements.
  std::string target_url;
  // The real database already connected (tandem verify --target): used instead of opening
  // another connection to target_url, which pg_dump still uses.
  pg::Connection* target_connection = nullptr;
  std::string state_schema = "tandem";
  int sample_rows = 0;
  std::string old_queries_file;  // --old-queries
  // --new-queries: the new app's SQL, checked once the pending migrations have run (online
  // ones expanded, on the plans' new_app_search_path).
  std::string new_queries_file;
  bool from_pg_stat_statements = false;           // --from-pg-stat-statements (needs the target)
  bool lint = true;                               // join lint's findings
  std::map<std::string, std::string> lint_rules;  // tandem.toml [lint.rules]
};

// Fills `report`. Returns a non-ok Status only when verify could not do its work: bad input
// (kInvalidInput: a migration that does not parse, an unreadable --old-queries file) or no
// shadow (kUnavailable). What verify found, including migrations that fail on the shadow,
// is in the report; report.HasErrors() decides exit 1.
Result<VerifyReport> Verify(migrate::MigrationSet& files, const VerifyOptions& options);

}  // namespace tandem::verify
