// One round trip that captures what the tracer compares before and after a statement: every
// user relation with its relfilenode and (inside a transaction) its sequential scans so far,
// the relation locks a backend holds, and every foreign key. Diffing two snapshots gives
// rewrites, scans, locks taken, and objects created or dropped.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "pg/connection.h"
#include "verify/lock_modes.h"

namespace tandem::verify {

using Oid = long long;

struct RelationInfo {
  Oid oid = 0;
  std::string schema;
  std::string name;
  char kind = 'r';          // pg_class.relkind
  Oid relfilenode = 0;      // 0 for views and partitioned tables (no storage)
  long long seq_scans = 0;  // pg_stat_xact: sequential scans in the current transaction

  // "users" in public, "audit.log" elsewhere.
  std::string DisplayName() const;
};

struct ForeignKeyInfo {
  Oid oid = 0;
  std::string name;
  Oid table = 0;       // conrelid: the referencing table
  Oid referenced = 0;  // confrelid
  bool validated = true;
  std::vector<int> columns;  // conkey: attnums of the referencing columns
};

struct CatalogSnapshot {
  std::map<Oid, RelationInfo> relations;
  std::set<std::pair<Oid, LockMode>> locks;  // granted relation locks of the traced backend
  std::map<Oid, ForeignKeyInfo> foreign_keys;

  const RelationInfo* Find(Oid oid) const;
  // Relations by display name (an index rebuilt under the same name is the same relation).
  std::map<std::string, const RelationInfo*> ByName() const;
};

// Which scan counters a snapshot reads. Inside a transaction, the transaction's own
// (pg_stat_get_xact_numscans). An autocommit statement's transaction-local counters are gone
// by the time the next query runs, so its scans are read from the cumulative counters, after
// FlushStatistics has made them visible.
enum class ScanCounters { kTransaction, kCumulative };

// `lock_pid` is the backend whose locks are read (usually connection.backend_pid()).
Result<CatalogSnapshot> TakeSnapshot(pg::Connection& connection, int lock_pid,
                                     ScanCounters counters = ScanCounters::kTransaction);

// Whether the server can flush a session's statistics on request (PostgreSQL 15 and later).
bool CanFlushStatistics(const pg::Connection& connection);

// Makes this session's pending statistics visible in the cumulative counters: the server
// otherwise flushes them at most once a second.
Status FlushStatistics(pg::Connection& connection);

// Granted and awaited relation locks of `pid` only (the second session's fast poll).
Result<std::vector<std::pair<Oid, LockMode>>> ReadLocks(pg::Connection& connection, int pid);

// "table", "index", "sequence", "view", ... for pg_class.relkind.
std::string_view KindName(char relkind);

}  // namespace tandem::verify
