// Taking over another tool's history: reads its history table and records those versions as
// applied in tandem's state, without running anything. History tables as the tools create them:
//   rails           schema_migrations(version varchar PRIMARY KEY)
//   dbmate          schema_migrations(version varchar(128) PRIMARY KEY)
//   golang-migrate  schema_migrations(version bigint, dirty boolean): one row, the last version
//   diesel          __diesel_schema_migrations(version varchar(50) PRIMARY KEY, run_on timestamp)
//   flyway          flyway_schema_history(installed_rank, version, ..., type, success)
//   goose           goose_db_version(id, version_id bigint, is_applied boolean, tstamp)
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "migrate/migration.h"
#include "pg/connection.h"

namespace tandem::migrate {

enum class AdoptSource { kRails, kDbmate, kGolangMigrate, kDiesel, kFlyway, kGoose };
std::optional<AdoptSource> ParseAdoptSource(std::string_view name);
std::string_view AdoptSourceName(AdoptSource source);

struct AdoptOptions {
  std::string schema = "tandem";
  Duration lock_wait{60'000};
  bool dry_run = false;
};

struct AdoptReport {
  std::string source;
  std::string table;
  std::vector<std::string> adopted;           // newly recorded as applied
  std::vector<std::string> already_recorded;  // tandem knew them already
  std::vector<std::string> without_file;      // in the tool's history, no file here
};

// kInvalidInput when the tool's history table does not exist; kFailed when golang-migrate's
// history is dirty (a half-applied migration must be repaired first).
Result<AdoptReport> Adopt(pg::Connection& connection, const MigrationSet& files, AdoptSource source,
                          const AdoptOptions& options);

}  // namespace tandem::migrate
