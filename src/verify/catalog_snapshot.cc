// The snapshot query is one statement (UNION ALL of three catalogs) because the benchmark
// target is under 20 ms of tracing per statement, and round trips dominate on small schemas.
#include "verify/catalog_snapshot.h"

#include <cstdlib>
#include <sstream>

namespace tandem::verify {
namespace {

std::string SnapshotSql(ScanCounters counters) {
  std::string numscans =
      counters == ScanCounters::kCumulative ? "pg_stat_get_numscans" : "pg_stat_get_xact_numscans";
  return "SELECT 'r'::text, c.oid::text, n.nspname::text, c.relname::text, c.relkind::text, "
         "c.relfilenode::text, CASE WHEN c.relkind IN ('r', 'm') "
         "THEN pg_catalog." +
         numscans +
         "(c.oid)::text END "
         "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
         "WHERE n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema' "
         "AND n.nspname !~ '^pg_(toast|temp_)' AND c.relkind IN ('r','p','i','I','S','v','m','f') "
         "UNION ALL "
         "SELECT 'l', l.relation::text, NULL, NULL, l.mode, NULL, NULL FROM pg_catalog.pg_locks l "
         "WHERE l.locktype = 'relation' AND l.granted AND l.pid = $1 "
         "AND l.database = (SELECT oid FROM pg_catalog.pg_database "
         "WHERE datname = pg_catalog.current_database()) "
         "UNION ALL "
         "SELECT 'f', co.oid::text, co.conname::text, co.conrelid::text, co.confrelid::text, "
         "co.convalidated::text, pg_catalog.array_to_string(co.conkey, ',') "
         "FROM pg_catalog.pg_constraint co WHERE co.contype = 'f'";
}

Oid ToOid(const std::string& text) { return std::strtoll(text.c_str(), nullptr, 10); }

std::vector<int> ParseIntList(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(std::atoi(item.c_str()));
  }
  return out;
}

}  // namespace

std::string RelationInfo::DisplayName() const {
  return schema == "public" ? name : schema + "." + name;
}

const RelationInfo* CatalogSnapshot::Find(Oid oid) const {
  auto it = relations.find(oid);
  return it == relations.end() ? nullptr : &it->second;
}

std::map<std::string, const RelationInfo*> CatalogSnapshot::ByName() const {
  std::map<std::string, const RelationInfo*> out;
  for (const auto& [oid, info] : relations) out[info.DisplayName()] = &info;
  return out;
}

bool CanFlushStatistics(const pg::Connection& connection) {
  return connection.server_version_num() >= 150000;
}

Status FlushStatistics(pg::Connection& connection) {
  // The flush happens when the session goes idle after this very query.
  return connection.Exec("SELECT pg_catalog.pg_stat_force_next_flush()");
}

Result<CatalogSnapshot> TakeSnapshot(pg::Connection& connection, int lock_pid,
                                     ScanCounters counters) {
  static const std::string kTransactionSql = SnapshotSql(ScanCounters::kTransaction);
  static const std::string kCumulativeSql = SnapshotSql(ScanCounters::kCumulative);
  const std::string& sql = counters == ScanCounters::kCumulative ? kCumulativeSql : kTransactionSql;
  TANDEM_ASSIGN_OR_RETURN(auto rows, connection.Query(sql, {std::to_string(lock_pid)}));
  CatalogSnapshot snapshot;
  for (size_t r = 0; r < rows.rows(); ++r) {
    const std::string& k = rows.Get(r, 0);
    if (k == "r") {
      RelationInfo info;
      info.oid = ToOid(rows.Get(r, 1));
      info.schema = rows.Get(r, 2);
      info.name = rows.Get(r, 3);
      info.kind = rows.Get(r, 4).empty() ? 'r' : rows.Get(r, 4)[0];
      info.relfilenode = ToOid(rows.Get(r, 5));
      info.seq_scans = rows.IsNull(r, 6) ? 0 : ToOid(rows.Get(r, 6));
      snapshot.relations[info.oid] = std::move(info);
    } else if (k == "l") {
      auto mode = ParseLockMode(rows.Get(r, 4));
      if (mode) snapshot.locks.emplace(ToOid(rows.Get(r, 1)), *mode);
    } else if (k == "f") {
      ForeignKeyInfo fk;
      fk.oid = ToOid(rows.Get(r, 1));
      fk.name = rows.Get(r, 2);
      fk.table = ToOid(rows.Get(r, 3));
      fk.referenced = ToOid(rows.Get(r, 4));
      fk.validated = rows.Get(r, 5) == "true";
      fk.columns = ParseIntList(rows.Get(r, 6));
      snapshot.foreign_keys[fk.oid] = std::move(fk);
    }
  }
  return snapshot;
}

Result<std::vector<std::pair<Oid, LockMode>>> ReadLocks(pg::Connection& connection, int pid) {
  TANDEM_ASSIGN_OR_RETURN(
      auto rows, connection.Query("SELECT l.relation::text, l.mode FROM pg_catalog.pg_locks l "
                                  "WHERE l.locktype = 'relation' AND l.pid = $1",
                                  {std::to_string(pid)}));
  std::vector<std::pair<Oid, LockMode>> out;
  for (size_t r = 0; r < rows.rows(); ++r) {
    auto mode = ParseLockMode(rows.Get(r, 1));
    if (mode) out.emplace_back(ToOid(rows.Get(r, 0)), *mode);
  }
  return out;
}

std::string_view KindName(char relkind) {
  switch (relkind) {
    case 'r':
      return "table";
    case 'p':
      return "partitioned table";
    case 'i':
      return "index";
    case 'I':
      return "partitioned index";
    case 'S':
      return "sequence";
    case 'v':
      return "view";
    case 'm':
      return "materialized view";
    case 'f':
      return "foreign table";
    default:
      return "relation";
  }
}

}  // namespace tandem::verify
