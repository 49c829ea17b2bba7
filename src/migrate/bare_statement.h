// Statements of a `transaction off` migration that PostgreSQL refuses inside a transaction
// block (CREATE INDEX CONCURRENTLY, VACUUM, ...), and how to resume after one was interrupted.
//
// Every other statement of such a migration commits in one transaction with its progress row,
// so a crash leaves both or neither. A bare statement cannot: the server may finish it after
// tandem died, or stop half-way (an interrupted CREATE INDEX CONCURRENTLY leaves an INVALID
// index). So when a run resumes at a bare statement, the catalog decides whether it completed,
// and what to clean up before running it again.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "migrate/migration.h"
#include "pg/connection.h"

namespace tandem::migrate {

enum class BareKind {
  kNone,                         // runs in a transaction with its progress row
  kCreateIndexConcurrently,      // done when the index exists and is valid
  kDropIndexConcurrently,        // done when the index no longer exists
  kReindexConcurrently,          // repeatable; drops the _ccnew copies an interruption leaves
  kDetachPartitionConcurrently,  // done when detached; FINALIZE when left pending
  kMaintenance,                  // VACUUM, REINDEX SYSTEM/DATABASE, CLUSTER: repeatable
  kUnknown,                      // refused inside a transaction block, completion unknowable
};

struct BareStatement {
  BareKind kind = BareKind::kNone;
  std::string index;      // CREATE/DROP INDEX CONCURRENTLY, REINDEX INDEX: the SQL name
  std::string table;      // REINDEX TABLE; DETACH: the partitioned table (SQL name)
  std::string partition;  // DETACH: the partition (SQL name)
};

// ASCII case-insensitive substring search, for the cheap keyword checks before a parse.
bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle);

// From the statement's parse tree. Statements the model does not know stay kNone: they are
// tried inside a transaction, and one the server refuses there (SQLSTATE 25001) is kUnknown.
BareStatement ClassifyBare(const Statement& statement);

// What to do at a bare statement where an earlier run may have stopped.
struct BareResume {
  bool done = false;                 // it completed: record it, do not run it
  std::vector<std::string> cleanup;  // run these first (DROP INDEX CONCURRENTLY ...)
  std::string replacement;           // run this instead (DETACH ... FINALIZE), if not empty
  std::string explanation;           // for the report and the "resumed" event
};

// Reads the catalog. kUnknown statements cannot be judged: kFailed with a hint.
Result<BareResume> PlanBareResume(pg::Connection& connection, const BareStatement& bare,
                                  const Statement& statement);

}  // namespace tandem::migrate
