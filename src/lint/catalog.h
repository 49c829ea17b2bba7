// The live-catalog side of the schema model: when a database is configured, lint starts from
// what the database really holds (tables, columns, constraints, indexes) instead of an empty
// model, and targets the server's own version.
#pragma once

#include "base/status.h"
#include "lint/finding.h"
#include "lint/schema.h"
#include "pg/connection.h"

namespace tandem::lint {

// Reads every user table's columns, constraints and indexes. kUnavailable on a lost
// connection; other query errors keep their SQLSTATE.
Result<Schema> ReadCatalog(pg::Connection& connection);

// The connected server's version, with its minor release.
PgVersion ServerVersion(const pg::Connection& connection);

}  // namespace tandem::lint
