// `tandem status --target ...`: one database's counts as a line of the fleet table and as an
// entry of the JSON matrix, and the fleet's totals.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/fleet_command.h"
#include "migrate/history.h"

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

FleetStatusRow CountStatus(const std::vector<migrate::StatusEntry>& entries);
// "applied 10  pending 2  running 0  failed 0  drifted 0  oldest pending 20240101120000"
std::string FleetStatusLine(const FleetStatusRow& row);
nlohmann::json FleetStatusJson(const FleetStatusRow& row);

// Sums of the databases that answered, plus how many are up to date / behind.
nlohmann::json FleetStatusTotals(const std::vector<TargetOutput>& outputs);
std::string FleetStatusFooter(const std::vector<TargetOutput>& outputs);

}  // namespace tandem::cli
