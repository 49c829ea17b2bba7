// `tandem status --target ...`: one database's counts as a line of the fleet table and as an
// entry of the JSON matrix, and the fleet's totals.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/fleet_command.h"
#include "config/config.h"
#include "migrate/history.h"
#include "pg/connection.h"

namespace tandem::cli {

struct FleetStatusRow {
  int total = 0;
  int applied = 0;
  int pending = 0;
  int running = 0;
  int failed = 0;
  int drifted = 0;
  int missing_file = 0;
  std::string oldest_pending;  // version; empty when nothing is pending
};

// What a fleet's status line needs of one database, read in one round trip (two when a
// migration is left "running": then who holds the locks decides what that means, as on one
// database): the history's states and each queued migration's job status. The same entries,
// as far as CountStatus and the job statuses go, as the single-database status reads with
// six round trips; on a fleet of hundreds, each round trip on a fresh session costs more than
// the work (two on a database tandem never touched). nullopt when the state schema is older
// than the jobs table: the caller then reads it the long way, which knows every older layout.
// `history` holds the rows the entries point to. The job statuses (only --exit-code needs
// them: a cancelled job is not work left) are read only `with_jobs`.
Result<std::optional<std::vector<migrate::StatusEntry>>> ReadFleetStatusEntries(
    pg::Connection& connection, const config::Config& config, const migrate::MigrationSet& files,
    std::vector<migrate::HistoryRow>& history, bool with_jobs);

// What rows left "running" in `history` mean: a runner or worker still at it (it holds its lock)
// or one that died. Looks at pg_locks only when such a row exists (the costliest lookup of a
// status, on each database of a fleet).
void MarkLeftRunning(pg::Connection& connection, const std::string& schema,
                     const std::vector<migrate::HistoryRow>& history,
                     std::vector<migrate::StatusEntry>& entries);

FleetStatusRow CountStatus(const std::vector<migrate::StatusEntry>& entries);
// "applied 10  pending 2  running 0  failed 0  drifted 0  oldest pending 20240101120000"
std::string FleetStatusLine(const FleetStatusRow& row);
nlohmann::json FleetStatusJson(const FleetStatusRow& row);

// Sums of the databases that answered, plus how many are up to date / behind.
nlohmann::json FleetStatusTotals(const std::vector<TargetOutput>& outputs);
std::string FleetStatusFooter(const std::vector<TargetOutput>& outputs);

}  // namespace tandem::cli
