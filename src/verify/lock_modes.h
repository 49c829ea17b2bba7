// PostgreSQL's table-level lock modes, and what each one blocks for a running application.
//
// pg_locks names modes "AccessShareLock" ... "AccessExclusiveLock"; people (and the docs) say
// "ACCESS EXCLUSIVE". The classification follows the conflict table in the PostgreSQL docs
// ("Table-Level Locks"): reads are SELECT (ACCESS SHARE), writes are INSERT/UPDATE/DELETE
// (ROW EXCLUSIVE), schema changes are other DDL, VACUUM and CREATE INDEX CONCURRENTLY.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::verify {

enum class LockMode {
  kAccessShare,
  kRowShare,
  kRowExclusive,
  kShareUpdateExclusive,
  kShare,
  kShareRowExclusive,
  kExclusive,
  kAccessExclusive,
};

// "AccessExclusiveLock" (pg_locks.mode) to kAccessExclusive; nullopt for other names.
std::optional<LockMode> ParseLockMode(std::string_view pg_locks_mode);
// "ACCESS EXCLUSIVE", as the docs and LOCK TABLE spell it.
std::string_view LockModeSql(LockMode mode);
// "AccessExclusiveLock", as pg_locks spells it.
std::string_view LockModeName(LockMode mode);

// True when a session holding `held` makes a session requesting `requested` wait.
bool Conflicts(LockMode held, LockMode requested);

struct LockImpact {
  bool blocks_reads = false;           // SELECT waits
  bool blocks_writes = false;          // INSERT, UPDATE, DELETE wait
  bool blocks_schema_changes = false;  // some DDL waits (every mode blocks ACCESS EXCLUSIVE)
};
LockImpact ImpactOf(LockMode mode);
// ["reads", "writes", "schema changes"], the parts that apply.
std::vector<std::string> BlockedList(LockMode mode);
// "blocks reads and writes", "blocks writes", "blocks only schema changes".
std::string DescribeImpact(LockMode mode);

}  // namespace tandem::verify
