// The shadow database verify runs migrations on: the embedded PostgreSQL by default (started
// here, removed when the Shadow dies), or a database the user names with --shadow-url (which
// verify changes: it must be a scratch database). It is brought to the current schema by a
// schema-only dump of the target, or by applying the already-applied migrations, and can be
// filled with generated rows so that scans and rewrites take measurable time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "migrate/migration.h"
#include "pg/connection.h"
#include "pg/embedded_server.h"
#include "pg/url.h"

namespace tandem::verify {

struct Shadow {
  std::unique_ptr<pg::EmbeddedServer> server;  // nullptr for --shadow-url
  pg::DatabaseUrl url;
  std::string description;  // "embedded PostgreSQL 15.20" or the redacted URL
};

// Starts the embedded server (empty `shadow_url`) or checks that the given URL parses.
// kUnavailable when no PostgreSQL binaries can be found.
Result<Shadow> OpenShadow(const std::string& shadow_url);

// Restores `pg_dump --schema-only` of the target into the shadow, leaving out tandem's state
// schema. Statements the shadow refuses (an extension it does not have) become warnings; a
// pg_dump that cannot run is an error, so the caller can fall back to the migration files.
Status RestoreSchemaDump(const pg::DatabaseUrl& target, const std::string& state_schema,
                         pg::Connection& shadow, std::vector<std::string>* warnings);

// Runs a migration's up section untraced (in one transaction unless it is transaction off).
Status ApplyUntraced(pg::Connection& shadow, const migrate::Migration& migration);

// Inserts `rows` generated rows into every table, parents before children so that NOT NULL
// foreign keys can point at real rows, then ANALYZE. Best effort: a table whose constraints
// the generated values do not satisfy is left as it is and named in `warnings`.
Status FillSampleRows(pg::Connection& shadow, int rows, std::vector<std::string>* warnings);

}  // namespace tandem::verify
