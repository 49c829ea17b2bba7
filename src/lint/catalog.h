// The live-catalog side of the schema model: when a database is configured, lint starts the
// pending migrations from what the database really holds (tables, columns, constraints,
// indexes) instead of an empty model, and targets the server's own version. Migrations the
// database has already applied are linted by replaying history: the catalog their own
// application produced would judge them against themselves (`CREATE TABLE IF NOT EXISTS t`
// then `CREATE INDEX ON t` looks like an index on an existing table once applied).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "lint/engine.h"
#include "lint/finding.h"
#include "lint/schema.h"
#include "pg/connection.h"

namespace tandem::lint {

// Reads every user table's columns, constraints and indexes. kUnavailable on a lost
// connection; other query errors keep their SQLSTATE.
Result<Schema> ReadCatalog(pg::Connection& connection);

// The connected server's version, with its minor release.
PgVersion ServerVersion(const pg::Connection& connection);

// What a reachable database tells lint.
struct LiveDatabase {
  Schema catalog;
  // Versions tandem's history records as applied (status succeeded); they count only for
  // files under `migrations_dir`, the configured migrations directory.
  std::set<std::string> applied;
  std::string migrations_dir;
};

// The versions recorded as applied in `state_schema`.migrations; empty when tandem's state
// schema does not exist (nothing applied through tandem).
Result<std::set<std::string>> ReadAppliedVersions(pg::Connection& connection,
                                                  const std::string& state_schema);

// Lints `sequences` as the runner will meet them: each applied migration in the history of
// the migrations before it, replayed from an empty schema; the others from the live catalog,
// with only the unapplied migrations before them replayed on top of it.
LintReport LintWithLiveDatabase(std::vector<LintSequence> sequences, const LiveDatabase& live,
                                const LintOptions& options);

}  // namespace tandem::lint
