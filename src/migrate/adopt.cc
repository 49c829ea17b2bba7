#include "migrate/adopt.h"

#include <nlohmann/json.hpp>

#include "migrate/history.h"
#include "migrate/runner_lock.h"
#include "migrate/state.h"
#include "pg/quote.h"

namespace tandem::migrate {
namespace {

struct SourceInfo {
  AdoptSource source;
  const char* name;
  const char* table;
};

constexpr SourceInfo kSources[] = {
    {AdoptSource::kRails, "rails", "schema_migrations"},
    {AdoptSource::kDbmate, "dbmate", "schema_migrations"},
    {AdoptSource::kGolangMigrate, "golang-migrate", "schema_migrations"},
    {AdoptSource::kDiesel, "diesel", "__diesel_schema_migrations"},
    {AdoptSource::kFlyway, "flyway", "flyway_schema_history"},
    {AdoptSource::kGoose, "goose", "goose_db_version"},
};

const SourceInfo& Info(AdoptSource source) {
  for (const auto& s : kSources)
    if (s.source == source) return s;
  return kSources[0];
}

Result<bool> TableExists(pg::Connection& connection, const std::string& table) {
  TANDEM_ASSIGN_OR_RETURN(auto r, connection.Query("SELECT pg_catalog.to_regclass($1) IS NOT NULL",
                                                   {pg::QuoteIdentifier(table)}));
  return r.GetBool(0, 0);
}

// The versions the tool considers applied.
Result<std::vector<std::string>> ReadToolVersions(pg::Connection& connection,
                                                  const MigrationSet& files, AdoptSource source) {
  std::vector<std::string> versions;
  auto all_up_to = [&](const std::string& last) {
    for (const auto& m : files.migrations)
      if (files.Compare(m.version, last) <= 0) versions.push_back(m.version);
  };
  switch (source) {
    case AdoptSource::kRails:
    case AdoptSource::kDbmate:
    case AdoptSource::kDiesel: {
      std::string table = Info(source).table;
      TANDEM_ASSIGN_OR_RETURN(auto r, connection.Query("SELECT version::text FROM " +
                                                       pg::QuoteIdentifier(table) + " ORDER BY 1"));
      for (size_t i = 0; i < r.rows(); ++i) versions.push_back(r.Get(i, 0));
      break;
    }
    case AdoptSource::kGolangMigrate: {
      TANDEM_ASSIGN_OR_RETURN(
          auto r, connection.Query("SELECT version::text, dirty FROM schema_migrations"));
      if (r.rows() == 0) break;
      if (r.GetBool(0, 1)) {
        return Status::Failed("golang-migrate's history says version " + r.Get(0, 0) +
                              " is dirty: it failed half-way")
            .WithDetail("adopting it would record a half-applied migration as applied")
            .WithHint("check the schema by hand, then run \"migrate force " + r.Get(0, 0) +
                      "\" (if it is complete) or the previous version, and adopt again");
      }
      all_up_to(r.Get(0, 0));
      break;
    }
    case AdoptSource::kFlyway: {
      TANDEM_ASSIGN_OR_RETURN(auto r,
                              connection.Query("SELECT version, type FROM flyway_schema_history "
                                               "WHERE success AND version IS NOT NULL "
                                               "ORDER BY installed_rank"));
      for (size_t i = 0; i < r.rows(); ++i) {
        // A baseline stands for every version up to it.
        if (r.Get(i, 1) == "BASELINE") {
          all_up_to(r.Get(i, 0));
        } else {
          versions.push_back(r.Get(i, 0));
        }
      }
      break;
    }
    case AdoptSource::kGoose: {
      TANDEM_ASSIGN_OR_RETURN(
          auto r, connection.Query("SELECT DISTINCT ON (version_id) version_id::text, is_applied "
                                   "FROM goose_db_version ORDER BY version_id, id DESC"));
      for (size_t i = 0; i < r.rows(); ++i) {
        // goose inserts version 0 when it creates its table; it is not a migration.
        if (r.Get(i, 0) != "0" && r.GetBool(i, 1)) versions.push_back(r.Get(i, 0));
      }
      break;
    }
  }
  return versions;
}

}  // namespace

std::optional<AdoptSource> ParseAdoptSource(std::string_view name) {
  for (const auto& s : kSources)
    if (name == s.name) return s.source;
  return std::nullopt;
}

std::string_view AdoptSourceName(AdoptSource source) { return Info(source).name; }

Result<AdoptReport> Adopt(pg::Connection& connection, const MigrationSet& files, AdoptSource source,
                          const AdoptOptions& options) {
  AdoptReport report;
  report.source = Info(source).name;
  report.table = Info(source).table;
  TANDEM_ASSIGN_OR_RETURN(bool exists, TableExists(connection, report.table));
  if (!exists) {
    return Status::InvalidInput("no " + report.source + " history here: table \"" + report.table +
                                "\" does not exist")
        .WithHint("check --from and the database URL (and its search_path)");
  }
  TANDEM_ASSIGN_OR_RETURN(RunnerLock lock,
                          RunnerLock::Acquire(connection, options.schema, options.lock_wait));
  TANDEM_ASSIGN_OR_RETURN(std::vector<std::string> versions,
                          ReadToolVersions(connection, files, source));
  TANDEM_ASSIGN_OR_RETURN(std::vector<HistoryRow> history, ReadHistory(connection, options.schema));
  auto recorded = [&](const std::string& v) {
    for (const auto& row : history)
      if (files.Compare(row.version, v) == 0 && row.status == "succeeded") return true;
    return false;
  };
  struct Entry {
    std::string version, name, phase, checksum;
  };
  std::vector<Entry> to_record;
  for (const auto& v : versions) {
    if (recorded(v)) {
      report.already_recorded.push_back(v);
      continue;
    }
    const Migration* m = files.Find(v);
    if (!m) report.without_file.push_back(v);
    // Recorded under the file's spelling of the version (goose's 1 is the file's 00001).
    to_record.push_back(
        m ? Entry{m->version, m->name, std::string(PhaseName(m->phase)), m->checksum}
          : Entry{v, "", "pre-deploy", ""});
    report.adopted.push_back(to_record.back().version);
  }
  if (options.dry_run || to_record.empty()) return report;
  TANDEM_RETURN_IF_ERROR(EnsureStateSchema(connection, options.schema));
  TANDEM_RETURN_IF_ERROR(connection.Exec("BEGIN"));
  std::string table = pg::QuoteIdentifier(options.schema) + ".migrations";
  for (const auto& e : to_record) {
    Status s = connection.Exec(
        "INSERT INTO " + table +
            " (version, name, phase, checksum, status, attempts, finished_at, adopted_from, "
            "applied_by_host, applied_by_pid, tandem_version) VALUES ($1, $2, $3, $4, "
            "'succeeded', 0, now(), $5, $6, pg_backend_pid(), $7) ON CONFLICT (version) DO "
            "UPDATE SET status = 'succeeded', checksum = EXCLUDED.checksum, adopted_from = "
            "EXCLUDED.adopted_from, finished_at = now()",
        {e.version, e.name, e.phase, e.checksum, report.source, HostName(), TANDEM_VERSION});
    if (s.ok()) {
      s = RecordEvent(connection, options.schema, e.version, "adopted",
                      nlohmann::json{{"from", report.source}, {"table", report.table}}.dump());
    }
    if (!s.ok()) {
      connection.Exec("ROLLBACK");
      return s;
    }
  }
  TANDEM_RETURN_IF_ERROR(connection.Exec("COMMIT"));
  return report;
}

}  // namespace tandem::migrate
